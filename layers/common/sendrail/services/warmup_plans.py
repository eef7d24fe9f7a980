"""The warm-up a user sees (``GET /api/mailboxes/{id}/warmup``): the mailbox's ramp, its
daily health from the stats counters, and its limits in force (``domain.warmup.plan``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sendrail.domain.provider_limits import effective
from sendrail.domain.warmup import SCHEDULE_MAX_DAYS, DayHealth, plan
from sendrail.services.deps import Deps
from sendrail.services.mailboxes import get
from sendrail.storage import stats as keys

HISTORY_DAYS = 400  # health read back at most this far (a ramp longer than a year is done)


def view(
    deps: Deps, tenant_id: str, mailbox_id: str, ses_daily: int | None = None
) -> dict[str, Any]:
    mailbox, _ = get(deps, tenant_id, mailbox_id)
    now = deps.clock.now()
    today = now.date()  # the stats counters are per UTC day
    cap = effective(mailbox, ses_daily).daily_limit
    ramp = mailbox.warmup
    if ramp is None:
        return {
            "today_allowance": cap,
            "schedule": [],
            "holding": False,
            "reason": "no warm-up ramp: the mailbox's daily limit applies",
        }
    started = (mailbox.warmup_started_at or mailbox.created_at).date()
    first = max(started, today - timedelta(days=HISTORY_DAYS))
    rows = deps.stats.range(
        keys.mailbox_key(mailbox.id), "d#" + first.isoformat(), "d#" + today.isoformat()
    )
    health = {}
    for bucket, values in rows:
        day = date.fromisoformat(bucket[2:])
        health[day] = DayHealth(
            day, values.get("sent", 0), values.get("bounced", 0), values.get("complained", 0)
        )
    found = plan(ramp, started, today, health, cap, SCHEDULE_MAX_DAYS)
    return {
        "today_allowance": found.today_allowance,
        "schedule": [{"date": d.isoformat(), "allowance": n} for d, n in found.schedule],
        "holding": found.holding,
        "reason": found.reason,
    }
