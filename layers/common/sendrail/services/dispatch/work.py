"""The things one dispatch run passes between its parts: its options, its report, and each
SQS message on its way from admission to an outcome."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sendrail.domain.limits import Rules
from sendrail.domain.models import Campaign, Mailbox, SendingSettings
from sendrail.providers.base import ProviderConfig
from sendrail.services.provider_quotas import SesAccountQuota
from sendrail.storage.queues import QueueMessage


@dataclass(frozen=True)
class DispatchOptions:
    lease_seconds: int = 600
    receive_wait_seconds: int = 0
    # Nothing new is taken in once the invocation has less time left than this.
    stop_margin_seconds: float = 5.0
    poison_receive_count: int = 10
    mailbox_error_threshold: int = 5
    commit_rounds: int = 4
    receives_per_batch: int = 10  # up to ten receives of ten messages per intake
    reservation_seconds: int = 60
    tenant_ttl_seconds: float = 30.0
    campaign_ttl_seconds: float = 1.0  # a pause is seen within a second
    disabled_retry_seconds: int = 900
    # Lanes: sends in flight at once in this invocation (one per mailbox connection). A
    # thread and a connection each cost little; 32 suit a 512 MB-1 GB function.
    lanes: int = 32
    # A lane is given no more work than it is expected to send in this long, so a slow or
    # silent provider holds only a few messages while the others take the rest. Longer
    # means fewer, larger reservations (fewer limit reads and writes per email).
    lane_horizon_seconds: float = 5.0
    # Parallel connections of one mailbox when it sets none (SES derives its own).
    max_connections_cap: int = 16
    flush_seconds: float = 10.0  # counters and timelines are written at least this often
    provider_config: ProviderConfig = field(default_factory=ProviderConfig)
    # The SES account's quota (``GetSendQuota``, cached by the reader): SES mailboxes
    # without a daily_limit are capped at it, and all of them together share it
    # (``capacity.ses_account_subject``). None: not known, SES mail is not capped by it.
    ses_account: SesAccountQuota | None = None


@dataclass
class DispatchReport:
    sent: int = 0
    deferred: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    dead_lettered: int = 0
    recovered: int = 0
    mailboxes_paused: int = 0
    needs_reauth: int = 0  # of those paused, the ones that lost their OAuth grant
    handed_off: int = 0
    batches: int = 0
    fed: int = 0
    started: int = 0
    completed: int = 0
    peak_lanes: int = 0
    by_mailbox: Counter[str] = field(default_factory=Counter)
    last_error: str | None = None
    # What webhooks may want to hear of: (tenant id, event type, data), sent after the run.
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class Units:
    """Units reserved on one limit subject for one message, with the subject's rules (to
    give them back exactly)."""

    subject: str
    rules: Rules


@dataclass
class Work:
    """One SQS message on its way through the run."""

    message: QueueMessage
    tenant_id: str
    campaign_id: str
    email: str
    timezone: str | None
    campaign: Campaign | None = None
    # Set when placed: the mailbox (as read this run), the tenant's settings, the units held.
    mailbox: Mailbox | None = None
    settings: SendingSettings | None = None
    units: tuple[Units, ...] = ()
    taken_at: datetime | None = None
    valid_until: datetime | None = None

    @property
    def key(self) -> str:
        return self.message.message_id

    @property
    def queue(self) -> str:
        return self.message.queue

    def unplace(self) -> None:
        """Back to "not placed" (its units are given back or spent by the caller)."""
        self.mailbox = None
        self.units = ()
        self.taken_at = None
        self.valid_until = None
