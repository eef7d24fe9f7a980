"""Property: whatever the mailboxes, limits, throttles, windows and the times at which
dispatch runs, no limit is ever exceeded, nothing is sent outside a window, nobody is
sent twice, and the campaign's counters agree with a recount of its recipients. Runs the
real Dispatcher on moto, its lanes in parallel; the provider is a recording fake whose
sends take a little while, so that lanes interleave."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from sendrail.domain.models import (
    DomainThrottle,
    Mailbox,
    SendingSettings,
    ThrottleScope,
)
from sendrail.domain.windows import Window, zone
from sendrail.providers.base import ProviderConfig, SendReceipt
from sendrail.services import campaigns, mailboxes, recipients
from sendrail.services.campaigns import CampaignCreate
from sendrail.services.deps import Deps
from sendrail.services.dispatch import Dispatcher
from sendrail.services.mailboxes import MailboxCreate
from sendrail_local.aws import deps_on, fake_credentials, prepare_moto

START = datetime(2026, 11, 23, 5, 30, tzinfo=UTC)
_runs = itertools.count()


class Recorder:
    """A fake provider: remembers what was sent, by which mailbox, when."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.sent: list[tuple[datetime, str, str]] = []

    def opener(self, mailbox: Mailbox, secret: bytes | None, config: ProviderConfig) -> Any:
        recorder = self

        class _Sender:
            def send(self, message: Any) -> SendReceipt:
                time.sleep(0.001 * (sum(message.to.encode()) % 4))  # lanes overlap
                recorder.sent.append((recorder.clock.now(), mailbox.id, message.to))
                return SendReceipt()

            def close(self) -> None:
                return None

        return _Sender()


hours = st.integers(0, 23)


@st.composite
def windows(draw: Any) -> Window | None:
    if draw(st.integers(0, 2)) > 0:  # one world in three has this window
        return None
    start, length = draw(hours), draw(st.integers(1, 23))
    return Window(
        start=f"{start:02d}:00",
        end=f"{(start + length) % 24:02d}:00",
        timezone=draw(st.sampled_from(["UTC", "Europe/Paris", "America/New_York"])),
    )


@st.composite
def worlds(draw: Any) -> dict[str, Any]:
    boxes = []
    for i in range(draw(st.integers(1, 3))):
        box: dict[str, Any] = {
            "email": f"m{i}@{draw(st.sampled_from(['a.example.com', 'b.example.com']))}",
            "daily_limit": draw(st.integers(0, 8)),  # 0: no daily cap
            "timezone": draw(st.sampled_from(["UTC", "Asia/Tokyo", "America/Denver"])),
        }
        if draw(st.booleans()):
            box["hourly_limit"] = draw(st.integers(1, 4))
        if draw(st.booleans()):
            box["rate_limit"] = {
                "count": draw(st.integers(1, 2)),
                "per_seconds": draw(st.sampled_from([600, 1800, 3600])),
            }
        boxes.append(box)
    return {
        "mailboxes": boxes,
        "tenant": {
            "max_per_hour": draw(st.one_of(st.none(), st.none(), st.integers(1, 6))),
            "max_per_day": draw(st.one_of(st.none(), st.none(), st.integers(1, 10))),
            "window": draw(windows()),
        },
        "recipient_cap": draw(
            st.one_of(st.none(), st.tuples(st.integers(1, 2), st.integers(1, 4)))
        ),
        "sender_cap": draw(st.one_of(st.none(), st.integers(1, 4))),
        "campaign_window": draw(windows()),
        "recipients": [
            f"r{i}@{draw(st.sampled_from(['gmail.com', 'yahoo.com', 'example.org']))}"
            for i in range(draw(st.integers(1, 14)))
        ],
        "gaps": draw(st.lists(st.integers(0, 3 * 3600), min_size=3, max_size=8)),
    }


def _deps(prefix: str) -> Deps:
    return deps_on(prefix, b"property-test")


