"""Warm-up ramps that climb only on healthy days: the days a mailbox was unhealthy (read
from its daily stats counters), for dispatch (:func:`held_days`) and for the view a user
sees (``GET /api/mailboxes/{id}/warmup``, :func:`view`); the rules are
``domain.warmup.plan``."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from typing import Any, Protocol

from sendrail.domain.models import Mailbox
from sendrail.domain.provider_limits import SesAccount, effective
from sendrail.domain.warmup import SCHEDULE_MAX_DAYS, DayHealth, plan, unhealthy
from sendrail.services.deps import Deps
from sendrail.storage import stats as keys

HISTORY_DAYS = 400  # health read back at most this far (a ramp longer than a year is done)
HELD_TTL_SECONDS = 3600.0  # late bounces and complaints for past days are seen within it


class DayCounters(Protocol):
    """The mailbox's per-day counters (``storage.stats``)."""

    def range(self, key: str, first: str, last: str) -> list[tuple[str, dict[str, int]]]: ...


def health(stats: DayCounters, mailbox: Mailbox, today: date) -> dict[date, DayHealth]:
    """Per UTC day since the ramp started (bounded), as the stats counters have it."""
    started = (mailbox.warmup_started_at or mailbox.created_at).date()
    first = max(started, today - timedelta(days=HISTORY_DAYS))
    rows = stats.range(
        keys.mailbox_key(mailbox.id), "d#" + first.isoformat(), "d#" + today.isoformat()
    )
    out = {}
    for bucket, values in rows:
        day = date.fromisoformat(bucket[2:])
        out[day] = DayHealth(
            day, values.get("sent", 0), values.get("bounced", 0), values.get("complained", 0)
        )
    return out


_HELD: dict[tuple[str, date, date], tuple[int, float]] = {}
_LOCK = threading.Lock()


def held_days(stats: DayCounters, mailbox: Mailbox, today: date) -> int:
    """How many days before ``today`` the ramp did not climb (0 without a ramp). Past days
    change rarely: kept for an hour per process."""
    if mailbox.warmup is None:
        return 0
    started = (mailbox.warmup_started_at or mailbox.created_at).date()
    key = (mailbox.id, today, started)
    with _LOCK:
        cached = _HELD.get(key)
    if cached is not None and time.monotonic() - cached[1] < HELD_TTL_SECONDS:
        return cached[0]
    found = health(stats, mailbox, today - timedelta(days=1)) if today > started else {}
    count = sum(1 for d, h in found.items() if started <= d < today and unhealthy(h))
    with _LOCK:
        if len(_HELD) > 10_000:
            _HELD.clear()
        _HELD[key] = (count, time.monotonic())
    return count


def view(
    deps: Deps, tenant_id: str, mailbox_id: str, ses: SesAccount | None = None
) -> dict[str, Any]:
    mailbox, _ = deps.mailboxes.require(tenant_id, mailbox_id)
    today = deps.clock.now().date()  # the stats counters are per UTC day
    cap = effective(mailbox, ses).daily_limit
    ramp = mailbox.warmup
    if ramp is None:
        return {
            "today_allowance": cap,
            "schedule": [],
            "holding": False,
            "reason": "no warm-up ramp: the mailbox's daily limit applies",
        }
    started = (mailbox.warmup_started_at or mailbox.created_at).date()
    found = plan(ramp, started, today, health(deps.stats, mailbox, today), cap, SCHEDULE_MAX_DAYS)
    return {
        "today_allowance": found.today_allowance,
        "schedule": [{"date": d.isoformat(), "allowance": n} for d, n in found.schedule],
        "holding": found.holding,
        "reason": found.reason,
    }
