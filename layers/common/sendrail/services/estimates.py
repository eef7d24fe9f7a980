"""``GET /api/campaigns/{id}/estimate``: when will this campaign finish?"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sendrail.domain.estimate import Estimate, SimulatedSender, SimulatedShared, simulate
from sendrail.domain.limits import Rules
from sendrail.domain.models import Campaign, Mailbox
from sendrail.domain.provider_limits import EffectiveLimits, effective
from sendrail.services import capacity, warmup_plans
from sendrail.services.deps import Deps
from sendrail.services.provider_quotas import SesAccountQuota, ses_account_of


def _rules_at(
    mailbox: Mailbox, held_days: int, found: EffectiveLimits
) -> Callable[[datetime], Rules]:
    def rules(when: datetime) -> Rules:
        return capacity.mailbox_rules(mailbox, when, held_days=held_days, limits=found)

    return rules


def estimate(
    deps: Deps,
    campaign: Campaign,
    ses_account: SesAccountQuota | None = None,
    ses_region: str = "",
) -> Estimate:
    """Under the limits dispatch enforces (``provider_limits.effective``: for SES mailboxes
    the account's quota ``ses_account`` reads, in ``ses_region``, shared by them all)."""
    now = deps.clock.now()
    settings = deps.settings.sending(campaign.tenant_id)
    mailboxes = capacity.pool(campaign, deps.mailboxes.all_for_tenant(campaign.tenant_id))
    ses = ses_account_of(mailboxes, ses_account)
    found = {m.id: effective(m, ses) for m in mailboxes}
    shared = {m.id: capacity.shared_subjects(found[m.id], ses_region) for m in mailboxes}
    shared_rules = {s: rules for pairs in shared.values() for s, rules in pairs}
    subjects = [capacity.mailbox_subject(m.id) for m in mailboxes]
    tenant = capacity.tenant_subject(campaign.tenant_id)
    states = deps.limits.read([*subjects, *shared_rules, tenant])
    senders = [
        SimulatedSender(
            rules_at=_rules_at(m, warmup_plans.held_days(deps.stats, m, now.date()), found[m.id]),
            state=states[capacity.mailbox_subject(m.id)],
            shared=tuple(s for s, _ in shared[m.id]),
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
        shared={s: SimulatedShared(rules, states[s]) for s, rules in shared_rules.items()},
        report_tz=settings.timezone,
    )
