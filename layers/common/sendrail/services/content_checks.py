"""Checking a campaign's content before it starts (``domain.content_check``): gathers what
the check needs (the tenant's footer and address settings, the data keys of a bounded
sample of recipients) and gates ``start``."""

from __future__ import annotations

from sendrail.domain.content_check import Content, Finding, Severity, check, has_errors
from sendrail.domain.models import Campaign, CampaignStatus, Role
from sendrail.errors import ContentCheckFailed, Forbidden
from sendrail.services.deps import Deps

SAMPLE = 500  # recipients whose data keys are read (one Query page)


def content_of(deps: Deps, campaign: Campaign, sample: int = SAMPLE) -> Content:
    settings = deps.settings.sending(campaign.tenant_id)
    recipients, _ = deps.recipients.page(campaign.id, limit=sample)
    keys: set[str] = set()
    for recipient in recipients:
        keys.update(recipient.data)
    return Content(
        subject=campaign.subject,
        html=campaign.html,
        text=campaign.text,
        footer=settings.unsubscribe_footer,
        postal_address=settings.postal_address,
        data_keys=frozenset(keys),
        sampled=len(recipients),
    )


def run(deps: Deps, campaign: Campaign) -> list[Finding]:
    return check(content_of(deps, campaign))


def before_start(deps: Deps, campaign: Campaign, *, force: bool, role: Role) -> None:
    """Raise :class:`ContentCheckFailed` when a draft about to start has errors, unless an
    owner forces it; forcing is for owners only (:class:`Forbidden`)."""
    if force and role is not Role.OWNER:
        raise Forbidden("only an owner may start a campaign past its content check")
    if force or campaign.status is not CampaignStatus.DRAFT:
        return
    findings = run(deps, campaign)
    if has_errors(findings):
        errors = [f for f in findings if f.severity is Severity.ERROR]
        raise ContentCheckFailed(
            "the content check found "
            + ", ".join(f.code for f in errors)
            + f"; fix {'it' if len(errors) == 1 else 'them'} (POST .../check lists all), "
            'or an owner may send {"force": true}',
            details=[f.as_dict() for f in findings],
        )
