"""The queue views: totals, per-mailbox capacity, processor health, and the two repair
actions (retry failed recipients, clear them from the views)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sendrail.clock import to_rfc3339
from sendrail.domain import limits
from sendrail.domain.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    MailboxStatus,
    RecipientStatus,
)
from sendrail.domain.provider_limits import effective
from sendrail.domain.windows import all_open, next_open_all
from sendrail.errors import NotFound
from sendrail.services import capacity, counters, provider_quotas, warmup_plans
from sendrail.services.deps import Deps
from sendrail.storage import stats
from sendrail.storage.queues import BANDS


@dataclass
class QueueTotals:
    total_queued: int = 0
    total_sending: int = 0
    total_sent: int = 0
    total_failed: int = 0
    total_deferred: int = 0
    by_priority: dict[str, dict[str, int]] = field(default_factory=dict)


def totals(deps: Deps, tenant_id: str) -> QueueTotals:
    out = QueueTotals()
    rows = deps.stats.range(
        stats.tenant_key(tenant_id), counters.queue_bucket(1), counters.queue_bucket(10)
    )
    for bucket, values in rows:
        priority = str(int(bucket.rsplit("p", 1)[-1]))
        failed = max(0, values.get("failed", 0) - values.get("cleared", 0))
        row = {
            "queued": max(0, values.get("queued", 0)),
            "deferred": max(0, values.get("deferred", 0)),
            "sending": max(0, values.get("sending", 0)),
            "sent": max(0, values.get("sent", 0)),
            "failed": failed,
        }
        out.by_priority[priority] = row
        out.total_queued += row["queued"]
        out.total_deferred += row["deferred"]
        out.total_sending += row["sending"]
        out.total_sent += row["sent"]
        out.total_failed += row["failed"]
    return out


def servers(
    deps: Deps, tenant_id: str, ses_account: provider_quotas.SesAccountQuota | None = None
) -> list[dict[str, Any]]:
    """Each mailbox's capacity right now, from its limit state, and the limits in force
    (provider ceilings included)."""
    now = deps.clock.now()
    mailboxes = [
        m
        for m in deps.mailboxes.all_for_tenant(tenant_id)
        if m.status is not MailboxStatus.ARCHIVED
    ]
    states = deps.limits.read(capacity.mailbox_subject(m.id) for m in mailboxes)
    ses = provider_quotas.ses_account_of(mailboxes, ses_account)
    from sendrail.services import sender_auth  # noqa: PLC0415 - its parsers load on first use

    checked = sender_auth.flags(deps, tenant_id)  # the cache only: never DNS here
    out = []
    for m in mailboxes:
        held = warmup_plans.held_days(deps.stats, m, now.date())
        found = effective(m, ses)  # the limits dispatch enforces
        rules = capacity.mailbox_rules(m, now, ses, held, limits=found)
        state = states[capacity.mailbox_subject(m.id)]
        day = rules.day_rule()
        hour = next((r for r in rules.fixed if r.period is limits.Period.HOUR), None)
        window_left = None
        if rules.sliding is not None:
            window_left = max(0, rules.sliding.max - limits.sliding_used(state, rules.sliding, now))
        room = limits.available(state, rules, now)
        ready = now if (room is None or room > 0) else limits.next_free(state, rules, now)
        out.append(
            {
                "id": m.id,
                "email": m.email,
                "provider": m.provider.value,
                "status": m.status.value,
                "daily_limit": day.max if day and day.max is not None else 0,
                "daily_used": limits.day_used(state, rules, now),
                "daily_remaining": limits.day_remaining(state, rules, now),
                "hourly_used": limits.used(state, hour, now) if hour else None,
                "window_remaining": window_left,
                "next_available_at": to_rfc3339(ready) if m.can_send() else None,
                "effective_limits": found.as_dict(),
                "authentication": checked.get(m.id),
            }
        )
    return out


def status(deps: Deps, tenant_id: str) -> dict[str, Any]:
    """``GET /api/queue/status`` for one tenant: whether the processor is running (the time
    of its last run, nothing of what it did), the tenant's window and its own queue figures.
    Other tenants' and platform figures (run counts, errors, SQS depths) are for the
    platform admin only: :func:`platform_status`."""
    now = deps.clock.now()
    settings = deps.settings.sending(tenant_id)
    windows = [settings.window] if settings.window else []
    inside = all_open(windows, now) if windows else True
    opens = None if inside or not windows else next_open_all(windows, now)
    own = totals(deps, tenant_id)
    return {
        "now": to_rfc3339(now),
        "enabled": settings.enabled,
        "in_window": inside,
        "window": settings.window.model_dump() if settings.window else None,
        "next_window_open_at": to_rfc3339(opens) if opens else None,
        "last_run_at": deps.system.dispatch_health().get("last_run_at"),
        "queued": own.total_queued,
        "deferred": own.total_deferred,
        "sending": own.total_sending,
        "failed": own.total_failed,
    }


def _queue_depths(deps: Deps) -> dict[str, dict[str, int]]:
    queues: dict[str, dict[str, int]] = {}
    for band in BANDS:
        queues[band.name] = deps.queues.depth(band.name)
        queues[f"{band.name}-dlq"] = deps.queues.depth(f"{band.name}-dlq")
    return queues


def platform_status(deps: Deps) -> dict[str, Any]:
    """``GET /api/admin/queue/status``: the processor's last run and error, queue depths."""
    queues = _queue_depths(deps)
    health = deps.system.dispatch_health()
    return {
        "now": to_rfc3339(deps.clock.now()),
        "last_run_at": health.get("last_run_at"),
        "last_run": health.get("last_run"),
        "last_error": health.get("last_error"),
        "last_error_at": health.get("last_error_at"),
        "queues": queues,
        "dead_letters": sum(
            q["visible"] + q["in_flight"] for name, q in queues.items() if name.endswith("-dlq")
        ),
    }


