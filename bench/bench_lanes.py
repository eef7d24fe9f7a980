"""Lanes: emails per second through ONE dispatch invocation when every provider answers
after 250 ms (a remote SMTP relay over TLS; Gmail API and Graph calls take 300-900 ms).

The ceiling is ``min(mailboxes, lanes) / latency``: each lane sends one message at a time.
SMTP mailboxes go to a real SMTP server in a process of its own that answers DATA after
the latency (bench/latency_smtp.py); Gmail and Outlook mailboxes go to the local fakes in
a process of their own (bench/fake_providers.py), driven by google-api-python-client and
requests, answering after the same latency. The
engine is the real Dispatcher (admission, reservation, claims, MIME, tracking, outcomes);
the store is the in-memory implementation of its port (target: at least 0.75 of the
ceiling at 20 and 50 mailboxes), then moto in this process (printed, with where the time
goes). Medians of a few runs."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1] / p) for p in ("layers/common", "local", ".")
]

from sendrail.clock import SystemClock  # noqa: E402
from sendrail.domain.models import (  # noqa: E402
    Campaign,
    CampaignStatus,
    Mailbox,
    Provider,
    Recipient,
    SmtpSettings,
)
from sendrail.providers import open_sender  # noqa: E402
from sendrail.providers.base import ProviderConfig, Sender  # noqa: E402
from sendrail.services import campaigns, mailboxes, recipients  # noqa: E402
from sendrail.services.campaigns import CampaignCreate  # noqa: E402
from sendrail.services.dispatch import Dispatcher, DispatchOptions  # noqa: E402
from sendrail.services.mailboxes import MailboxCreate  # noqa: E402
from sendrail.services.personalise import personaliser  # noqa: E402

from bench.harness import METER, aws  # noqa: E402
from bench.memory_store import MemoryStore  # noqa: E402
from bench.quick import sized  # noqa: E402
from tests.conftest import free_port  # noqa: E402

LATENCY = sized(float(__import__("os").environ.get("BENCH_LATENCY", "0.25")), 0.02)
SIZES = sized((1, 5, 20, 50), (1, 20, 50))
PER_MAILBOX = sized(16, 2)  # each lane sends this many: about four seconds of latency
RUNS = sized(3, 1)
TARGET = 0.75
LANES = DispatchOptions().lanes
ROOT = Path(__file__).resolve().parents[1]
HTML = (
    "<html><body><h1>Hello {{ first_name }}</h1>"
    + "<p>Our news this week, with <a href='https://example.com/a'>a link</a>.</p>" * 12
    + "</body></html>"
)
START = datetime.now(UTC)


class StaticTokens:
    """An access token issued by the fakes (the benchmark does not refresh)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def access_token(self) -> str:
        return self.token

    def refresh(self) -> str:
        return self.token


class BenchSenders:
    """The engine's SenderSource for the in-memory store: SMTP without a password, OAuth
    mailboxes with a token the fakes issued."""

    def __init__(self, config: ProviderConfig, tokens: dict[str, str]) -> None:
        self.config = config
        self.tokens = tokens

    def open(self, mailbox: Mailbox) -> Sender:
        if mailbox.provider in (Provider.GMAIL, Provider.OUTLOOK):
            return open_sender(mailbox, None, self.config, StaticTokens(self.tokens[mailbox.id]))
        return open_sender(mailbox, None, self.config)

    def connections(self, mailbox: Mailbox) -> int:
        return mailbox.max_connections or 1


class Relay:
    """The slow SMTP relay, in its own process."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.latency_smtp", str(self.port), str(LATENCY)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready"

    def stop(self) -> tuple[int, int]:
        taken, peak = self.process.communicate(timeout=30)[0].split()
        return int(taken), int(peak)


def memory_store(
    providers: list[Provider],
    port: int,
    issued: dict[str, str],
    *,
    per_mailbox: int = PER_MAILBOX,
    html: str = HTML,
) -> tuple[MemoryStore, dict[str, str], int]:
    """A running campaign of ``per_mailbox`` recipients a mailbox on the in-memory store;
    returns the store, the OAuth mailboxes' tokens and the number of recipients."""
    store = MemoryStore.on(SystemClock())
    tokens: dict[str, str] = {}
    tenant = "ten_bench"
    counts: dict[Provider, int] = {}
    for i, provider in enumerate(providers):
        n = counts[provider] = counts.get(provider, -1) + 1
        email = {Provider.GMAIL: f"g{n}", Provider.OUTLOOK: f"o{n}"}.get(provider, f"m{i}")
        mailbox = Mailbox(
            id=f"mbx_{i:03d}",
            tenant_id=tenant,
            provider=provider,
            email=f"{email}@example.com",
            smtp=SmtpSettings(host="127.0.0.1", port=port, security="none")
            if provider is Provider.SMTP
            else None,
            created_at=START,
            updated_at=START,
        )
        store.mailboxes.create(mailbox)
        if provider is not Provider.SMTP:
            tokens[mailbox.id] = issued[mailbox.email]
    campaign = store.campaigns.create(
        Campaign(
            id="cmp_bench",
            tenant_id=tenant,
            name="bench",
            subject="Hello {{ first_name }}",
            html=html,
            created_at=START,
            updated_at=START,
        )
    )
    total = len(providers) * per_mailbox
    store.recipients.put_many(
        Recipient(
            campaign_id=campaign.id,
            email=f"r{i:05d}@example.org",
            tenant_id=tenant,
            data={"first_name": f"N{i}"},
            created_at=START,
            updated_at=START,
        )
        for i in range(total)
    )
    store.campaigns.add_counts(tenant, campaign.id, {"total": total, "queued": total})
    store.campaigns.transition(
        tenant,
        campaign.id,
        {CampaignStatus.DRAFT},
        CampaignStatus.RUNNING,
        START,
        doc_updates={"started_at": START},
        feed_reset=True,
    )
    return store, tokens, total


