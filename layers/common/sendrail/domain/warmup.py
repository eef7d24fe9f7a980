"""Effective daily limit of a mailbox, warm-up ramps included, and the warm-up plan a
user sees (a ramp that climbs only on healthy days)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sendrail.domain.models import Mailbox, Warmup
from sendrail.domain.windows import zone


def effective_daily_limit(mailbox: Mailbox, now: datetime) -> int | None:
    """None means no daily cap (``daily_limit`` 0 and no warm-up)."""
    return ramp_limit(mailbox, now, mailbox.daily_limit or None)


def ramp_limit(mailbox: Mailbox, now: datetime, cap: int | None, held_days: int = 0) -> int | None:
    """Today's limit under ``cap`` (None: uncapped) and the mailbox's warm-up ramp, which
    has not climbed on ``held_days`` unhealthy days (see :func:`plan`)."""
    ramp = mailbox.warmup
    if ramp is None:
        return cap
    started = mailbox.warmup_started_at or mailbox.created_at
    tz = zone(mailbox.timezone)
    days = max(0, (now.astimezone(tz).date() - started.astimezone(tz).date()).days - held_days)
    today = allowance(ramp, days)
    return today if cap is None else min(cap, today)


def allowance(ramp: Warmup, days: int) -> int:
    """The ramp's daily allowance after ``days`` days of climbing."""
    ceiling = math.log(max(1.0, ramp.max_per_day / ramp.start_per_day))
    exponent = max(0, days) * math.log1p(ramp.increase_percent / 100.0)
    if exponent >= ceiling:
        return ramp.max_per_day
    return min(ramp.max_per_day, math.floor(ramp.start_per_day * math.exp(exponent)))


# --- a ramp that climbs only on healthy days ------------------------------------------------

HOLD_BOUNCE_RATE = 0.02  # a day over 2 % bounces does not count towards the ramp
HOLD_COMPLAINT_RATE = 0.001  # nor one over 0.1 % complaints (Gmail's sender guideline)
HOLD_MIN_SENT = 20  # a day with fewer sends is judged healthy (too few to tell)
SCHEDULE_MAX_DAYS = 366


@dataclass(frozen=True)
class DayHealth:
    day: date
    sent: int = 0
    bounced: int = 0
    complained: int = 0


def unhealthy(health: DayHealth) -> str | None:
    """Why the day does not count towards the ramp, or None."""
    if health.sent < HOLD_MIN_SENT:
        return None
    bounces = health.bounced / health.sent
    complaints = health.complained / health.sent
    if bounces > HOLD_BOUNCE_RATE:
        return (
            f"bounce rate {bounces:.1%} on {health.day.isoformat()} is over {HOLD_BOUNCE_RATE:.0%}"
        )
    if complaints > HOLD_COMPLAINT_RATE:
        return (
            f"complaint rate {complaints:.2%} on {health.day.isoformat()} is over "
            f"{HOLD_COMPLAINT_RATE:.1%}"
        )
    return None


@dataclass(frozen=True)
class WarmupPlan:
    today_allowance: int
    schedule: tuple[tuple[date, int], ...]  # from today, until the ramp reaches its top
    holding: bool
    reason: str | None


def plan(
    ramp: Warmup,
    started: date,
    today: date,
    health: Mapping[date, DayHealth],
    cap: int | None = None,
    horizon: int = SCHEDULE_MAX_DAYS,
) -> WarmupPlan:
    """Today's allowance and the days ahead. The ramp climbs one step per *healthy* day
    since ``started``: a day whose bounce or complaint rate is over the hold levels does not
    count, so the allowance never advances while the mailbox is unhealthy. The schedule
    assumes healthy days from today on (a hold today delays it by a day)."""

    def limited(n: int) -> int:
        return allowance(ramp, n) if cap is None else min(cap, allowance(ramp, n))

    held = [d for d, h in health.items() if started <= d < today and unhealthy(h)]
    climbed = max(0, (today - started).days - len(held))
    today_reason = unhealthy(health[today]) if today in health else None
    yesterday = today - timedelta(days=1)
    yesterday_reason = (
        unhealthy(health[yesterday]) if yesterday in health and yesterday >= started else None
    )
    top = limited(10**9)
    schedule: list[tuple[date, int]] = []
    for offset in range(max(1, horizon)):
        steps = climbed + offset - (1 if today_reason and offset > 0 else 0)
        value = limited(steps)
        schedule.append((today + timedelta(days=offset), value))
        if value >= top:
            break
    reason = today_reason or yesterday_reason
    return WarmupPlan(schedule[0][1], tuple(schedule), reason is not None, reason)
