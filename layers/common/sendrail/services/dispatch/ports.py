"""The port of the dispatch engine: the few storage methods it calls, declared here, where
they are consumed. ``Deps`` (DynamoDB and SQS) implements it; so does the benchmarks'
in-memory store, checked by mypy against these very signatures. Sending goes through
:class:`SenderSource`, so the engine never touches secrets or OAuth tokens itself."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from sendrail.domain.limits import LimitState
from sendrail.domain.models import (
    Campaign,
    DomainThrottle,
    Mailbox,
    MailboxStatus,
    Recipient,
    RecipientStatus,
)
from sendrail.providers.base import Sender
from sendrail.services.counters import StatCounters
from sendrail.services.feeding import (
    FeedCampaigns,
    FeedRecipients,
    FeedStore,
    LimitReader,
    MailboxLister,
    QueueSender,
    SendingSettingsReader,
)
from sendrail.services.warmup_plans import DayCounters
from sendrail.storage.queues import QueueMessage


class DispatchQueues(QueueSender, Protocol):
    def receive(
        self, queue: str, *, max_messages: int = 10, visibility: int = 900, wait: int = 0
    ) -> list[QueueMessage]: ...

    def delete(self, queue: str, receipts: Iterable[str]) -> None: ...

    def defer(
        self, queue: str, messages: Iterable[tuple[QueueMessage, int]], now: float
    ) -> None: ...


class DispatchRecipients(FeedRecipients, Protocol):
    def get(self, campaign_id: str, email: str) -> Recipient | None: ...

    def claim(
        self,
        campaign_id: str,
        email: str,
        *,
        mailbox_id: str,
        message_id: str,
        lease_until: datetime,
        now: datetime,
        allow_from: RecipientStatus = RecipientStatus.QUEUED,
    ) -> Recipient | None: ...

    def finish_many(self, recipients: Iterable[Recipient]) -> None: ...

    def resolve_claim(self, claimed: Recipient, final: Recipient) -> bool: ...


class DispatchMailboxes(MailboxLister, Protocol):
    def set_status(
        self,
        tenant_id: str,
        mailbox_id: str,
        status: MailboxStatus,
        *,
        reason: str | None,
        now: datetime,
        paused_until: datetime | None = None,
        only_if: set[MailboxStatus] | None = None,
    ) -> bool: ...

    def add_errors(self, tenant_id: str, mailbox_id: str, delta: int) -> int: ...


class DispatchSettings(SendingSettingsReader, Protocol):
    def throttles(self, tenant_id: str) -> list[DomainThrottle]: ...


class LimitStore(LimitReader, Protocol):
    def write(
        self, subject: str, state: LimitState, expected_version: int, now: datetime
    ) -> int | None: ...


class SuppressionCheck(Protocol):
    def which(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]: ...


class HealthRecord(Protocol):
    def record_dispatch(self, at: datetime, outcome: dict[str, Any], error: str | None) -> None: ...

    def fall_idle(self, since: datetime) -> None: ...


class DispatchStats(StatCounters, DayCounters, Protocol):
    """Counters dispatch adds to, and reads per day (a warm-up ramp's healthy days)."""


class DispatchCampaigns(FeedCampaigns, Protocol):
    """The campaigns feeding looks after, and one read of a campaign (admission)."""

    def get(self, tenant_id: str, campaign_id: str) -> Campaign | None: ...


class DispatchStore(FeedStore, Protocol):
    """Everything one dispatch run reads and writes."""

    @property
    def campaigns(self) -> DispatchCampaigns: ...

    @property
    def stats(self) -> DispatchStats: ...

    @property
    def queues(self) -> DispatchQueues: ...

    @property
    def recipients(self) -> DispatchRecipients: ...

    @property
    def mailboxes(self) -> DispatchMailboxes: ...

    @property
    def settings(self) -> DispatchSettings: ...

    @property
    def limits(self) -> LimitStore: ...

    @property
    def suppressions(self) -> SuppressionCheck: ...

    @property
    def system(self) -> HealthRecord: ...


class SenderSource(Protocol):
    """Opens a connected sender for a mailbox (its secret or OAuth tokens are the source's
    business). Called from lane threads: it must be safe to call concurrently."""

    def open(self, mailbox: Mailbox) -> Sender: ...

    def connections(self, mailbox: Mailbox) -> int:
        """How many connections the mailbox may use at once."""
        ...
