"""Assembling the local stack."""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sendrail.clock import parse_rfc3339
from sendrail.functions_spec import FUNCTIONS, schedules

from sendrail_local.answers import Answers
from sendrail_local.aws import EmbeddedAws, LocalResources
from sendrail_local.clock import LocalClock
from sendrail_local.event_sources import SqsEventSource
from sendrail_local.events import scheduled_event
from sendrail_local.http_front import Front, serve
from sendrail_local.imap_server import LocalImapServer
from sendrail_local.lambdas import Functions
from sendrail_local.outbox import Outbox
from sendrail_local.provider_fakes import Fakes
from sendrail_local.scheduler import Scheduler
from sendrail_local.sink import SmtpSink
from sendrail_local.world import World

log = logging.getLogger("sendrail.local")

DEFAULT_TENANT = "ten_default"


@dataclass(frozen=True)
class LocalConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    smtp_sink_port: int = 2525
    imap_port: int = 1143
    virtual_start: datetime | None = None
    admin_key: str | None = None
    owner_key: str | None = None
    dispatch_every: float | None = (
        None  # wall clock only; the virtual clock uses EventBridge's rate
    )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> LocalConfig:
        env = dict(os.environ if env is None else env)
        virtual = env.get("SENDRAIL_VIRTUAL_CLOCK")
        every = env.get("SENDRAIL_DISPATCH_EVERY")
        return cls(
            host=env.get("SENDRAIL_HOST", "127.0.0.1"),
            port=int(env.get("SENDRAIL_PORT", "8000")),
            smtp_sink_port=int(env.get("SENDRAIL_SMTP_SINK_PORT", "2525")),
            imap_port=int(env.get("SENDRAIL_LOCAL_IMAP_PORT", "1143")),
            virtual_start=parse_rfc3339(virtual) if virtual else None,
            admin_key=env.get("SENDRAIL_LOCAL_ADMIN_KEY") or None,
            owner_key=env.get("SENDRAIL_LOCAL_OWNER_KEY") or None,
            dispatch_every=float(every) if every else None,
        )


