"""``GET /api/campaigns/{id}/estimate``: when will this campaign finish?"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sendrail.domain.estimate import Estimate, SimulatedSender, simulate
from sendrail.domain.limits import Rules
from sendrail.domain.models import Campaign, Mailbox
from sendrail.services import capacity, warmup_plans
from sendrail.services.deps import Deps


def _rules_at(mailbox: Mailbox, held_days: int) -> Callable[[datetime], Rules]:
    def rules(when: datetime) -> Rules:
        return capacity.mailbox_rules(mailbox, when, held_days=held_days)

    return rules


def estimate(deps: Deps, campaign: Campaign) -> Estimate:
    now = deps.clock.now()
    settings = deps.settings.sending(campaign.tenant_id)
    mailboxes = capacity.pool(campaign, deps.mailboxes.all_for_tenant(campaign.tenant_id))
    subjects = [capacity.mailbox_subject(m.id) for m in mailboxes]
    tenant = capacity.tenant_subject(campaign.tenant_id)
    states = deps.limits.read([*subjects, tenant])
    senders = [
        SimulatedSender(
            rules_at=_rules_at(m, warmup_plans.held_days(deps.stats, m, now.date())),
            state=states[capacity.mailbox_subject(m.id)],
        )
        for m in mailboxes
    ]
    tenant_rules = capacity.tenant_rules(settings)
    has_tenant_rules = bool(tenant_rules.fixed) or tenant_rules.sliding is not None
    remaining = max(0, campaign.counts.queued + campaign.counts.sending)
    return simulate(
        remaining,
        senders if settings.enabled else [],
        now,
        windows=capacity.windows_for(settings, campaign),
        tenant_rules=tenant_rules if has_tenant_rules else None,
        tenant_state=states[tenant],
        report_tz=settings.timezone,
    )
