"""Effective daily limit of a mailbox, warm-up ramps included."""

from __future__ import annotations

import math
from datetime import datetime

from sendrail.domain.models import Mailbox
from sendrail.domain.windows import zone


def effective_daily_limit(mailbox: Mailbox, now: datetime) -> int | None:
    """None means no daily cap (``daily_limit`` 0 and no warm-up)."""
    return ramp_limit(mailbox, now, mailbox.daily_limit or None)


def ramp_limit(mailbox: Mailbox, now: datetime, cap: int | None) -> int | None:
    """Today's limit under ``cap`` (None: uncapped) and the mailbox's warm-up ramp."""
    ramp = mailbox.warmup
    if ramp is None:
        return cap
    started = mailbox.warmup_started_at or mailbox.created_at
    tz = zone(mailbox.timezone)
    days = max(0, (now.astimezone(tz).date() - started.astimezone(tz).date()).days)
    ceiling = math.log(max(1.0, ramp.max_per_day / ramp.start_per_day))
    exponent = days * math.log1p(ramp.increase_percent / 100.0)
    if exponent >= ceiling:
        today = ramp.max_per_day
    else:
        today = min(ramp.max_per_day, math.floor(ramp.start_per_day * math.exp(exponent)))
    return today if cap is None else min(cap, today)
