"""Single (transactional or ad hoc) messages: a campaign of kind ``message`` with one
recipient, enqueued at once in its priority band."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sendrail.domain import recipient_data
from sendrail.domain.addresses import InvalidAddress, normalize
from sendrail.domain.email_str import EmailStr
from sendrail.domain.headers import check_value
from sendrail.domain.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Recipient,
    RecipientStatus,
)
from sendrail.domain.templates import TemplateError, check
from sendrail.errors import Conflict, NotFound, ValidationFailed
from sendrail.ids import new_id
from sendrail.services import counters, feeding
from sendrail.services.deps import Deps

IDEMPOTENCY_TTL = timedelta(days=7)
DEFAULT_PRIORITY = 8  # transactional mail goes ahead of campaigns (default 5)


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: EmailStr
    subject: str = Field(min_length=1, max_length=998)
    html: str = Field(min_length=1, max_length=512 * 1024)
    text: str | None = Field(default=None, max_length=512 * 1024)
    priority: int = Field(default=DEFAULT_PRIORITY, ge=1, le=10)
    mailbox_id: str | None = Field(default=None, max_length=64)
    from_name: str | None = Field(default=None, max_length=200)
    reply_to: EmailStr | None = None
    data: dict[str, Any] = {}  # pydantic copies it per instance
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("subject", "from_name")
    @classmethod
    def _single_line(cls, value: str | None) -> str | None:
        return check_value(value) if value is not None else None

    @field_validator("data")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        reason = recipient_data.problem(value)
        if reason is not None:
            raise ValueError(reason)
        return value


def enqueue(deps: Deps, tenant_id: str, spec: MessageCreate) -> tuple[Campaign, Recipient]:
    problems = []
    for name in ("subject", "html", "text"):
        source = getattr(spec, name)
        if source:
            try:
                check(source)
            except TemplateError as exc:
                problems.append({"field": name, "reason": str(exc)})
    if problems:
        raise ValidationFailed("a template does not parse", details=problems)
    try:
        to = normalize(str(spec.to))
    except InvalidAddress as exc:
        raise ValidationFailed(str(exc), details=[{"field": "to"}]) from exc
    if spec.mailbox_id and deps.mailboxes.get(tenant_id, spec.mailbox_id) is None:
        raise ValidationFailed("no such mailbox", details=[{"field": "mailbox_id"}])
    now = deps.clock.now()
    message_id = new_id("msg", now)
    if spec.idempotency_key:
        message_id = deps.campaigns.claim_idempotency_key(
            tenant_id, spec.idempotency_key, message_id, now + IDEMPOTENCY_TTL
        )
        existing = deps.campaigns.get(tenant_id, message_id)
        if existing is not None:
            recipient = deps.recipients.get(message_id, to)
            if recipient is not None:
                return existing, recipient
    suppressed = deps.suppressions.get(tenant_id, to) is not None
    status = RecipientStatus.SUPPRESSED if suppressed else RecipientStatus.QUEUED
    campaign = Campaign(
        id=message_id,
        tenant_id=tenant_id,
        kind=CampaignKind.MESSAGE,
        name=f"message to {to}",
        subject=spec.subject,
        html=spec.html,
        text=spec.text,
        from_name=spec.from_name,
        reply_to=str(spec.reply_to) if spec.reply_to else None,
        priority=spec.priority,
        mailbox_ids=[spec.mailbox_id] if spec.mailbox_id else None,
        track_opens=False,
        track_clicks=False,
        status=CampaignStatus.RUNNING,
        feed_done=True,
        fed_at=now,
        created_at=now,
        updated_at=now,
        started_at=now,
    )
    recipient = Recipient(
        campaign_id=message_id,
        email=to,
        tenant_id=tenant_id,
        status=status,
        data=spec.data,
        created_at=now,
        updated_at=now,
    )
    deps.recipients.put_many([recipient])
    try:
        deps.campaigns.create(campaign)
    except Conflict:
        # The same idempotency key, at the same moment: the other request created it.
        return get(deps, tenant_id, message_id)
    counters.add(
        deps,
        campaign,
        {
            "total": 1,
            "queued": 0 if suppressed else 1,
            "suppressed": int(suppressed),
        },
    )
    if not suppressed:
        feeding.enqueue(deps, campaign, [(to, None)])
    return campaign, recipient


def get(deps: Deps, tenant_id: str, message_id: str) -> tuple[Campaign, Recipient]:
    campaign = deps.campaigns.get(tenant_id, message_id)
    if campaign is None or campaign.kind is not CampaignKind.MESSAGE:
        raise NotFound("no such message")
    recipient = next(iter(deps.recipients.iterate(message_id)), None)
    if recipient is None:
        raise NotFound("no such message")
    return campaign, recipient
