"""Campaign stats, timelines, reports and rates, from the campaign's counters and the
``stats`` table."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from sendrail.clock import to_rfc3339
from sendrail.domain.models import Campaign
from sendrail.errors import ValidationFailed
from sendrail.services.deps import Deps
from sendrail.storage import stats

EVENTS = (
    "opened",
    "unique_opens",
    "machine_opens",
    "clicked",
    "unique_clicks",
    "machine_clicks",
    "bounced",
    "soft_bounced",
    "complained",
    "unsubscribed",
    "replied",
    "auto_replied",
)
# What the timeline and a mailbox's rates add up, bucket by bucket.
TIMELINE = (
    "sent",
    "failed",
    "opened",
    "unique_opens",
    "clicked",
    "unique_clicks",
    "bounced",
    "complained",
    "unsubscribed",
)
REPORT_COLUMNS = (
    "email",
    "status",
    "mailbox_id",
    "attempts",
    "last_error",
    "sent_at",
    "opened_at",
    "clicked_at",
    "replied_at",
)


def campaign_totals(deps: Deps, campaign: Campaign) -> dict[str, int]:
    """The campaign's counts by status and its event totals."""
    events = deps.stats.hours_summed(stats.campaign_key(campaign.id))
    counts = campaign.counts.model_dump()
    counts.pop("deferred", None)
    return {**counts, **{name: events.get(name, 0) for name in EVENTS if name != "bounced"}}


def rates(sent: int, values: dict[str, int]) -> dict[str, float]:
    def rate(n: int) -> float:
        return round(n / sent, 4) if sent else 0.0

    return {
        "open_rate": rate(values.get("unique_opens", 0)),
        "click_rate": rate(values.get("unique_clicks", 0)),
        "bounce_rate": rate(values.get("bounced", 0)),
        "complaint_rate": rate(values.get("complained", 0)),
        "unsubscribe_rate": rate(values.get("unsubscribed", 0)),
        "reply_rate": rate(values.get("replied", 0)),
        "click_to_open_rate": round(values.get("unique_clicks", 0) / values["unique_opens"], 4)
        if values.get("unique_opens")
        else 0.0,
    }


def campaign_analytics(deps: Deps, campaign: Campaign) -> dict[str, Any]:
    totals = campaign_totals(deps, campaign)
    delivered = totals["sent"] + totals["bounced"]  # everything the providers accepted
    links = [
        {
            "url": labels.get("url", ""),
            "clicks": counters.get("clicks", 0),
            "unique_clicks": counters.get("unique_clicks", 0),
        }
        for _, counters, labels in deps.stats.labelled(stats.campaign_key(campaign.id), "link#")
    ]
    links.sort(key=lambda link: -int(str(link["clicks"])))
    return {
        "campaign_id": campaign.id,
        "sent": delivered,
        **{k: totals[k] for k in totals},
        **rates(delivered, totals),
        "links": links,
    }


def timeline(deps: Deps, campaign: Campaign, bucket: str) -> list[dict[str, Any]]:
    if bucket not in ("hour", "day"):
        raise ValidationFailed("bucket must be hour or day", details=[{"field": "bucket"}])
    now = deps.clock.now()
    start = campaign.started_at or campaign.created_at
    end = now  # opens, clicks and bounces go on after the last send
    if end - start > timedelta(days=92):
        start = end - timedelta(days=92)
    rows = deps.stats.range(
        stats.campaign_key(campaign.id), stats.hour_bucket(start), stats.hour_bucket(end)
    )
    names = TIMELINE
    merged: dict[str, dict[str, int]] = {}
    for key, values in rows:
        hour = key[2:]  # YYYY-MM-DDTHH
        label = hour[:10] if bucket == "day" else hour
        slot = merged.setdefault(label, dict.fromkeys(names, 0))
        for name in names:
            slot[name] += values.get(name, 0)
    out = []
    for label in sorted(merged):
        when = datetime.fromisoformat(label + ("T00" if bucket == "day" else "") + ":00:00+00:00")
        out.append({"start": to_rfc3339(when), **merged[label]})
    return out


def report_page(
    deps: Deps, campaign: Campaign, limit: int, after: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of the per-recipient report (Lambda answers at most 6 MB: large campaigns
    are read page by page with the cursor)."""
    items, last = deps.recipients.page(campaign.id, limit=limit, after=after)
    rows = []
    for r in items:
        rows.append(
            {
                "email": r.email,
                "status": r.status.value,
                "mailbox_id": r.mailbox_id,
                "attempts": r.attempts,
                "last_error": r.last_error,
                "sent_at": to_rfc3339(r.sent_at) if r.sent_at else None,
                "opened_at": to_rfc3339(r.opened_at) if r.opened_at else None,
                "clicked_at": to_rfc3339(r.clicked_at) if r.clicked_at else None,
                "replied_at": to_rfc3339(r.replied_at) if r.replied_at else None,
                "data": r.data,
            }
        )
    return rows, last


def as_csv(rows: list[dict[str, Any]], header: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    data_keys = sorted({k for r in rows for k in r["data"]})
    if header:
        writer.writerow([*REPORT_COLUMNS, *data_keys])
    for r in rows:
        writer.writerow(
            [_cell(r.get(c)) for c in REPORT_COLUMNS] + [_cell(r["data"].get(k)) for k in data_keys]
        )
    return out.getvalue()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a cell starting with these is quoted as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def overview(deps: Deps, tenant_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    if end < start:
        raise ValidationFailed("from must be before to", details=[{"field": "from"}])
    if end - start > timedelta(days=366):
        raise ValidationFailed("at most a year at a time", details=[{"field": "from"}])
    rows = deps.stats.range(
        stats.tenant_key(tenant_id), stats.day_bucket(start), stats.day_bucket(end)
    )
    names = ("sent", "failed", *EVENTS)
    totals = dict.fromkeys(names, 0)
    days = []
    for key, values in rows:
        days.append({"date": key[2:], **{n: values.get(n, 0) for n in names}})
        for n in names:
            totals[n] += values.get(n, 0)
    return {
        "from": to_rfc3339(start),
        "to": to_rfc3339(end),
        **totals,
        **rates(totals["sent"], totals),
        "days": days,
    }


def mailbox_analytics(deps: Deps, mailbox_id: str, days: int = 30) -> dict[str, Any]:
    now = deps.clock.now()
    rows = deps.stats.range(
        stats.mailbox_key(mailbox_id),
        stats.day_bucket(now - timedelta(days=days - 1)),
        stats.day_bucket(now),
    )
    names = (*TIMELINE[:-1], "soft_bounced")  # unsubscribes are not a mailbox's doing
    totals = dict.fromkeys(names, 0)
    for _, values in rows:
        for n in names:
            totals[n] += values.get(n, 0)
    return {"mailbox_id": mailbox_id, "days": days, **totals, **rates(totals["sent"], totals)}
