"""AWS calls (DynamoDB + SQS + KMS) per sent email, by operation.

A campaign of 900 recipients over 3 SMTP mailboxes (a local sink) is started, then one
dispatch invocation sends all of it, in lanes, exactly as the scheduled function does;
everything it calls is counted (its start-up reads, feeding SQS from DynamoDB, claims,
outcomes, counters, acknowledgements). Target: at most 1.5 calls per email."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1] / p) for p in ("layers/common", "local", ".")
]

from sendrail.clock import SystemClock  # noqa: E402
from sendrail.providers.base import ProviderConfig  # noqa: E402
from sendrail.services import campaigns, mailboxes, recipients  # noqa: E402
from sendrail.services.campaigns import CampaignCreate  # noqa: E402
from sendrail.services.dispatch import Dispatcher, DispatchOptions  # noqa: E402
from sendrail.services.mailboxes import MailboxCreate  # noqa: E402
from sendrail_local.outbox import Outbox  # noqa: E402
from sendrail_local.sink import SmtpSink  # noqa: E402

from bench.harness import METER, aws  # noqa: E402
from bench.quick import sized  # noqa: E402
from tests.conftest import free_port  # noqa: E402

RECIPIENTS = sized(900, 60)
TARGET = 1.5


def main() -> None:
    sink = SmtpSink(Outbox(SystemClock()), "127.0.0.1", free_port())
    sink.start()
    try:
        with aws() as deps:
            tenant = "ten_bench"
            for i in range(3):
                mailboxes.create(
                    deps,
                    tenant,
                    MailboxCreate(
                        provider="smtp",
                        email=f"m{i}@example.com",
                        daily_limit=10_000,
                        hourly_limit=5_000,
                        smtp={"host": "127.0.0.1", "port": sink.port, "security": "none"},
                    ),
                    allow_private_hosts=True,
                )
            campaign = campaigns.create(
                deps,
                tenant,
                CampaignCreate(name="bench", subject="Hello {{ n }}", html="<p>Hello {{ n }}</p>"),
            )
            recipients.add(
                deps,
                campaign,
                recipients.rows_from_json(
                    [{"email": f"r{i}@example.org", "data": {"n": i}} for i in range(RECIPIENTS)]
                ),
            )
            campaigns.start(deps, tenant, campaign.id)

            METER.reset()
            METER.enabled = True
            report = Dispatcher(
                deps, DispatchOptions(provider_config=ProviderConfig(allow_private_hosts=True))
            ).run(lambda: 600.0)
            METER.enabled = False
            sent = report.sent
    finally:
        sink.stop()
    total = METER.total()
    print(f"emails sent by one invocation: {sent}")
    print(f"AWS calls: {total}  ->  {total / sent:.2f} per email (target <= {TARGET})")
    for operation, count in METER.calls.most_common():
        print(f"  {operation:45s} {count:6d}  {count / sent:.3f}/email")

    print("target met" if total / sent <= TARGET else "SHORT of the target")


if __name__ == "__main__":
    main()
