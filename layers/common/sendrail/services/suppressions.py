"""Suppressing an address for a tenant: from now on nothing is sent to it, and its unsent
mail in every campaign is cancelled at once (manual, unsubscribe, hard bounce, complaint)."""

from __future__ import annotations

from sendrail.domain.addresses import InvalidAddress, normalize
from sendrail.domain.models import RecipientStatus, Suppression, SuppressionReason
from sendrail.errors import NotFound, ValidationFailed
from sendrail.services import counters
from sendrail.services.deps import Deps


def address(raw: str) -> str:
    try:
        return normalize(raw)
    except InvalidAddress as exc:
        raise ValidationFailed(str(exc), details=[{"field": "email"}]) from exc


def suppress(
    deps: Deps, tenant_id: str, email: str, reason: SuppressionReason
) -> tuple[Suppression, int]:
    """Record the suppression (the first reason is kept) and mark the address's ``queued``
    recipients ``suppressed`` in every campaign of the tenant. Returns the suppression and
    how many unsent messages were stopped. Dispatch also checks suppressions at send time,
    so a message already in flight is skipped too."""
    email = address(email)
    existing = deps.suppressions.get(tenant_id, email)
    record = existing or Suppression(
        tenant_id=tenant_id, email=email, reason=reason, created_at=deps.clock.now()
    )
    if existing is None:
        deps.suppressions.put(record)
    stopped = 0
    now = deps.clock.now()
    for campaign_id in deps.recipients.campaigns_of(tenant_id, email):
        changed = deps.recipients.set_status(
            campaign_id, email, RecipientStatus.SUPPRESSED, now, only_from=[RecipientStatus.QUEUED]
        )
        if changed is not None:
            stopped += 1
            counters.add_by_id(deps, tenant_id, campaign_id, {"queued": -1, "suppressed": 1})
    return record, stopped


def unsuppress(deps: Deps, tenant_id: str, email: str) -> None:
    """Remove the suppression. Recipients already marked ``suppressed`` stay so."""
    if not deps.suppressions.delete(tenant_id, address(email)):
        raise NotFound("that address is not suppressed")
