"""The AWS bill per 1,000,000 emails, from what one campaign measurably costs.

A campaign of 1,000 recipients over 3 SMTP mailboxes (a local sink) is imported, started
and sent by one dispatch invocation; then 30% of its recipients open it and 5% click, each
through the tracking service. Every AWS call is counted by operation, with the DynamoDB
items each one reads or writes, and the CPU our code spends outside the AWS calls is
measured. Write units are those AWS bills (``write_units``): 1 KB of the item per unit,
and the writes of every global secondary index an item's write touches. The bill is then
priced with list prices (us-east-1, stated below) and scaled to 1M emails.

What cannot be measured here is modelled, and says so: a dispatch invocation is billed for
its wall time, which a real provider's latency sets (sends overlap in lanes); tracking
requests are short. Readers' requests (pixel, clicks, unsubscribe) go through the tracking
HTTP API ($1.00 per million); the REST API's price ($3.50), which links sent before it
still pay, is printed beside it. Target: orchestration (everything but SES's own per-message fee) at
most $1 per 1M emails. Fixed monthly costs (the schedules, alarms, the dashboard) are
printed apart: they do not grow with volume."""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.handlers

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1] / p) for p in ("layers/common", "local", ".")
]

from sendrail.clock import SystemClock  # noqa: E402
from sendrail.domain import tracking as tokens  # noqa: E402
from sendrail.domain.tracking import Target  # noqa: E402
from sendrail.providers.base import ProviderConfig  # noqa: E402
from sendrail.services import campaigns, mailboxes, recipients, tracking  # noqa: E402
from sendrail.services.campaigns import CampaignCreate  # noqa: E402
from sendrail.services.dispatch import Dispatcher, DispatchOptions  # noqa: E402
from sendrail.services.mailboxes import MailboxCreate  # noqa: E402
from sendrail_local.outbox import Outbox  # noqa: E402
from sendrail_local.sink import SmtpSink  # noqa: E402

from bench.harness import METER, aws  # noqa: E402
from bench.quick import sized  # noqa: E402
from bench.write_units import WriteUnits  # noqa: E402
from tests.conftest import free_port  # noqa: E402

EMAILS = sized(1_000, 60)
SCALE = 1_000_000 / EMAILS
TARGET = 1.00  # dollars per 1M emails, SES's own fee excluded
OPEN_RATE, CLICK_RATE = 0.30, 0.05
# People, not machines: a bare "Mozilla/5.0" is Apple's privacy proxy, counted apart and
# more cheaply (no recipient write). Opens come through Gmail's image proxy, clicks from a
# desktop browser.
OPEN_AGENT = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
CLICK_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"

# List prices, us-east-1 (USD), as published on the services' pricing pages.
LAMBDA_GB_SECOND = 0.0000133334  # arm64
LAMBDA_REQUEST = 0.20 / 1e6
SQS_REQUEST = 0.40 / 1e6  # standard queue, per 64 KB request
DYNAMODB_WRITE_UNIT = 0.625 / 1e6  # on-demand write request unit
DYNAMODB_READ_UNIT = 0.125 / 1e6  # on-demand read request unit
KMS_REQUEST = 0.03 / 10_000
HTTP_API_REQUEST = 1.00 / 1e6  # API Gateway HTTP API, first 300M a month: the tracking API
REST_API_REQUEST = 3.50 / 1e6  # API Gateway REST API, first 333M a month: the old route
SES_PER_1000 = 0.10  # SES's own fee: not orchestration, shown for scale
CUSTOM_METRIC_MONTH = 0.30
ALARM_MONTH = 0.10
DASHBOARD_MONTH = 3.00

# The model for wall time (what Lambda bills): sends overlap across mailboxes in lanes.
PROVIDER_LATENCY = 0.25  # seconds a provider takes to accept one message
MAILBOXES = 20  # mailboxes sending at once
DISPATCH_GB, ENQUEUE_GB, TRACKING_GB = 1.0, 1.0, 0.5
TRACKING_WALL = 0.020  # seconds per tracking request in AWS: one read, two or three writes
IDLE_RUN_WALL = 0.100  # seconds an idle scheduled dispatch runs (two AWS calls)
DISPATCH_RUNS_A_MONTH = 60 * 24 * 30  # EventBridge fires dispatch each minute


