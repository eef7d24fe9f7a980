"""CPU per email of one dispatch invocation into the local SMTP sink, beside plain
``smtplib`` sending the same (pre-built) messages over one connection, in the same run.

Both are CPU seconds of this whole process (the sink runs in it too, on both sides). The
CPU that moto spends serving the dispatcher's AWS calls (moto runs in this process; in
AWS those calls cost the function only their wait) is measured per calling thread with
botocore's event hooks and taken out. Dispatch's lanes send in threads, so wall-clock
minus moto would flatter it; CPU does not. Target: dispatch (excluding moto) at least
0.8x plain smtplib in emails per CPU second. Medians of a few runs.

Then the same with moto in a process of its own (``moto_server``), as AWS is to a Lambda:
nothing is taken out, so dispatch also pays botocore's signing, HTTP and response parsing
(which the in-process figure leaves out with moto's work), and nothing in this process
competes with its threads for the interpreter. Printed beside the target's figure; it is
the pessimistic side, as moto_server (werkzeug) closes the connection after every answer.
And with no AWS in this process at all (bench_lanes' in-memory store), smtplib resending
the very bytes dispatch sent: what dispatch's own code costs beside the send."""

from __future__ import annotations

import os
import smtplib
import sys
import time
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1] / p) for p in ("layers/common", "local", ".")
]

from sendrail.clock import SystemClock  # noqa: E402
from sendrail.domain.compose import compose  # noqa: E402
from sendrail.domain.models import Provider, Recipient  # noqa: E402
from sendrail.providers.base import ProviderConfig  # noqa: E402
from sendrail.services import campaigns, mailboxes, recipients  # noqa: E402
from sendrail.services.campaigns import CampaignCreate  # noqa: E402
from sendrail.services.deps import Deps  # noqa: E402
from sendrail.services.dispatch import Dispatcher, DispatchOptions  # noqa: E402
from sendrail.services.mailboxes import MailboxCreate  # noqa: E402
from sendrail_local.outbox import Outbox  # noqa: E402
from sendrail_local.sink import SmtpSink  # noqa: E402

from bench.bench_lanes import BenchSenders, memory_store  # noqa: E402
from bench.harness import METER, aws, aws_at, median, moto_server  # noqa: E402
from bench.quick import sized  # noqa: E402
from tests.conftest import free_port  # noqa: E402

EMAILS = sized(400, 20)
RUNS = sized(5, 1)
RUNS_APART = sized(3, 1)  # with moto in its own process
RUNS_MEMORY = sized(5, 1)  # with no AWS in this process
TARGET = 0.8
HTML = (
    "<html><body><h1>Hello {{ first_name }}</h1>"
    + "<p>Lorem ipsum dolor sit amet. </p>" * 50
    + "</body></html>"
)


def send_plain(sink: SmtpSink, sender: str, payloads: list[tuple[str, bytes]]) -> None:
    """Plain smtplib: every message over one connection."""
    with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
        for to, payload in payloads:
            smtp.sendmail(sender, [to], payload)


def one_run(sink: SmtpSink, stack: AbstractContextManager[Deps]) -> tuple[float, ...]:
    """Returns dispatch (wall, CPU, CPU inside AWS calls) and smtplib (wall, CPU) seconds,
    the sink thread's CPU seconds beside each (dispatch, smtplib), and the kernel's share
    of the process's CPU beside each (dispatch, smtplib)."""
    with stack as deps:
        tenant = "ten_bench"
        mailbox = mailboxes.create(
            deps,
            tenant,
            MailboxCreate(
                provider="smtp",
                email="sender@example.com",
                smtp={"host": "127.0.0.1", "port": sink.port, "security": "none"},
            ),
            allow_private_hosts=True,
        )
        campaign = campaigns.create(
            deps,
            tenant,
            CampaignCreate(
                name="bench",
                subject="Hello {{ first_name }}",
                html=HTML,
                track_opens=False,
                track_clicks=False,
            ),
        )
        rows = [
            {"email": f"r{i}@example.org", "data": {"first_name": f"N{i}"}} for i in range(EMAILS)
        ]
        recipients.add(deps, campaign, recipients.rows_from_json(rows))
        campaign = campaigns.start(deps, tenant, campaign.id)
        METER.reset()
        METER.enabled = True
        started, cpu, sink_cpu = time.perf_counter(), time.process_time(), sink.cpu_seconds()
        kernel = os.times().system
        report = Dispatcher(
            deps, DispatchOptions(provider_config=ProviderConfig(allow_private_hosts=True))
        ).run(lambda: 600.0)
        dispatch_seconds = time.perf_counter() - started
        dispatch_cpu = time.process_time() - cpu
        dispatch_sink = sink.cpu_seconds() - sink_cpu
        dispatch_kernel = os.times().system - kernel
        METER.enabled = False
        assert report.sent == EMAILS, report
        in_moto = METER.cpu_seconds

        # The same messages, built by the same builder, through plain smtplib.
        now = datetime.now(UTC)
        messages = [
            compose(
                campaign,
                Recipient(
                    campaign_id=campaign.id,
                    email=r["email"],
                    tenant_id=tenant,
                    data=r["data"],
                    created_at=now,
                    updated_at=now,
                ),
                mailbox,
                now,
            )
            for r in rows
        ]
        payloads = [(m.to, m.as_bytes()) for m in messages]
        started, cpu, sink_cpu = time.perf_counter(), time.process_time(), sink.cpu_seconds()
        kernel = os.times().system
        send_plain(sink, "sender@example.com", payloads)
        smtplib_seconds = time.perf_counter() - started
        smtplib_cpu = time.process_time() - cpu
        smtplib_sink = sink.cpu_seconds() - sink_cpu
        smtplib_kernel = os.times().system - kernel
    return (
        dispatch_seconds,
        dispatch_cpu,
        in_moto,
        smtplib_seconds,
        smtplib_cpu,
        dispatch_sink,
        smtplib_sink,
        dispatch_kernel,
        smtplib_kernel,
    )


