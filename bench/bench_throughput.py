"""Emails per second through one dispatch invocation into the local SMTP sink, beside
plain ``smtplib`` sending the same messages over one connection, in the same run.

The dispatcher's time inside AWS calls (moto, in this process) is measured with botocore
event hooks and reported separately: moto, not our code, is the ceiling locally; in AWS
those calls take a few milliseconds each and overlap nothing here. Target: dispatch
(excluding moto) at least 0.5x plain smtplib. Medians of a few runs."""

from __future__ import annotations

import smtplib
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1] / p) for p in ("layers/common", "local", ".")
]

from sendrail.clock import SystemClock  # noqa: E402
from sendrail.domain.compose import compose  # noqa: E402
from sendrail.domain.models import Recipient  # noqa: E402
from sendrail.services import campaigns, mailboxes, recipients  # noqa: E402
from sendrail.services.campaigns import CampaignCreate  # noqa: E402
from sendrail.services.dispatch import Dispatcher, DispatchOptions  # noqa: E402
from sendrail.services.mailboxes import MailboxCreate  # noqa: E402
from sendrail_local.outbox import Outbox  # noqa: E402
from sendrail_local.sink import SmtpSink  # noqa: E402

from bench.harness import METER, aws, median  # noqa: E402
from tests.conftest import free_port  # noqa: E402

EMAILS = 400
RUNS = 3
HTML = (
    "<html><body><h1>Hello {{ first_name }}</h1>"
    + "<p>Lorem ipsum dolor sit amet. </p>" * 50
    + "</body></html>"
)


def one_run(sink: SmtpSink, run: int) -> tuple[float, float, float]:
    """Returns (dispatch seconds, of which in AWS calls, smtplib seconds)."""
    with aws(f"tp{run}-") as deps:
        tenant = "ten_bench"
        mailbox = mailboxes.create(
            deps,
            tenant,
            MailboxCreate(
                provider="smtp",
                email="sender@example.com",
                smtp={"host": "127.0.0.1", "port": sink.port, "security": "none"},
            ),
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
        started = time.perf_counter()
        report = Dispatcher(deps, DispatchOptions()).run(lambda: 600.0)
        dispatch_seconds = time.perf_counter() - started
        METER.enabled = False
        assert report.sent == EMAILS, report
        in_aws = METER.seconds

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
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
            for to, payload in payloads:
                smtp.sendmail("sender@example.com", [to], payload)
        smtplib_seconds = time.perf_counter() - started
    return dispatch_seconds, in_aws, smtplib_seconds


def main() -> None:
    sink = SmtpSink(Outbox(SystemClock()), "127.0.0.1", free_port())
    sink.start()
    try:
        results = [one_run(sink, run) for run in range(RUNS)]
    finally:
        sink.stop()
    dispatch = median([EMAILS / d for d, _, _ in results])
    ours = median([EMAILS / (d - a) for d, a, _ in results])
    plain = median([EMAILS / s for _, _, s in results])
    moto_share = median([a / d for d, a, _ in results])
    print(f"{EMAILS} emails, {RUNS} runs (medians):")
    print(f"  plain smtplib, one connection:        {plain:8.0f} emails/s (sending only)")
    share = f"{moto_share:.0%} of it in moto"
    print(f"  one dispatch invocation, end to end:  {dispatch:8.0f} emails/s ({share})")
    print(f"  one dispatch invocation, minus moto:  {ours:8.0f} emails/s")
    print(f"  ratio (dispatch minus moto / smtplib): {ours / plain:.2f}   (target >= 0.5)")
    print("  note: smtplib is timed on pre-built messages; dispatch also renders, builds MIME,")
    print("  plans limits and records outcomes for each message.")


if __name__ == "__main__":
    main()
