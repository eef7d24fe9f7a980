"""The entities of sendrail and their value objects (Pydantic, no storage concerns)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sendrail.domain.addresses import normalize
from sendrail.domain.windows import Window, zone

PositiveInt = Annotated[int, Field(ge=1)]
MAX_CONNECTIONS = 50  # parallel connections one mailbox may ask for
# A DKIM selector (``<selector>._domainkey.<domain>``): DNS labels, e.g. SES Easy DKIM's
# tokens or "s1.2024".
DkimSelector = Annotated[
    str,
    Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*$"),
]
MAX_DKIM_SELECTORS = 10
NonNegativeInt = Annotated[int, Field(ge=0)]
# The ceiling of every count a client sets per day or per hour (sends, warm-up steps, the
# sample a rate needs): far above any real mailbox or tenant, small enough for any sum.
MAX_COUNT = 10_000_000
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
PositiveCount = Annotated[int, Field(ge=1, le=MAX_COUNT)]


class Role(StrEnum):
    ADMIN = "admin"  # platform
    OWNER = "owner"
    SENDER = "sender"
    VIEWER = "viewer"


class Provider(StrEnum):
    SMTP = "smtp"
    SES = "ses"
    GMAIL = "gmail"
    OUTLOOK = "outlook"


# Providers connected by OAuth consent: their secret is the provider's token state.
OAUTH_PROVIDERS = frozenset({Provider.GMAIL, Provider.OUTLOOK})


class MailboxStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    PENDING_AUTH = "pending_auth"
    NEEDS_REAUTH = "needs_reauth"
    ARCHIVED = "archived"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class RecipientStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUPPRESSED = "suppressed"
    BOUNCED = "bounced"


FINAL_RECIPIENT_STATUSES = frozenset(
    {
        RecipientStatus.SENT,
        RecipientStatus.FAILED,
        RecipientStatus.CANCELLED,
        RecipientStatus.SUPPRESSED,
        RecipientStatus.BOUNCED,
    }
)


class RateLimit(BaseModel):
    """A sliding window: at most ``count`` sends in any ``per_seconds`` seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: PositiveInt = Field(le=10_000)
    per_seconds: PositiveInt = Field(le=7 * 86_400)


class Warmup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start_per_day: PositiveCount
    increase_percent: float = Field(gt=0, le=1000)
    max_per_day: PositiveCount


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


class SmtpSettings(BaseModel):
    """Connection settings of an SMTP mailbox, without the password."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=253)
    port: int = Field(ge=1, le=65535)
    username: str | None = Field(default=None, max_length=320)
    security: SmtpSecurity = SmtpSecurity.STARTTLS


class ImapSettings(BaseModel):
    """Where the inbox watcher reads an SMTP mailbox's inbox, without the password."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=993, ge=1, le=65535)
    username: str | None = Field(default=None, max_length=320)  # None: the address
    security: SmtpSecurity = SmtpSecurity.TLS
    folder: str = Field(default="INBOX", min_length=1, max_length=200)