def _inside(window: Window | None, when: datetime) -> bool:
    return window is None or window.is_open(when)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_property_no_limit_exceeded_nothing_outside_windows_nobody_twice(
    world: dict[str, Any],
) -> None:
    fake_credentials()
    with mock_aws(), time_machine.travel(START, tick=False) as clock:
        prepare_moto()
        deps = _deps(f"p{next(_runs)}-")
        tenant_id = "ten_p"
        t = world["tenant"]
        deps.settings.put_sending(
            tenant_id,
            SendingSettings(
                max_per_hour=t["max_per_hour"], max_per_day=t["max_per_day"], window=t["window"]
            ),
        )
        if world["recipient_cap"] is not None:
            per_minute, per_hour = world["recipient_cap"]
            deps.settings.put_throttle(
                DomainThrottle(
                    tenant_id=tenant_id,
                    name="google",
                    max_per_minute=per_minute,
                    max_per_hour=per_hour,
                    domains=["gmail.com", "googlemail.com"],
                )
            )
        if world["sender_cap"] is not None:
            deps.settings.put_throttle(
                DomainThrottle(
                    tenant_id=tenant_id,
                    name="a.example.com",
                    max_per_hour=world["sender_cap"],
                    scope=ThrottleScope.SENDER,
                )
            )
        created = {}
        for box in world["mailboxes"]:
            m = mailboxes.create(
                deps,
                tenant_id,
                MailboxCreate(
                    provider="smtp",
                    smtp={"host": "127.0.0.1", "port": 9, "security": "none"},
                    **box,
                ),
                allow_private_hosts=True,
            )
            created[m.id] = m
        campaign = campaigns.create(
            deps,
            tenant_id,
            CampaignCreate(name="p", subject="s", html="<p>x</p>", window=world["campaign_window"]),
        )
        recipients.add(
            deps, campaign, recipients.rows_from_json([{"email": e} for e in world["recipients"]])
        )
        campaigns.start(deps, tenant_id, campaign.id)
        recorder = Recorder(deps.clock)
        for gap in world["gaps"]:
            clock.shift(timedelta(seconds=gap))
            Dispatcher(deps, opener=recorder.opener).run(lambda: 30.0)
        # Counters exact: what the campaign says is what its recipients are.
        recount = deps.recipients.count_by_status(campaign.id)
        counts = deps.campaigns.get(tenant_id, campaign.id).counts
        for name in ("queued", "deferred", "sending", "sent", "failed"):
            assert getattr(counts, name) == recount.get(name, 0), (name, counts, recount)

    sent = recorder.sent
    # Nobody twice.
    assert max(Counter(to for _, _, to in sent).values(), default=0) <= 1
    # Nothing outside a window.
    for when, _, _ in sent:
        assert _inside(t["window"], when), (when, t["window"])
        assert _inside(world["campaign_window"], when), (when, world["campaign_window"])

    def peak(events: list[datetime], key: Any) -> int:
        return max(Counter(key(e) for e in events).values(), default=0)

    utc_hour = lambda e: e.strftime("%Y-%m-%dT%H")  # noqa: E731
    utc_minute = lambda e: e.strftime("%Y-%m-%dT%H:%M")  # noqa: E731
    # Every limit, counted independently of the planner.
    for mailbox_id, m in created.items():
        events = sorted(w for w, mid, _ in sent if mid == mailbox_id)
        if m.daily_limit:
            assert (
                peak(events, lambda e, m=m: e.astimezone(zone(m.timezone)).date()) <= m.daily_limit
            )
        if m.hourly_limit is not None:
            assert peak(events, utc_hour) <= m.hourly_limit
        if m.rate_limit is not None:
            span = timedelta(seconds=m.rate_limit.per_seconds)
            for i, e in enumerate(events):
                assert sum(1 for f in events[: i + 1] if f > e - span) <= m.rate_limit.count
    everything = sorted(w for w, _, _ in sent)
    if t["max_per_hour"] is not None:
        assert peak(everything, utc_hour) <= t["max_per_hour"]
    if t["max_per_day"] is not None:
        assert peak(everything, lambda e: e.date()) <= t["max_per_day"]
    if world["recipient_cap"] is not None:
        google = sorted(w for w, _, to in sent if to.endswith("@gmail.com"))
        assert peak(google, utc_minute) <= world["recipient_cap"][0]
        assert peak(google, utc_hour) <= world["recipient_cap"][1]
    if world["sender_cap"] is not None:
        shared = sorted(w for w, mid, _ in sent if created[mid].domain == "a.example.com")
        assert peak(shared, utc_hour) <= world["sender_cap"]