def timed(run: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    report = run()
    return report, time.perf_counter() - started


def on_memory(providers: list[Provider], port: int, fakes: dict[str, Any] | None) -> float:
    store, tokens, total = memory_store(providers, port, fakes["tokens"] if fakes else {})
    config = ProviderConfig(smtp_timeout=10, allow_private_hosts=True)
    if fakes is not None:
        config = ProviderConfig(
            smtp_timeout=10,
            allow_private_hosts=True,
            gmail_api_root=f"{fakes['google']}/",
            graph_api_root=f"{fakes['microsoft']}/v1.0",
            ca_bundle=fakes["ca_file"],
        )
    dispatcher = Dispatcher(
        store,
        DispatchOptions(provider_config=config),
        senders=BenchSenders(config, tokens),
        personalise=personaliser(b"bench-key", "http://127.0.0.1:9"),
    )
    report, seconds = timed(lambda: dispatcher.run(lambda: 600.0))
    assert report.sent == total, report
    return float(total / seconds)


def on_moto(size: int, port: int) -> dict[str, float]:
    with aws(f"lanes{size}-") as deps:
        tenant = "ten_bench"
        for i in range(size):
            mailboxes.create(
                deps,
                tenant,
                MailboxCreate(
                    provider="smtp",
                    email=f"m{i}@example.com",
                    smtp={"host": "127.0.0.1", "port": port, "security": "none"},
                ),
                allow_private_hosts=True,
            )
        campaign = campaigns.create(
            deps, tenant, CampaignCreate(name="bench", subject="Hello {{ first_name }}", html=HTML)
        )
        total = size * PER_MAILBOX
        recipients.add(
            deps,
            campaign,
            recipients.rows_from_json(
                [
                    {"email": f"r{i:05d}@example.org", "data": {"first_name": f"N{i}"}}
                    for i in range(total)
                ]
            ),
        )
        campaigns.start(deps, tenant, campaign.id)
        METER.reset()
        METER.enabled = True
        dispatcher = Dispatcher(
            deps,
            DispatchOptions(
                provider_config=ProviderConfig(smtp_timeout=10, allow_private_hosts=True)
            ),
            personalise=personaliser(b"bench-key", "http://127.0.0.1:9"),
        )
        report, seconds = timed(lambda: dispatcher.run(lambda: 600.0))
        METER.enabled = False
        assert report.sent == total, report
        return {
            "rate": total / seconds,
            "seconds": seconds,
            "aws_seconds": METER.seconds,
            "calls": METER.total() / total,
        }


def main() -> None:
    relay = Relay()
    results: dict[int, float] = {}
    try:
        print(f"one dispatch invocation, {LANES} lanes, each send answered after {LATENCY:.2f} s")
        print(f"SMTP, in-memory store, medians of {RUNS} runs")
        print(f"(target: at least {TARGET} of the ceiling at 20 and 50 mailboxes)")
        print(f"  {'mailboxes':>9} {'emails':>7} {'emails/s':>9} {'ceiling':>8} {'ratio':>6}")
        for size in SIZES:
            rate = statistics.median(
                on_memory([Provider.SMTP] * size, relay.port, None) for _ in range(RUNS)
            )
            ceiling = min(size, LANES) / LATENCY
            results[size] = rate / ceiling
            flag = "" if size < 20 else ("  ok" if rate / ceiling >= TARGET else "  SHORT")
            emails = size * PER_MAILBOX
            ratio = rate / ceiling
            print(f"  {size:>9} {emails:>7} {rate:>9.1f} {ceiling:>8.1f} {ratio:>6.2f}{flag}")
    finally:
        taken, peak = relay.stop()
    print(f"  the relay took {taken} messages, at most {peak} DATA commands at once")

    gmail = outlook = 10
    fakes = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_providers", str(LATENCY), str(gmail), str(outlook)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fakes.stdout is not None
        info = json.loads(fakes.stdout.readline())
        mixed = [Provider.GMAIL] * gmail + [Provider.OUTLOOK] * outlook
        rate = statistics.median(on_memory(mixed, 0, info) for _ in range(RUNS))
        ceiling = min(len(mixed), LANES) / LATENCY
        print(
            f"Gmail API + Graph fakes (their own process), {gmail} + {outlook} mailboxes,"
            f" in-memory store: {rate:.1f} emails/s of a {ceiling:.0f}/s ceiling"
            f" ({rate / ceiling:.2f})"
        )
    finally:
        fakes.communicate(timeout=30)

    relay = Relay()
    try:
        print("SMTP through moto in this process (one run each):")
        for size in (20, 50):
            m = on_moto(size, relay.port)
            ceiling = min(size, LANES) / LATENCY
            print(
                f"  {size} mailboxes: {m['rate']:.1f} emails/s of {ceiling:.0f}/s"
                f" ({m['rate'] / ceiling:.2f}); {m['calls']:.2f} AWS calls per email;"
                f" {m['aws_seconds']:.1f} s inside moto calls (summed over threads)"
                f" of {m['seconds']:.1f} s"
            )
        print(
            "  where the time goes: every AWS call takes moto's one lock in turn (as DynamoDB"
            "\n  serialises writes to one item); the lanes' claims queue behind the main"
            "\n  thread's reads and batch writes, so moto's calls per second, not the sends,"
            "\n  bound the rate here. In AWS those calls run in parallel at a few ms each."
        )
    finally:
        relay.stop()
    short = [s for s in (20, 50) if results[s] < TARGET]
    print("target met" if not short else f"SHORT of the target at {short} mailboxes")


if __name__ == "__main__":
    main()