class LocalStack:
    def __init__(self, config: LocalConfig) -> None:
        self.config = config
        self.world = World()
        self.clock = LocalClock(config.virtual_start)
        self.aws = EmbeddedAws()
        self.outbox = Outbox(self.clock, mailbox_of=self._mailbox_of)
        self.sink = SmtpSink(self.outbox, config.host, config.smtp_sink_port)
        self.fakes = Fakes(self.clock, self.outbox, config.host)
        self.imap = LocalImapServer(config.imap_port, config.host)
        self.answers = Answers(self.clock, self.outbox, self._deliver_answer)
        self.outbox.listen(self.answers.observe)
        self.functions = Functions()
        self.scheduler = Scheduler(self.clock, self.world)
        self.front: Front | None = None
        self.sources: list[SqsEventSource] = []
        self.resources: LocalResources | None = None
        self.admin_key = config.admin_key or f"sr_admin_{secrets.token_urlsafe(24)}"
        self.owner_key = config.owner_key or f"sr_owner_{secrets.token_urlsafe(24)}"
        self.base_url = f"http://{config.host}:{config.port}"

    def _environment(self, resources: LocalResources) -> None:
        os.environ.update(
            {
                "SENDRAIL_STAGE": "local",
                "SENDRAIL_TABLES": json.dumps(resources.tables),
                "SENDRAIL_QUEUES": json.dumps(resources.queues),
                "SENDRAIL_KMS_KEY_ID": resources.kms_key_id,
                "SENDRAIL_SIGNING_KEY": os.environ.get("SENDRAIL_LOCAL_SIGNING_KEY")
                or secrets.token_urlsafe(32),
                "SENDRAIL_PUBLIC_BASE_URL": self.base_url,
                "SENDRAIL_RECEIVE_WAIT_SECONDS": "0",
                "SENDRAIL_STOP_MARGIN_SECONDS": "2",
                # The sink and the provider fakes listen on 127.0.0.1.
                "SENDRAIL_ALLOW_PRIVATE_HOSTS": "true",
                "POWERTOOLS_SERVICE_NAME": "sendrail",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_NAMESPACE": "Sendrail",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
                # Gmail and Outlook: the local fakes of Google and Microsoft, unless the
                # environment names an endpoint itself (a test's deliberately slow provider).
                **{k: v for k, v in self.fakes.env().items() if k not in os.environ},
            }
        )

    @staticmethod
    def _mailbox_of(message_id: str, to: str) -> str | None:
        """The mailbox that sent ``message_id`` to ``to``: its Message-ID names the
        campaign (``<campaign.digest@domain>``), whose recipient records the mailbox."""
        from functions.enqueue.wiring import deps  # noqa: PLC0415 - after the environment

        local = message_id.strip().strip("<>").split("@", 1)[0]
        campaign_id = local.rsplit(".", 1)[0]
        if not campaign_id or campaign_id == local:
            return None
        recipient = deps().recipients.get(campaign_id, to)
        return recipient.mailbox_id if recipient is not None else None

    def _deliver_answer(self, via: str, sender: str, raw: bytes) -> None:
        """Into the sending mailbox's inbox: the IMAP server for SMTP mailboxes (the user
        named by the sender's address), the fake for Gmail and Outlook ones."""
        if via == "smtp":
            self.imap.deliver(sender, raw, when=self.clock.now())
        else:
            self.fakes.deliver(sender, raw)

    def _flush_answers(self) -> None:
        self.answers.flush()

    def _bootstrap(self) -> None:
        from sendrail.services import auth  # noqa: PLC0415

        from functions.enqueue.wiring import deps  # noqa: PLC0415 - after the environment

        auth.ensure_admin_key(deps(), self.admin_key)
        auth.ensure_tenant(deps(), DEFAULT_TENANT, "default", self.owner_key)

    def schedule(self) -> None:
        """Registers the spec's schedules (and the local answers' check) with the scheduler."""
        for function, every_seconds in schedules().items():
            every: float = every_seconds
            if not self.clock.virtual and function == "dispatch" and self.config.dispatch_every:
                every = self.config.dispatch_every
            elif not self.clock.virtual and function == "dispatch":
                every = 5.0  # snappier by hand; the virtual clock keeps EventBridge's rate

            def run(name: str = function) -> None:
                self.functions.invoke(name, scheduled_event(f"sendrail-{name}", self.clock.now()))

            self.scheduler.add(function, every, run)
        # The local recipients' answers that fall due (bounces after a minute, replies
        # after ten): checked as often as the stack clock moves by 15 s.
        self.scheduler.add("local_answers", 15, self._flush_answers)

    def start(self) -> None:
        self.resources = self.aws.start()
        self._environment(self.resources)
        self.sink.start()
        self.fakes.start()
        self.imap.start()
        os.environ["SENDRAIL_LOCAL_SMTP_SINK"] = f"{self.sink.host}:{self.sink.port}"
        self._bootstrap()
        self.schedule()
        self.front, _ = serve(self, self.config.host, self.config.port)
        self.sources = self.event_sources(self.resources.queues)
        for source in self.sources:
            source.start()
        if not self.clock.virtual:
            self.scheduler.start_background()

    def event_sources(self, queues: dict[str, str]) -> list[SqsEventSource]:
        """The spec's SQS event source mappings (CDK: an SqsEventSource each), not started;
        ``queues``: logical name -> URL."""
        built = []
        for spec in FUNCTIONS.values():
            for mapping in spec.sources:

                def invoke(event: dict[str, Any], name: str = spec.name) -> Any:
                    return self.functions.invoke(name, event)

                built.append(
                    SqsEventSource(
                        queues[mapping.queue],
                        invoke,
                        guard=self.world.reader if self.clock.virtual else None,
                        function=spec.name,
                        batch_size=mapping.batch_size,
                    )
                )
        return built

    def stop(self) -> None:
        for source in self.sources:
            source.stop()
        self.scheduler.stop()
        if self.front is not None:
            self.front.shutdown()
            self.front.server_close()
        self.sink.stop()
        self.fakes.stop()
        self.imap.stop()
        self.aws.stop()
        self.clock.stop()

    def banner(self) -> str:
        clock = (
            f"virtual, at {self.clock.now().isoformat()}" if self.clock.virtual else "wall clock"
        )
        return "\n".join(
            [
                "sendrail local stack is up",
                f"  API            {self.base_url}   (OpenAPI: {self.base_url}/openapi.json)",
                f"  dashboard      {self.base_url}/app/   (sign in with the owner key below)",
                f"  SMTP sink      smtp://{self.sink.host}:{self.sink.port}"
                f"   (received: {self.base_url}/_local/outbox)",
                f"  Google fake    {self.fakes.google_base}   (Gmail mailboxes connect here)",
                f"  Microsoft fake {self.fakes.microsoft_base}   (Outlook mailboxes)",
                f"  IMAP server    imap://{self.imap.host}:{self.imap.port}"
                "   (any user and password; SMTP mailboxes' inboxes)",
                f"  clock          {clock}",
                f"  admin key      {self.admin_key}",
                f"  owner key      {self.owner_key}   (tenant {DEFAULT_TENANT})",
                "  state lives in this process; Ctrl-C stops it",
            ]
        )