def _campaigns(deps: Deps, tenant_id: str, campaign_id: str | None) -> list[Campaign]:
    if campaign_id:
        campaign = deps.campaigns.get(tenant_id, campaign_id)
        if campaign is None:
            raise NotFound("no such campaign")
        return [campaign]
    found: list[Campaign] = []
    for kind in (CampaignKind.CAMPAIGN, CampaignKind.MESSAGE):
        after = None
        while True:
            page, after = deps.campaigns.page(tenant_id, 200, after, kind=kind)
            found.extend(c for c in page if c.counts.failed > 0)
            if not after:
                break
    return found


def retry_failed(deps: Deps, tenant_id: str, campaign_id: str | None, budget: int = 10_000) -> int:
    """Requeue failed recipients (not bounced or suppressed; not cleared), fresh attempts."""
    now = deps.clock.now()
    requeued = 0
    for campaign in _campaigns(deps, tenant_id, campaign_id):
        moved = 0
        for recipient in deps.recipients.iterate(campaign.id, status=RecipientStatus.FAILED):
            if requeued + moved >= budget:
                break
            if recipient.cleared_at is not None:
                continue
            if deps.recipients.requeue_failed(recipient, now):
                moved += 1
        if not moved:
            continue
        requeued += moved
        counters.add(deps, campaign, {"failed": -moved, "queued": moved})
        if campaign.status in (CampaignStatus.COMPLETED,):
            deps.campaigns.transition(
                tenant_id,
                campaign.id,
                {CampaignStatus.COMPLETED},
                CampaignStatus.RUNNING,
                now,
                doc_updates={"completed_at": None},
                feed_reset=True,
            )
        else:
            deps.campaigns.reset_feed(tenant_id, campaign.id)
    return requeued


def clear_failed(deps: Deps, tenant_id: str, campaign_id: str | None) -> int:
    """Hide failed recipients from the queue views; their status stays in reports."""
    now = deps.clock.now()
    cleared = 0
    for campaign in _campaigns(deps, tenant_id, campaign_id):
        moved = sum(
            1
            for recipient in deps.recipients.iterate(campaign.id, status=RecipientStatus.FAILED)
            if recipient.cleared_at is None and deps.recipients.mark_cleared(recipient, now)
        )
        if moved:
            cleared += moved
            counters.add(deps, campaign, {"cleared": moved})
    return cleared


def platform(deps: Deps, tenant_limit: int = 1000) -> dict[str, Any]:
    """``GET /api/admin/stats``: tenants, queue depths, today's sends, processor health."""
    now = deps.clock.now()
    tenants: list[str] = []
    after = None
    while len(tenants) < tenant_limit:
        page, after = deps.tenancy.list_tenants(min(200, tenant_limit - len(tenants)), after)
        tenants.extend(t.id for t in page)
        if not after:
            break
    today = stats.day_bucket(now)
    sent = failed = 0
    for tenant_id in tenants:
        day = deps.stats.get(stats.tenant_key(tenant_id), today)
        sent += day.get("sent", 0)
        failed += day.get("failed", 0)
    queues = _queue_depths(deps)
    health = deps.system.dispatch_health()
    return {
        "tenants": len(tenants),
        "sent_today": sent,
        "failed_today": failed,
        "queues": queues,
        "last_dispatch_at": health.get("last_run_at"),
        "last_error": health.get("last_error"),
    }