def on_memory_store(sink: SmtpSink, outbox: Outbox) -> tuple[float, float]:
    """Dispatch over the in-memory store (bench_lanes'), so no AWS in this process, then
    smtplib resending the very bytes dispatch sent: their CPU seconds."""
    config = ProviderConfig(allow_private_hosts=True)
    store, tokens, total = memory_store(
        [Provider.SMTP], sink.port, {}, per_mailbox=EMAILS, html=HTML
    )
    outbox.clear()
    cpu = time.process_time()
    report = Dispatcher(
        store, DispatchOptions(provider_config=config), senders=BenchSenders(config, tokens)
    ).run(lambda: 600.0)
    dispatch_cpu = time.process_time() - cpu
    assert report.sent == total, report
    sent = [(item.to, item.raw) for item in outbox.items()]
    assert len(sent) == total
    cpu = time.process_time()
    send_plain(sink, "m0@example.com", sent)
    return dispatch_cpu, time.process_time() - cpu


def main() -> None:
    outbox = Outbox(SystemClock())
    sink = SmtpSink(outbox, "127.0.0.1", free_port())
    sink.start()
    try:
        results = [one_run(sink, aws(f"tp{run}-")) for run in range(RUNS)]
        with moto_server(free_port()) as endpoint:
            apart = [one_run(sink, aws_at(endpoint, f"tpa{run}-")) for run in range(RUNS_APART)]
        memory = [on_memory_store(sink, outbox) for _ in range(RUNS_MEMORY)]
    finally:
        sink.stop()
    wall = median([EMAILS / r[0] for r in results])
    plain_wall = median([EMAILS / r[3] for r in results])
    per_email = median([(r[1] - r[2]) / EMAILS * 1000 for r in results])
    plain_per_email = median([r[4] / EMAILS * 1000 for r in results])
    moto_share = median([r[2] / r[1] for r in results])
    # Each run pairs its own dispatch and smtplib figures (the machine's state alike).
    ratio = median([(EMAILS / (r[1] - r[2])) / (EMAILS / r[4]) for r in results])
    print(f"{EMAILS} emails, {RUNS} runs (medians):")
    print(
        f"  plain smtplib, one connection:  {plain_per_email:.2f} ms CPU/email ({plain_wall:.0f}/s)"
    )
    print(
        f"  one dispatch invocation:        {per_email:.2f} ms CPU/email without moto"
        f" ({wall:.0f}/s end to end, {moto_share:.0%} of its CPU in moto)"
    )
    print(
        f"  ratio (smtplib CPU / dispatch CPU, median of runs): {ratio:.2f}   (target >= {TARGET})"
    )
    print("  " + ("target met" if ratio >= TARGET else "SHORT of the target"))
    sink_beside_plain = median([r[6] / EMAILS * 1000 for r in results])
    sink_beside_dispatch = median([r[5] / EMAILS * 1000 for r in results])
    print(
        f"  of which the sink's thread: {sink_beside_plain:.2f} ms/email beside smtplib,"
        f" {sink_beside_dispatch:.2f} beside dispatch"
    )
    kernel_beside_plain = median([r[8] / EMAILS * 1000 for r in results])
    kernel_beside_dispatch = median([r[7] / EMAILS * 1000 for r in results])
    print(
        f"  and the kernel's (thread hand-overs, sockets): {kernel_beside_plain:.2f} ms/email"
        f" beside smtplib, {kernel_beside_dispatch:.2f} beside dispatch"
    )
    print("  (the same messages and commands: the sink and the kernel cost more beside")
    print("  dispatch because moto, in this process, keeps the main thread busy: the lane and")
    print("  the sink wait for the interpreter lock at every socket call, which in AWS are")
    print("  waits with the lock free)")
    apart_ratio = median([r[4] / r[1] for r in apart])
    apart_per_email = median([r[1] / EMAILS * 1000 for r in apart])
    apart_plain = median([r[4] / EMAILS * 1000 for r in apart])
    print(
        f"  with moto in its own process ({RUNS_APART} runs; nothing taken out, so dispatch"
        " also pays botocore's"
    )
    print(
        f"  signing, HTTP and parsing, as a Lambda does): ratio {apart_ratio:.2f}"
        f" (dispatch {apart_per_email:.2f} ms CPU/email, smtplib {apart_plain:.2f})"
    )
    print("  (the pessimistic side: moto_server's werkzeug closes every connection, so each call")
    print("  here also opens one, where AWS keeps them alive)")
    memory_ratio = median([plain / own for own, plain in memory])
    memory_dispatch = median([m[0] for m in memory]) / EMAILS * 1000
    memory_plain = median([m[1] for m in memory]) / EMAILS * 1000
    print(
        f"  with no AWS in this process ({RUNS_MEMORY} runs on bench_lanes' in-memory store;"
        " smtplib resends"
    )
    print(
        f"  the very bytes dispatch sent): ratio {memory_ratio:.2f} (dispatch"
        f" {memory_dispatch:.2f} ms CPU/email, smtplib {memory_plain:.2f})"
    )
    print("  note: smtplib sends pre-built messages; dispatch also renders, builds MIME, plans")
    print("  limits, claims and records outcomes for each message.")


if __name__ == "__main__":
    main()