@dataclass
class Phase:
    """What one phase called, and the DynamoDB items it read and wrote."""

    calls: Counter[str] = field(default_factory=Counter)
    items_written: int = 0
    write_units: Counter[str] = field(default_factory=Counter)  # per table and index
    read_units: float = 0.0
    cpu_outside_aws: float = 0.0

    def requests(self, service: str) -> int:
        return sum(n for op, n in self.calls.items() if op.startswith(service + "."))


class Units:
    """botocore hooks: items written per call (from its parameters) and read units (from
    the items that came back, 4 KB per unit, halved for eventually consistent reads)."""

    def __init__(self) -> None:
        self.phase = Phase()
        self.enabled = False

    def before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if not self.enabled or model.service_model.service_id != "DynamoDB":
            return
        name = model.name
        if name == "BatchWriteItem":
            self.phase.items_written += sum(len(v) for v in params["RequestItems"].values())
        elif name in ("PutItem", "UpdateItem", "DeleteItem"):
            self.phase.items_written += 1

    def after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if not self.enabled or model.service_model.service_id != "DynamoDB":
            return
        found: list[Any] = []
        if "Item" in parsed:
            found = [parsed["Item"]]
        elif "Items" in parsed:
            found = parsed["Items"]
        elif "Responses" in parsed:
            found = [i for items in parsed["Responses"].values() for i in items]
        if model.name in ("GetItem", "Query", "BatchGetItem", "Scan"):
            size = sum(len(str(item)) for item in found)
            self.phase.read_units += max(1, math.ceil(size / 4096)) * 0.5


UNITS = Units()
WRITES = WriteUnits()
botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build", UNITS.before))
botocore.handlers.BUILTIN_HANDLERS.append(("after-call", UNITS.after))
botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build", WRITES.before))
botocore.handlers.BUILTIN_HANDLERS.append(("after-call", WRITES.after))


def measured(run: Any) -> Phase:
    METER.reset()
    WRITES.reset()
    UNITS.phase = Phase()
    METER.enabled = UNITS.enabled = WRITES.enabled = True
    cpu = time.process_time()
    try:
        run()
    finally:
        METER.enabled = UNITS.enabled = WRITES.enabled = False
    phase = UNITS.phase
    phase.calls = Counter(METER.calls)
    phase.write_units = Counter(WRITES.units)
    phase.cpu_outside_aws = time.process_time() - cpu - METER.cpu_seconds
    return phase


def dollars(phase: Phase) -> dict[str, float]:
    """The phase's AWS calls priced (Lambda is priced by the caller: it is a model)."""
    return {
        "DynamoDB": sum(phase.write_units.values()) * DYNAMODB_WRITE_UNIT
        + phase.read_units * DYNAMODB_READ_UNIT,
        "SQS": phase.requests("SQS") * SQS_REQUEST,
        "KMS": phase.requests("KMS") * KMS_REQUEST,
    }


