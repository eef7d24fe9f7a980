"""Response models of the API (request models live with the use cases they feed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel, Field
from sendrail.domain.models import (
    Campaign,
    CampaignCounts,
    ImapSettings,
    Mailbox,
    MailboxStatus,
    Provider,
    RateLimit,
    Recipient,
    SmtpSettings,
    Warmup,
)
from sendrail.domain.windows import Window
from sendrail.services.provider_quotas import SesAccount, effective_limits
from sendrail.storage.codec import encode_cursor
from sendrail.storage.imports import ImportJob

from functions.enqueue.api_model import ApiModel

T = TypeVar("T")


class Page(ApiModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class ErrorBody(ApiModel):
    code: str
    message: str
    details: list[Any] = Field(default_factory=list)


class ErrorResponse(ApiModel):
    error: ErrorBody


class Health(ApiModel):
    status: str


class Me(ApiModel):
    tenant_id: str | None
    role: str
    user: str | None = None


class BrowserMe(Me):
    """``GET /api/me`` for a caller signed in by the dashboard's cookie: with the CSRF
    token its writes carry (a reloaded page has no other way to learn it)."""

    csrf_token: str


class TenantView(ApiModel):
    id: str
    name: str
    created_at: datetime


class TenantCreated(TenantView):
    owner_key: str


class KeyView(ApiModel):
    id: str
    name: str
    role: str
    created_at: datetime


class KeyCreated(KeyView):
    key: str


class MailboxView(ApiModel):
    id: str
    provider: Provider
    email: str
    from_name: str | None
    daily_limit: int
    hourly_limit: int | None
    rate_limit: RateLimit | None
    tags: list[str]
    warmup: Warmup | None
    timezone: str
    smtp: SmtpSettings | None
    imap: ImapSettings | None = None
    ses_configuration_set: str | None = None
    max_connections: int | None = None
    dkim_selectors: list[str] = []
    status: MailboxStatus
    pause_reason: str | None
    has_credentials: bool
    token_expires_at: datetime | None = None
    consecutive_errors: int
    last_verified_at: datetime | None = None
    verify_error: str | None = None
    authorize_url: str | None = None
    # The limits dispatch enforces: its own, else the provider's published ceiling, and
    # limits shared with other mailboxes (an SES account's quota and rate).
    effective_limits: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls, m: Mailbox, authorize_url: str | None = None, ses: SesAccount | None = None
    ) -> MailboxView:
        return cls(
            **m.model_dump(
                exclude={
                    "secret",
                    "imap_secret",
                    "tenant_id",
                    "warmup_started_at",
                    "paused_until",
                    "token_version",
                }
            ),
            has_credentials=m.has_credentials,
            authorize_url=authorize_url,
            effective_limits=effective_limits(m, ses),
        )


class CampaignView(ApiModel):
    id: str
    name: str
    subject: str
    html: str
    text: str | None
    from_name: str | None
    reply_to: str | None
    priority: int
    mailbox_ids: list[str] | None
    mailbox_tags: list[str] | None
    window: Window | None
    recipient_timezone_field: str | None
    track_opens: bool
    track_clicks: bool
    scheduled_at: datetime | None
    headers: dict[str, str]
    status: str
    counts: CampaignCounts
    imports_pending: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def of(cls, c: Campaign) -> CampaignView:
        return cls(
            **c.model_dump(
                exclude={"tenant_id", "kind", "feed_cursor", "feed_done", "fed_at", "version"}
            )
        )


class StartResult(ApiModel):
    status: str
    queued: int
    estimate: dict[str, Any] | None = None


class InvalidRow(ApiModel):
    row: int
    email: str | None
    reason: str


class ImportJobView(ApiModel):
    id: str
    status: str  # importing | done
    rows: int
    chunks: int
    chunks_done: int
    added: int
    duplicates: int
    suppressed: int
    invalid_count: int
    invalid: list[InvalidRow]
    created_at: datetime

    @classmethod
    def of(cls, job: ImportJob) -> ImportJobView:
        return cls(
            id=job.id,
            status="done" if job.done else "importing",
            rows=job.rows,
            chunks=job.chunks,
            chunks_done=job.chunks_done,
            added=job.added,
            duplicates=job.duplicates + job.duplicates_in_upload,
            suppressed=job.suppressed,
            invalid_count=job.invalid_count,
            invalid=[InvalidRow(**i) for i in job.invalid],
            created_at=job.created_at,
        )


class ImportView(ApiModel):
    added: int
    duplicates: int
    invalid: list[InvalidRow]
    suppressed: int
    job: ImportJobView | None = None  # a large upload, written in the background


class RecipientView(ApiModel):
    email: str
    status: str
    mailbox_id: str | None
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    opened_at: datetime | None
    clicked_at: datetime | None
    replied_at: datetime | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, r: Recipient) -> RecipientView:
        return cls(**r.model_dump(include=set(cls.model_fields)))


class CampaignStats(ApiModel):
    total: int
    queued: int
    sending: int
    sent: int
    failed: int
    cancelled: int
    suppressed: int
    bounced: int
    complained: int = 0
    opened: int = 0
    unique_opens: int = 0
    clicked: int = 0
    unique_clicks: int = 0
    unsubscribed: int = 0
    machine_opens: int = 0
    machine_clicks: int = 0
    soft_bounced: int = 0
    replied: int = 0
    auto_replied: int = 0


class MessageView(ApiModel):
    id: str
    status: str
    to: str
    mailbox_id: str | None
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    priority: int


def page(items: list[Any], last_key: dict[str, Any] | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": encode_cursor(last_key)}


M = TypeVar("M", bound=BaseModel)


def respond(status: int, model: M) -> Response[M]:
    """A non-200 response whose body is validated and serialised like a plain return."""
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=model)
