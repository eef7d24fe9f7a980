"""Campaign use cases and the lifecycle ``draft -> scheduled/running -> paused -> running
-> completed | cancelled``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sendrail.domain.email_str import EmailStr
from sendrail.domain.headers import check_name, check_value
from sendrail.domain.models import (
    Campaign,
    CampaignCounts,
    CampaignKind,
    CampaignStatus,
    MailboxStatus,
)
from sendrail.domain.templates import TemplateError, check
from sendrail.domain.windows import Window
from sendrail.errors import Conflict, NotFound, ValidationFailed
from sendrail.ids import new_id
from sendrail.services import feeding
from sendrail.services.deps import Deps

EDITABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.PAUSED})
STARTABLE = frozenset({CampaignStatus.DRAFT})
PAUSABLE = frozenset({CampaignStatus.SCHEDULED, CampaignStatus.RUNNING})
CANCELLABLE = frozenset(
    {CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED}
)
MAX_HTML = 512 * 1024
# ``scheduled_at``: not before 2000, not more than a year ahead of now (the clock's).
EARLIEST_SCHEDULE = datetime(2000, 1, 1, tzinfo=UTC)
SCHEDULE_AHEAD = timedelta(days=366)

Tag = Annotated[str, Field(min_length=1, max_length=64)]


class CampaignFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    subject: str | None = Field(default=None, min_length=1, max_length=998)
    html: str | None = Field(default=None, min_length=1, max_length=MAX_HTML)
    text: str | None = Field(default=None, max_length=MAX_HTML)
    from_name: str | None = Field(default=None, max_length=200)
    reply_to: EmailStr | None = None
    priority: int | None = Field(default=None, ge=1, le=10)
    mailbox_ids: list[str] | None = Field(default=None, max_length=500)
    mailbox_tags: list[Tag] | None = Field(default=None, max_length=50)
    window: Window | None = None
    recipient_timezone_field: str | None = Field(default=None, max_length=64)
    track_opens: bool | None = None
    track_clicks: bool | None = None
    scheduled_at: datetime | None = None
    headers: dict[str, str] | None = Field(default=None, max_length=30)

    @field_validator("subject", "from_name", "name")
    @classmethod
    def _single_line(cls, value: str | None) -> str | None:
        return check_value(value) if value is not None else None

    @field_validator("reply_to", mode="before")
    @classmethod
    def _reply_to_line(cls, value: Any) -> Any:
        if isinstance(value, str):
            check_value(value)
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        for name, header in value.items():
            check_name(name)
            check_value(header)
            if len(header) > 998:
                raise ValueError(f"header {name} is longer than 998 characters")
        return value

    @field_validator("scheduled_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("scheduled_at needs a timezone (use RFC 3339, e.g. ...Z)")
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            raise ValueError("scheduled_at is out of range") from None
        if value < EARLIEST_SCHEDULE:
            raise ValueError("scheduled_at is before 2000")
        return value


class CampaignCreate(CampaignFields):
    name: str = Field(min_length=1, max_length=200)
    subject: str = Field(min_length=1, max_length=998)
    html: str = Field(min_length=1, max_length=MAX_HTML)

    @model_validator(mode="after")
    def _one_pool(self) -> CampaignCreate:
        if self.mailbox_ids and self.mailbox_tags:
            raise ValueError("give mailbox_ids or mailbox_tags, not both")
        return self


def _check_templates(fields: dict[str, Any]) -> None:
    problems = []
    for name in ("subject", "html", "text"):
        source = fields.get(name)
        if source:
            try:
                check(source)
            except TemplateError as exc:
                problems.append({"field": name, "reason": str(exc)})
    if problems:
        raise ValidationFailed("a template does not parse", details=problems)


def _check_schedule(deps: Deps, when: datetime | None) -> None:
    if when is not None and when > deps.clock.now() + SCHEDULE_AHEAD:
        raise ValidationFailed(
            "scheduled_at is more than a year ahead",
            details=[{"field": "scheduled_at", "reason": "at most a year ahead"}],
        )


def _check_mailboxes(deps: Deps, tenant_id: str, mailbox_ids: list[str] | None) -> None:
    """Every id names one of the tenant's mailboxes, not archived (another tenant's and a
    missing one read the same: no such mailbox)."""
    if not mailbox_ids:
        return
    usable = {
        m.id
        for m in deps.mailboxes.all_for_tenant(tenant_id)
        if m.status is not MailboxStatus.ARCHIVED
    }
    unknown = sorted({m for m in mailbox_ids if m not in usable})
    if unknown:
        raise ValidationFailed(
            "mailbox_ids names mailboxes that do not exist or are archived",
            details=[{"field": "mailbox_ids", "reason": "no such mailbox", "ids": unknown[:20]}],
        )


def create(deps: Deps, tenant_id: str, spec: CampaignCreate) -> Campaign:
    fields = spec.model_dump(exclude_none=True)
    _check_templates(fields)
    _check_schedule(deps, spec.scheduled_at)
    _check_mailboxes(deps, tenant_id, spec.mailbox_ids)
    now = deps.clock.now()
    campaign = Campaign(
        id=new_id("cmp", now), tenant_id=tenant_id, created_at=now, updated_at=now, **fields
    )
    return deps.campaigns.create(campaign)


def get(
    deps: Deps, tenant_id: str, campaign_id: str, kind: CampaignKind = CampaignKind.CAMPAIGN
) -> Campaign:
    campaign = deps.campaigns.get(tenant_id, campaign_id)
    if campaign is None or campaign.kind is not kind:
        raise NotFound("no such campaign" if kind is CampaignKind.CAMPAIGN else "no such message")
    return campaign


def update(deps: Deps, tenant_id: str, campaign_id: str, changes: CampaignFields) -> Campaign:
    campaign = get(deps, tenant_id, campaign_id)
    if campaign.status not in EDITABLE:
        raise Conflict(f"a {campaign.status.value} campaign cannot be edited; pause it first")
    given = {k: getattr(changes, k) for k in changes.model_fields_set}
    for required in ("name", "subject", "html"):
        if required in given and given[required] is None:
            raise ValidationFailed(f"{required} cannot be removed", details=[{"field": required}])
    _check_templates(given)
    _check_schedule(deps, given.get("scheduled_at"))
    _check_mailboxes(deps, tenant_id, given.get("mailbox_ids"))
    if (
        given.get("mailbox_ids")
        and (given.get("mailbox_tags") or campaign.mailbox_tags)
        and "mailbox_tags" not in given
    ):
        given["mailbox_tags"] = None
    if given.get("mailbox_tags") and campaign.mailbox_ids and "mailbox_ids" not in given:
        given["mailbox_ids"] = None
    if "headers" in given and given["headers"] is None:
        given["headers"] = {}
    for flag in ("track_opens", "track_clicks"):
        if flag in given and given[flag] is None:
            given[flag] = True
    if "priority" in given and given["priority"] is None:
        given["priority"] = 5
    updated = campaign.model_copy(update={**given, "updated_at": deps.clock.now()})
    Campaign.model_validate(updated.model_dump())
    return deps.campaigns.replace(updated)


def start(deps: Deps, tenant_id: str, campaign_id: str) -> Campaign:
    """Idempotent: a running or scheduled campaign is returned as it is."""
    campaign = get(deps, tenant_id, campaign_id)
    if campaign.status in (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED):
        return campaign
    if campaign.status is not CampaignStatus.DRAFT:
        raise Conflict(f"a {campaign.status.value} campaign cannot be started")
    if campaign.counts.total == 0 and campaign.imports_pending == 0:
        raise Conflict("the campaign has no recipients; add some first")
    _check_mailboxes(deps, tenant_id, campaign.mailbox_ids)
    _check_schedule(deps, campaign.scheduled_at)
    now = deps.clock.now()
    if campaign.scheduled_at and campaign.scheduled_at > now:
        moved = deps.campaigns.transition(
            tenant_id, campaign_id, STARTABLE, CampaignStatus.SCHEDULED, now, feed_reset=True
        )
    else:
        moved = deps.campaigns.transition(
            tenant_id,
            campaign_id,
            STARTABLE,
            CampaignStatus.RUNNING,
            now,
            doc_updates={"started_at": now},
            feed_reset=True,
        )
    if moved is None:  # lost a race with another start: return what is there now
        return get(deps, tenant_id, campaign_id)
    if moved.status is CampaignStatus.RUNNING:
        feeding.feed(deps, moved)
        return get(deps, tenant_id, campaign_id)
    return moved


def pause(deps: Deps, tenant_id: str, campaign_id: str) -> Campaign:
    campaign = get(deps, tenant_id, campaign_id)
    if campaign.status is CampaignStatus.PAUSED:
        return campaign
    moved = deps.campaigns.transition(
        tenant_id, campaign_id, PAUSABLE, CampaignStatus.PAUSED, deps.clock.now()
    )
    if moved is None:
        raise Conflict(f"a {campaign.status.value} campaign cannot be paused")
    return moved


def resume(deps: Deps, tenant_id: str, campaign_id: str) -> Campaign:
    campaign = get(deps, tenant_id, campaign_id)
    if campaign.status is CampaignStatus.RUNNING:
        return campaign
    now = deps.clock.now()
    updates: dict[str, Any] = {}
    target = CampaignStatus.RUNNING
    if campaign.started_at is None:
        if campaign.scheduled_at and campaign.scheduled_at > now:
            target = CampaignStatus.SCHEDULED
        else:
            updates["started_at"] = now
    moved = deps.campaigns.transition(
        tenant_id,
        campaign_id,
        {CampaignStatus.PAUSED},
        target,
        now,
        doc_updates=updates,
        feed_reset=True,
    )
    if moved is None:
        raise Conflict(f"a {campaign.status.value} campaign cannot be resumed")
    if moved.status is CampaignStatus.RUNNING:
        feeding.feed(deps, moved)
    return get(deps, tenant_id, campaign_id)


def cancel(deps: Deps, tenant_id: str, campaign_id: str) -> Campaign:
    """Cancelled: unsent recipients become ``cancelled`` (now for small campaigns, in the
    background by dispatch for large ones); nothing more is sent."""
    campaign = get(deps, tenant_id, campaign_id)
    if campaign.status is CampaignStatus.CANCELLED:
        return campaign
    moved = deps.campaigns.transition(
        tenant_id,
        campaign_id,
        CANCELLABLE,
        CampaignStatus.CANCELLED,
        deps.clock.now(),
        doc_updates={"completed_at": deps.clock.now()},
        feed_reset=True,
    )
    if moved is None:
        raise Conflict(f"a {campaign.status.value} campaign cannot be cancelled")
    feeding.sweep_cancelled(deps, moved, budget=1000)
    return get(deps, tenant_id, campaign_id)


def delete(deps: Deps, tenant_id: str, campaign_id: str) -> Campaign | None:
    """A draft is deleted with its recipients; a started campaign is cancelled."""
    campaign = get(deps, tenant_id, campaign_id)
    if campaign.status is CampaignStatus.DRAFT:
        feeding.delete_recipients(deps, campaign)
        if deps.campaigns.delete_draft(tenant_id, campaign_id):
            return None
        campaign = get(deps, tenant_id, campaign_id)
    if campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
        return campaign
    return cancel(deps, tenant_id, campaign_id)


def counts(campaign: Campaign) -> CampaignCounts:
    return campaign.counts