def main() -> None:
    sink = SmtpSink(Outbox(SystemClock()), "127.0.0.1", free_port())
    sink.start()
    try:
        with aws("cost-") as deps:
            tenant = "ten_cost"
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
                CampaignCreate(
                    name="cost",
                    subject="Hello {{ n }}",
                    html='<p>Hello {{ n }}</p><a href="https://shop.example/offer">offer</a>',
                ),
            )
            emails = [f"r{i}@example.org" for i in range(EMAILS)]
            rows: list[dict[str, Any]] = [
                {"email": e, "data": {"n": i}} for i, e in enumerate(emails)
            ]
            imported = measured(
                lambda: recipients.add(deps, campaign, recipients.rows_from_json(rows))
            )
            started = time.perf_counter()
            sent_phase = measured(
                lambda: (
                    campaigns.start(deps, tenant, campaign.id),
                    Dispatcher(
                        deps,
                        DispatchOptions(provider_config=ProviderConfig(allow_private_hosts=True)),
                    ).run(lambda: 600.0),
                )
            )
            dispatch_wall = time.perf_counter() - started
            openers = emails[: int(EMAILS * OPEN_RATE)]
            clickers = openers[: int(EMAILS * CLICK_RATE)]

            def track() -> None:
                for email in openers:
                    target = Target(tenant, campaign.id, email)
                    token = tokens.token(deps.signing_key, tokens.OPEN, target)
                    assert tracking.record_open(deps, token, OPEN_AGENT, "198.51.100.7")
                for email in clickers:
                    target = Target(tenant, campaign.id, email, "https://shop.example/offer")
                    token = tokens.token(deps.signing_key, tokens.CLICK, target)
                    assert tracking.record_click(deps, token, CLICK_AGENT, "198.51.100.7")

            tracked = measured(track)
    finally:
        sink.stop()

    events = len(openers) + len(clickers)
    print(f"one campaign of {EMAILS} emails, scaled x{SCALE:.0f} to 1M emails")
    phases = (("import", imported), ("start+dispatch", sent_phase), ("tracking", tracked))
    for name, phase in phases:
        calls = ", ".join(f"{op} {n / EMAILS:.3f}" for op, n in phase.calls.most_common(6))
        print(
            f"  {name:15s} per email: {sum(phase.calls.values()) / EMAILS:.2f} AWS calls"
            f" ({calls}); {phase.items_written / EMAILS:.2f} items written,"
            f" {sum(phase.write_units.values()) / EMAILS:.2f} write units,"
            f" {phase.read_units / EMAILS:.2f} read units;"
            f" {phase.cpu_outside_aws / EMAILS * 1000:.2f} ms CPU outside AWS calls"
        )
    print(f"  (dispatch here took {dispatch_wall:.1f} s of wall time, most of it in moto)")

    # Lambda, modelled: billed seconds per email.
    dispatch_seconds = max(
        sent_phase.cpu_outside_aws / EMAILS, PROVIDER_LATENCY / min(MAILBOXES, 32)
    )
    enqueue_seconds = imported.cpu_outside_aws / EMAILS
    bill: dict[str, float] = {}
    for phase in (imported, sent_phase, tracked):
        for service, cost in dollars(phase).items():
            bill[service] = bill.get(service, 0.0) + cost * SCALE
    bill["Lambda dispatch"] = 1e6 * dispatch_seconds * DISPATCH_GB * LAMBDA_GB_SECOND
    bill["Lambda enqueue (import)"] = 1e6 * enqueue_seconds * ENQUEUE_GB * LAMBDA_GB_SECOND
    tracking_requests = events * SCALE
    bill["Lambda tracking"] = tracking_requests * (
        TRACKING_WALL * TRACKING_GB * LAMBDA_GB_SECOND + LAMBDA_REQUEST
    )
    bill["API Gateway (tracking, HTTP API)"] = tracking_requests * HTTP_API_REQUEST
    total = sum(bill.values())
    print(
        f"\nper 1M emails ({OPEN_RATE:.0%} open, {CLICK_RATE:.0%} click; dispatch billed"
        f" {dispatch_seconds * 1000:.1f} ms/email at {PROVIDER_LATENCY * 1000:.0f} ms provider"
        f" latency over {MAILBOXES} mailboxes):"
    )
    for item, cost in sorted(bill.items(), key=lambda kv: -kv[1]):
        print(f"  {item:32s} ${cost:8.3f}")
    print(f"  {'orchestration total':32s} ${total:8.3f}   (target <= ${TARGET:.2f})")
    http = bill["API Gateway (tracking, HTTP API)"]
    rest = tracking_requests * REST_API_REQUEST
    print(
        f"  the old route, tracking through the REST API: ${rest:.3f} instead of ${http:.3f}"
        f" (total ${total - http + rest:.3f}; links sent before the tracking API still go there)"
    )
    print("  DynamoDB's write units, by table and index (per 1M emails):")
    written: Counter[str] = Counter()
    for _, each in phases:
        written.update(each.write_units)
    for name, units in written.most_common():
        shown = name.removeprefix("cost-")
        cost = units * SCALE * DYNAMODB_WRITE_UNIT
        print(f"    {shown:28s} {units / EMAILS:5.2f} an email  ${cost:7.3f}")
    print(f"  for scale, SES's own fee: ${SES_PER_1000 * 1000:.2f}")
    idle = DISPATCH_RUNS_A_MONTH * (IDLE_RUN_WALL * DISPATCH_GB * LAMBDA_GB_SECOND + LAMBDA_REQUEST)
    print(
        f"fixed a month: idle dispatch runs ${idle:.2f}, the dashboard ${DASHBOARD_MONTH:.2f},"
        f" each alarm ${ALARM_MONTH:.2f}, each custom metric ${CUSTOM_METRIC_MONTH:.2f}"
    )
    print("target met" if total <= TARGET else "SHORT of the target")


if __name__ == "__main__":
    main()
