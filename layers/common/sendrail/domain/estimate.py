"""Delivery estimates: simulate sending capacity forward, step by step, under every
limit, window and warm-up ramp, until the remaining recipients are placed.

Pure: the caller passes the current limit states; nothing is written. Recipient-domain
throttles are not simulated (the mix of domains of the unsent recipients is not known
without reading them); everything else is: mailbox daily (warm-up included), hourly and
sliding limits, the tenant's caps and batches, and the windows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sendrail.domain import limits
from sendrail.domain.limits import LimitState, Rules
from sendrail.domain.windows import Window, all_open, next_open_all, zone

STEP = timedelta(minutes=15)
HORIZON = timedelta(days=400)


@dataclass
class SimulatedSender:
    """One mailbox: its rules may change with the day (warm-up)."""

    rules_at: Callable[[datetime], Rules]
    state: LimitState = field(default_factory=LimitState)


@dataclass(frozen=True)
class Estimate:
    remaining: int
    completes_at: datetime | None
    per_day: list[tuple[date, int]]


def simulate(
    remaining: int,
    senders: Sequence[SimulatedSender],
    start: datetime,
    *,
    windows: Sequence[Window] = (),
    tenant_rules: Rules | None = None,
    tenant_state: LimitState | None = None,
    report_tz: str = "UTC",
    step: timedelta = STEP,
    horizon: timedelta = HORIZON,
) -> Estimate:
    tz = zone(report_tz)
    per_day: dict[date, int] = {}
    left = remaining
    tenant = tenant_state or LimitState()
    now = start
    end = start + horizon
    finished: datetime | None = start if left <= 0 else None
    while left > 0 and now < end and senders:
        if windows and not all_open(list(windows), now):
            opens = next_open_all(list(windows), now)
            if opens is None:
                break
            now = max(opens, now + timedelta(seconds=1))
            continue
        room_tenant = limits.available(tenant, tenant_rules, now) if tenant_rules else None
        placed = 0
        order = sorted(
            senders,
            key=lambda s: -(limits.day_remaining(s.state, s.rules_at(now), now) or 10**9),
        )
        for sender in order:
            if left - placed <= 0 or (room_tenant is not None and room_tenant - placed <= 0):
                break
            rules = sender.rules_at(now)
            room = limits.available(sender.state, rules, now)
            take = left - placed if room is None else min(room, left - placed)
            if room_tenant is not None:
                take = min(take, room_tenant - placed)
            if take > 0:
                sender.state = limits.take(sender.state, rules, now, take)
                placed += take
        if placed:
            if tenant_rules:
                tenant = limits.take(tenant, tenant_rules, now, placed)
            left -= placed
            day = now.astimezone(tz).date()
            per_day[day] = per_day.get(day, 0) + placed
            if left <= 0:
                finished = now
                break
        now += step
    return Estimate(
        remaining=remaining,
        completes_at=finished,
        per_day=sorted(per_day.items()),
    )
