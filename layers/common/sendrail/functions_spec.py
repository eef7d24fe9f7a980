"""The functions: one definition that the CDK app, the local stack and the tests read.

Each :class:`FunctionSpec` names a Lambda function's handler, its timeout and memory, the
EventBridge schedule that fires it (if any), the SQS queues that feed it (event source
mappings) and its settings model. The settings model lives with the function's own code
(``functions/<name>/settings.py``, not shipped in this layer), so it is named here by its
import path; ``tests/infra`` checks that the path resolves to the model the function's
:class:`sendrail.wiring.Wiring` reads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueSource:
    """An SQS event source mapping: ``queue`` (a logical queue name of
    ``sendrail.storage.queues``) hands up to ``batch_size`` records to the function at once,
    waiting up to ``window_seconds`` to gather them; failed records are reported one by one
    (partial batch responses)."""

    queue: str
    batch_size: int
    window_seconds: int = 0


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    timeout: int  # seconds
    memory: int  # MB
    settings: str  # "module:Class" of the function's settings model
    every_seconds: int | None = None  # EventBridge rate, or None: not scheduled
    sources: tuple[QueueSource, ...] = ()
    uses_kms: bool = True  # seals or opens secrets (mailbox credentials, tokens)

    @property
    def module(self) -> str:
        """The handler's module (the Lambda runtime imports it)."""
        return f"functions.{self.name}.handler"

    @property
    def handler(self) -> str:
        """The Lambda ``Handler`` setting."""
        return f"{self.module}.handler"

    @property
    def wiring(self) -> str:
        """The module holding the function's :class:`sendrail.wiring.Wiring` as ``wiring``."""
        return f"functions.{self.name}.wiring"


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        # The management API (29 s: API Gateway's limit), the import worker, and the
        # outgoing webhooks: five deliveries per invocation (five endpoints hanging for the
        # 5 s POST timeout fit in 29 s); opens gathered 100 to an event, a minute at most.
        FunctionSpec(
            "enqueue",
            timeout=29,
            memory=1024,
            settings="functions.enqueue.settings:EnqueueSettings",
            sources=(
                QueueSource("import", batch_size=1),
                QueueSource("webhooks", batch_size=5),
                QueueSource("webhook-items", batch_size=100, window_seconds=60),
            ),
        ),
        # Sends the queued mail, fired every minute (one rule per concurrent dispatcher).
        FunctionSpec(
            "dispatch",
            timeout=90,
            memory=1024,
            settings="functions.dispatch.settings:DispatchSettings",
            every_seconds=60,
        ),
        # The public endpoints (pixel, clicks, unsubscribe, SES feedback), and the hits it
        # could not record at once, from the events queue.
        FunctionSpec(
            "tracking",
            timeout=10,
            memory=512,
            settings="functions.tracking.settings:TrackingSettings",
            sources=(QueueSource("events", batch_size=10),),
            uses_kms=False,
        ),
        # Refreshes Gmail and Outlook tokens before they expire.
        FunctionSpec(
            "token_refresh",
            timeout=60,
            memory=512,
            settings="functions.token_refresh.settings:TokenRefreshSettings",
            every_seconds=300,
        ),
        # Reads the sending mailboxes' inboxes: bounces, replies, unsubscribe replies.
        FunctionSpec(
            "inbox",
            timeout=120,
            memory=512,
            settings="functions.inbox.settings:InboxSettings",
            every_seconds=120,
        ),
    )
}


def schedules() -> dict[str, int]:
    """The functions EventBridge fires: name -> rate in seconds."""
    return {s.name: s.every_seconds for s in FUNCTIONS.values() if s.every_seconds is not None}
