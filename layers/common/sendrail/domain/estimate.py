"""Delivery estimates: simulate sending capacity forward, step by step, under every
limit, window and warm-up ramp, until the remaining recipients are placed.

Pure: the caller passes the current limit states; nothing is written. Recipient-domain
throttles are not simulated (the mix of domains of the unsent recipients is not known
without reading them); everything else is: mailbox daily (warm-up included), hourly and
sliding limits, limits shared by several mailboxes (an SES account's quota), the tenant's
caps and batches, and the windows.

Steps where nothing can be placed are skipped to the first step at which something may
be (still on the grid of ``step``), so a campaign held by a small daily quota costs a few
steps a day. The grid is finer than ``step`` where a limit is: a mailbox capped per
minute (Outlook's 30, an SES account's rate) is simulated minute by minute, else it would
place one minute's worth per quarter of an hour. It is never finer than a minute (a
sliding window of seconds then places one window's worth a minute: on the slow side).
The simulation stops at its horizon or once it has looked at
:data:`WORK` sender-steps (an API call must answer in seconds); what is left then is
placed at the pace of its last seven simulated days (``Estimate.extrapolated_from``), so a
campaign of 100,000 on an SES account of 200 a day still ends in about 500 days."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sendrail.domain import limits
from sendrail.domain.limits import LimitState, Period, Rules
from sendrail.domain.windows import Window, all_open, next_open_all, zone

STEP = timedelta(minutes=15)
HORIZON = timedelta(days=400)
WORK = 200_000  # sender-steps simulated at most (some seconds)
PACE_DAYS = 7  # the days whose pace carries on past the simulation
PACE_HORIZON_DAYS = 1827  # no completion date further than five years at that pace


@dataclass
class SimulatedSender:
    """One mailbox: its rules may change with the day (warm-up)."""

    rules_at: Callable[[datetime], Rules]
    state: LimitState = field(default_factory=LimitState)
    shared: tuple[str, ...] = ()  # keys of the shared limits it counts against too


@dataclass
class SimulatedShared:
    """A limit several senders count against together (an SES account's quota)."""

    rules: Rules
    state: LimitState = field(default_factory=LimitState)


@dataclass(frozen=True)
class Estimate:
    remaining: int
    completes_at: datetime | None
    per_day: list[tuple[date, int]]
    # The first day placed at the pace of the last simulated days (None: all simulated).
    extrapolated_from: date | None = None


def simulate(
    remaining: int,
    senders: Sequence[SimulatedSender],
    start: datetime,
    *,
    windows: Sequence[Window] = (),
    tenant_rules: Rules | None = None,
    tenant_state: LimitState | None = None,
    shared: Mapping[str, SimulatedShared] | None = None,
    report_tz: str = "UTC",
    step: timedelta = STEP,
    horizon: timedelta = HORIZON,
    work: int = WORK,
) -> Estimate:
    tz = zone(report_tz)
    pools = dict(shared or {})
    rule_sets = [s.rules_at(start) for s in senders] + [p.rules for p in pools.values()]
    step = min([step, *(_finest(rules) for rules in [*rule_sets, tenant_rules] if rules)])
    per_day: dict[date, int] = {}
    left = remaining
    tenant = tenant_state or LimitState()
    now = start
    end = start + horizon
    finished: datetime | None = start if left <= 0 else None
    last_at = start
    done = 0
    closed = False  # the windows never open again
    while left > 0 and now < end and senders and done < work:
        done += len(senders)
        if windows and not all_open(list(windows), now):
            opens = next_open_all(list(windows), now)
            if opens is None:
                closed = True
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
            for key in sender.shared:
                pool = pools[key]
                room_shared = limits.available(pool.state, pool.rules, now)
                if room_shared is not None:
                    take = min(take, room_shared)
            if take > 0:
                sender.state = limits.take(sender.state, rules, now, take)
                for key in sender.shared:
                    pools[key].state = limits.take(pools[key].state, pools[key].rules, now, take)
                placed += take
        if placed:
            if tenant_rules:
                tenant = limits.take(tenant, tenant_rules, now, placed)
            left -= placed
            day = now.astimezone(tz).date()
            per_day[day] = per_day.get(day, 0) + placed
            last_at = now
            if left <= 0:
                finished = now
                break
            now += step
            continue
        now = _next_step(now, step, _earliest(senders, pools, tenant, tenant_rules, now))
    if left > 0 and per_day and not closed and now - last_at <= timedelta(days=PACE_DAYS):
        days = sorted(per_day.items())
        ahead = _at_pace(days, left)
        if ahead:
            finished = last_at + timedelta(days=(ahead[-1][0] - last_at.astimezone(tz).date()).days)
            return Estimate(remaining, finished, days + ahead, extrapolated_from=ahead[0][0])
    return Estimate(remaining=remaining, completes_at=finished, per_day=sorted(per_day.items()))


FINEST = timedelta(minutes=1)


def _finest(rules: Rules) -> timedelta:
    """The shortest period of the capping rules (a minute at the least), or a day."""
    periods = [timedelta(days=1)]
    periods += [timedelta(minutes=1) for r in rules.fixed if r.max and r.period is Period.MINUTE]
    if rules.sliding is not None:
        periods.append(timedelta(seconds=rules.sliding.seconds))
    return max(FINEST, min(periods))


def _at_pace(days: list[tuple[date, int]], left: int) -> list[tuple[date, int]]:
    """``left`` placed day by day after the last simulated day at the average pace of the
    :data:`PACE_DAYS` calendar days before it (the last day may have been cut short);
    nothing when that pace is nil or would take more than :data:`PACE_HORIZON_DAYS`."""
    last = days[-1][0]
    if len(days) == 1:
        pace = float(days[0][1])
    else:
        since = last - timedelta(days=PACE_DAYS)
        pace = sum(n for d, n in days if since <= d < last) / min(
            PACE_DAYS, (last - days[0][0]).days
        )
    if pace <= 0 or left / pace > PACE_HORIZON_DAYS:
        return []
    ahead: list[tuple[date, int]] = []
    carried = 0.0
    day = last
    while left > 0:
        day += timedelta(days=1)
        carried += pace
        n = min(left, int(carried))
        carried -= n
        if n:
            ahead.append((day, n))
            left -= n
    return ahead


def _earliest(
    senders: Sequence[SimulatedSender],
    pools: Mapping[str, SimulatedShared],
    tenant: LimitState,
    tenant_rules: Rules | None,
    now: datetime,
) -> datetime:
    """No sooner than this can anything be placed (nothing could be at ``now``): when the
    tenant's limits and some sender's own and shared ones all have room. Never past the
    end of a sender's day, where its rules may change (warm-up)."""
    ready: list[datetime] = []
    day_ends: list[datetime] = []
    for sender in senders:
        rules = sender.rules_at(now)
        own = [limits.next_free(sender.state, rules, now)]
        own += [limits.next_free(pools[k].state, pools[k].rules, now) for k in sender.shared]
        ready.append(max(own))
        day = rules.day_rule()
        if day is not None:
            day_ends.append(limits.bucket_end(day.period, day.tz, now))
    earliest = min(ready) if ready else now
    if tenant_rules is not None:
        earliest = max(earliest, limits.next_free(tenant, tenant_rules, now))
    return min(earliest, *day_ends) if day_ends else earliest


def _next_step(now: datetime, step: timedelta, earliest: datetime) -> datetime:
    """The first step of the grid from ``now`` at or after ``earliest`` (the next one at
    least)."""
    # ``limits.next_free`` may be a microsecond past the moment a unit frees: a step a
    # millisecond early is only ever one step without placements more.
    earliest -= timedelta(milliseconds=1)
    if earliest <= now + step:
        return now + step
    return now + step * math.ceil((earliest - now) / step)