class EncryptedBlob(BaseModel):
    """Envelope-encrypted secret: a KMS-wrapped data key and AES-GCM ciphertext."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_id: str
    wrapped_key: str  # base64
    nonce: str  # base64
    ciphertext: str  # base64


class Tenant(BaseModel):
    id: str
    name: str
    created_at: datetime


class ApiKey(BaseModel):
    id: str
    tenant_id: str | None  # None for the platform admin key
    name: str
    role: Role
    created_at: datetime
    key_hash: str


class User(BaseModel):
    email: str
    tenant_id: str
    role: Role
    password_hash: str | None  # None until an invited user sets one
    created_at: datetime
    id: str = ""  # users made before ids existed get one derived from their address
    invite_nonce: str | None = None  # the one invite link that may still set the password

    @model_validator(mode="after")
    def _legacy_id(self) -> User:
        if not self.id:
            self.id = "usr_" + hashlib.sha256(self.email.encode()).hexdigest()[:26]
        return self


class Session(BaseModel):
    """One signed-in browser: the token names it, so it can be revoked on its own."""

    id: str
    tenant_id: str
    user_id: str
    email: str
    created_at: datetime
    expires_at: datetime


class Mailbox(BaseModel):
    id: str
    tenant_id: str
    provider: Provider
    email: str
    from_name: str | None = None
    daily_limit: NonNegativeInt = 0
    hourly_limit: NonNegativeInt | None = None
    rate_limit: RateLimit | None = None
    tags: list[str] = []  # pydantic copies it per instance
    warmup: Warmup | None = None
    warmup_started_at: datetime | None = None
    timezone: str = "UTC"
    smtp: SmtpSettings | None = None
    imap: ImapSettings | None = None  # an SMTP mailbox's inbox, for the inbox watcher
    imap_secret: EncryptedBlob | None = None  # the IMAP password, sealed like ``secret``
    ses_configuration_set: str | None = None
    # DKIM selectors to probe besides the provider's known ones (authentication check).
    dkim_selectors: list[DkimSelector] = Field(default=[], max_length=MAX_DKIM_SELECTORS)
    # Parallel connections dispatch may open (SES and SMTP relays); None: the provider's
    # default (one, or for SES one per ten messages a second of the account's rate).
    max_connections: int | None = Field(default=None, ge=1, le=MAX_CONNECTIONS)
    status: MailboxStatus = MailboxStatus.ACTIVE
    pause_reason: str | None = None
    paused_until: datetime | None = None
    secret: EncryptedBlob | None = None
    token_expires_at: datetime | None = None
    token_version: int = 0
    consecutive_errors: int = 0
    # The last check (``POST /api/mailboxes/{id}/verify``): when it ran, and why it failed
    # (None: it passed).
    last_verified_at: datetime | None = None
    verify_error: str | None = None
    created_at: datetime
    updated_at: datetime

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        zone(value)
        return value

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[-1].lower()

    @property
    def has_credentials(self) -> bool:
        return self.secret is not None

    def can_send(self) -> bool:
        return self.status is MailboxStatus.ACTIVE


class ApiSettings(BaseModel):
    """How the tenant's API clients are served. ``api_rate_limit``: requests per second
    allowed to each key or session (``None``: the platform default, 50)."""

    model_config = ConfigDict(extra="forbid")

    api_rate_limit: int | None = Field(default=None, ge=1, le=10_000)


class SendingSettings(BaseModel):
    """Tenant-wide sending caps and window. ``None`` caps are not imposed."""

    model_config = ConfigDict(extra="forbid")

    max_per_hour: Count | None = None
    max_per_day: Count | None = None
    enabled: bool = True
    window: Window | None = None
    batch_size: int = Field(default=50, ge=1, le=1000)
    batch_delay_seconds: int = Field(default=0, ge=0, le=3600)
    timezone: str = "UTC"
    at_least_once: bool = False
    max_attempts: int = Field(default=3, ge=1, le=20)
    # A mailbox is paused when, over the last 7 days and at least ``rate_min_sent`` sends,
    # its bounce or complaint rate reaches these (SES's review levels by default).
    bounce_rate_pause: float = Field(default=0.05, gt=0, le=1)
    complaint_rate_pause: float = Field(default=0.001, gt=0, le=1)
    rate_min_sent: int = Field(default=200, ge=1, le=MAX_COUNT)
    unsubscribe_mailto: str | None = Field(default=None, max_length=320)
    # CAN-SPAM: bulk mail carries the sender's physical address. With the footer on, a
    # campaign without ``{{ unsubscribe_url }}`` gets one with the link and this address.
    postal_address: str | None = Field(default=None, min_length=1, max_length=500)
    unsubscribe_footer: bool = True

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("unsubscribe_mailto")
    @classmethod
    def _mailto(cls, value: str | None) -> str | None:
        # It goes into a header: only a plain address, never anything that could add one.
        return normalize(value) if value else None


class ThrottleScope(StrEnum):
    RECIPIENT = "recipient"
    SENDER = "sender"


class DomainThrottle(BaseModel):
    tenant_id: str
    name: str
    max_per_minute: NonNegativeInt | None = None
    max_per_hour: NonNegativeInt | None = None
    max_per_day: NonNegativeInt | None = None
    scope: ThrottleScope = ThrottleScope.RECIPIENT
    domains: list[str] = []  # pydantic copies it per instance

    def covers(self) -> list[str]:
        return [d.lower() for d in (self.domains or [self.name])]


class CampaignKind(StrEnum):
    CAMPAIGN = "campaign"
    MESSAGE = "message"  # a single transactional/ad hoc message


class CampaignCounts(BaseModel):
    total: int = 0
    queued: int = 0
    deferred: int = 0  # of the queued: waiting for a retry after a temporary error
    sending: int = 0
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    suppressed: int = 0
    bounced: int = 0


class Campaign(BaseModel):
    id: str
    tenant_id: str
    kind: CampaignKind = CampaignKind.CAMPAIGN
    name: str
    subject: str
    html: str
    text: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    priority: int = Field(default=5, ge=1, le=10)
    mailbox_ids: list[str] | None = None
    mailbox_tags: list[str] | None = None
    window: Window | None = None
    recipient_timezone_field: str | None = None
    track_opens: bool = True
    track_clicks: bool = True
    scheduled_at: datetime | None = None
    headers: dict[str, str] = {}  # pydantic copies it per instance
    status: CampaignStatus = CampaignStatus.DRAFT
    counts: CampaignCounts = Field(default_factory=CampaignCounts)
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    feed_cursor: str | None = None  # last recipient key fed to SQS
    feed_done: bool = False
    fed_at: datetime | None = None  # when the feed last reached the end
    imports_pending: int = 0
    version: int = 0


class Recipient(BaseModel):
    campaign_id: str
    email: str
    tenant_id: str
    status: RecipientStatus = RecipientStatus.QUEUED
    data: dict[str, Any] = Field(default_factory=dict)
    attempts: int = 0
    mailbox_id: str | None = None
    last_error: str | None = None
    message_id: str | None = None
    sent_at: datetime | None = None
    opened_at: datetime | None = None
    clicked_at: datetime | None = None
    replied_at: datetime | None = None  # first human reply read from the inbox
    lease_until: datetime | None = None
    next_attempt_at: datetime | None = None
    cleared_at: datetime | None = None
    import_marker: str | None = None  # the import chunk that wrote it (idempotent imports)
    created_at: datetime
    updated_at: datetime


class SuppressionReason(StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    MANUAL = "manual"


class Suppression(BaseModel):
    tenant_id: str
    email: str
    reason: SuppressionReason
    created_at: datetime


class ReplyKind(StrEnum):
    REPLY = "reply"
    AUTO_REPLY = "auto_reply"


class Reply(BaseModel):
    """An answer to our mail found in a sending mailbox's inbox (``GET /api/replies``)."""

    tenant_id: str
    campaign_id: str
    email: str
    mailbox_id: str
    received_at: datetime
    subject: str
    snippet: str
    kind: ReplyKind


ProviderName = Literal["smtp", "ses", "gmail", "outlook"]
