"""An in-memory implementation of the dispatch engine's port
(:class:`sendrail.services.dispatch.ports.DispatchStore`), for benchmarks only.

moto's Query and SQS receive cost grows with the size of the table or queue (a 100k
campaign through moto takes most of an hour), so the large benchmarks run the real
``Dispatcher`` and feeder over this store: the same methods (mypy checks them against the
port's signatures) and the same semantics (conditional claims, versioned limit writes,
SQS visibility by the clock). It is thread-safe as DynamoDB and SQS are per call: one lock,
taken by every method. Tests never use it: they run on moto."""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from sendrail.clock import Clock
from sendrail.domain.limits import LimitState
from sendrail.domain.models import (
    Campaign,
    CampaignCounts,
    CampaignStatus,
    DomainThrottle,
    Mailbox,
    MailboxStatus,
    Recipient,
    RecipientStatus,
    SendingSettings,
)
from sendrail.services.dispatch.ports import DispatchStore
from sendrail.storage.imports import ImportJob
from sendrail.storage.queues import Outgoing, QueueMessage

P = ParamSpec("P")
R = TypeVar("R")
_LOCK = threading.RLock()


def atomic(method: Callable[P, R]) -> Callable[P, R]:
    """Each call is atomic, as one DynamoDB or SQS request is."""

    @wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        with _LOCK:
            return method(*args, **kwargs)

    return call


@dataclass
class _Message:
    id: str
    body: dict[str, Any]
    visible_at: float
    sent_at: float
    receives: int = 0
    receipt: str = ""


class MemoryQueues:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.queues: dict[str, dict[str, _Message]] = defaultdict(dict)
        self._ids = itertools.count()

    def _now(self) -> float:
        return self.clock.now().timestamp()

    @atomic
    def send(self, queue: str, messages: Sequence[Outgoing]) -> list[str]:
        for m in messages:
            mid = f"m{next(self._ids)}"
            self.queues[queue][mid] = _Message(
                mid, dict(m.body), self._now() + m.delay, self._now()
            )
        return []

    @atomic
    def receive(
        self, queue: str, *, max_messages: int = 10, visibility: int = 900, wait: int = 0
    ) -> list[QueueMessage]:
        now = self._now()
        out: list[QueueMessage] = []
        for m in list(self.queues[queue].values()):
            if len(out) >= max_messages:
                break
            if m.visible_at <= now:
                m.receives += 1
                m.visible_at = now + visibility
                m.receipt = f"{m.id}:{m.receives}"
                out.append(QueueMessage(queue, m.id, m.receipt, m.body, m.receives, "", m.sent_at))
        return out

    @atomic
    def delete(self, queue: str, receipts: Iterable[str]) -> None:
        for receipt in receipts:
            self.queues[queue].pop(receipt.split(":")[0], None)

    @atomic
    def defer(self, queue: str, messages: Iterable[tuple[QueueMessage, int]], now: float) -> None:
        for message, seconds in messages:
            stored = self.queues[queue].get(message.message_id)
            if stored is not None:
                stored.visible_at = now + seconds


class MemoryRecipients:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Recipient]] = defaultdict(dict)

    @atomic
    def put_many(self, recipients: Iterable[Recipient]) -> int:
        n = 0
        for r in recipients:
            self.items[r.campaign_id][r.email] = r
            n += 1
        return n

    @atomic
    def finish_many(self, recipients: Iterable[Recipient]) -> None:
        self.put_many(recipients)

    @atomic
    def get(self, campaign_id: str, email: str) -> Recipient | None:
        return self.items[campaign_id].get(email)

    @atomic
    def queued_after(
        self, campaign_id: str, cursor: str | None, limit: int, *, data_field: str | None = None
    ) -> tuple[list[tuple[str, Any]], str | None, bool]:
        keys = sorted(k for k in self.items[campaign_id] if cursor is None or k > cursor)
        page = keys[:limit]
        found: list[tuple[str, Any]] = [
            (k, None) for k in page if self.items[campaign_id][k].status is RecipientStatus.QUEUED
        ]
        return found, (page[-1] if page else cursor), len(keys) <= limit

    @atomic
    def count_by_status(self, campaign_id: str) -> dict[str, int]:
        counts: dict[str, int] = {"deferred": 0}
        for r in self.items[campaign_id].values():
            counts[r.status.value] = counts.get(r.status.value, 0) + 1
            if r.status is RecipientStatus.QUEUED and r.attempts:
                counts["deferred"] += 1
        return counts

    @atomic
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
    ) -> Recipient | None:
        r = self.items[campaign_id].get(email)
        if r is None or r.status is not allow_from:
            return None
        claimed = r.model_copy(
            update={
                "status": RecipientStatus.SENDING,
                "mailbox_id": mailbox_id,
                "message_id": message_id,
                "attempts": r.attempts + 1,
                "lease_until": lease_until,
                "updated_at": now,
            }
        )
        self.items[campaign_id][email] = claimed
        return claimed

    @atomic
    def set_status(
        self,
        campaign_id: str,
        email: str,
        to: RecipientStatus,
        now: datetime,
        *,
        only_from: Iterable[RecipientStatus],
        error: str | None = None,
    ) -> Recipient | None:
        r = self.items[campaign_id].get(email)
        if r is None or r.status not in set(only_from):
            return None
        self.items[campaign_id][email] = r.model_copy(update={"status": to, "updated_at": now})
        return self.items[campaign_id][email]

    @atomic
    def resolve_claim(self, claimed: Recipient, final: Recipient) -> bool:
        current = self.items[claimed.campaign_id].get(claimed.email)
        if (
            current is None
            or current.status is not RecipientStatus.SENDING
            or current.lease_until != claimed.lease_until
        ):
            return False
        self.items[claimed.campaign_id][claimed.email] = final
        return True

    @atomic
    def claimed(self, campaign_id: str) -> list[tuple[str, datetime | None]]:
        return [
            (r.email, r.lease_until)
            for r in self.items[campaign_id].values()
            if r.status is RecipientStatus.SENDING
        ]


class MemoryCampaigns:
    def __init__(self) -> None:
        self.items: dict[str, Campaign] = {}

    @atomic
    def create(self, campaign: Campaign) -> Campaign:
        self.items[campaign.id] = campaign.model_copy(update={"version": 1})
        return self.items[campaign.id]

    @atomic
    def get(self, tenant_id: str, campaign_id: str) -> Campaign | None:
        return self.items.get(campaign_id)

    @atomic
    def active(self) -> list[Campaign]:
        return [
            c
            for c in self.items.values()
            if c.status in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING)
        ]

    @atomic
    def transition(
        self,
        tenant_id: str,
        campaign_id: str,
        allowed_from: Iterable[CampaignStatus],
        to: CampaignStatus,
        now: datetime,
        *,
        doc_updates: Mapping[str, Any] | None = None,
        counter_set: Mapping[str, int] | None = None,
        feed_reset: bool = False,
    ) -> Campaign | None:
        c = self.items.get(campaign_id)
        if c is None or c.status not in set(allowed_from):
            return None
        update: dict[str, Any] = {"status": to, "updated_at": now, **(doc_updates or {})}
        if feed_reset:
            update.update(feed_cursor=None, feed_done=False)
        if counter_set:
            update["counts"] = c.counts.model_copy(update=dict(counter_set))
        self.items[campaign_id] = c.model_copy(update=update)
        return self.items[campaign_id]

    @atomic
    def add_counts(self, tenant_id: str, campaign_id: str, deltas: Mapping[str, int]) -> None:
        c = self.items[campaign_id]
        counts = c.counts.model_dump()
        for k, v in deltas.items():
            counts[k] = counts.get(k, 0) + v
        self.items[campaign_id] = c.model_copy(update={"counts": CampaignCounts(**counts)})

    @atomic
    def advance_feed(
        self,
        tenant_id: str,
        campaign_id: str,
        expected: str | None,
        cursor: str | None,
        done: bool,
        now: datetime,
        *,
        deindex: bool = False,
    ) -> bool:
        c = self.items[campaign_id]
        if c.feed_cursor != expected or c.feed_done:
            return False
        self.items[campaign_id] = c.model_copy(
            update={"feed_cursor": cursor, "feed_done": done, "fed_at": now}
        )
        return True

    @atomic
    def reset_feed(self, tenant_id: str, campaign_id: str) -> None:
        c = self.items[campaign_id]
        self.items[campaign_id] = c.model_copy(update={"feed_cursor": None, "feed_done": False})

    @atomic
    def set_imports_pending(self, tenant_id: str, campaign_id: str, value: int) -> None:
        c = self.items[campaign_id]
        self.items[campaign_id] = c.model_copy(update={"imports_pending": value})


class MemoryLimits:
    def __init__(self) -> None:
        self.items: dict[str, LimitState] = {}

    @atomic
    def read(self, subjects: Iterable[str]) -> dict[str, LimitState]:
        return {s: self.items.get(s, LimitState()) for s in subjects}

    @atomic
    def write(
        self, subject: str, state: LimitState, expected_version: int, now: datetime
    ) -> int | None:
        current = self.items.get(subject, LimitState())
        if current.version != expected_version:
            return None
        self.items[subject] = LimitState(state.buckets, state.log, expected_version + 1)
        return expected_version + 1


@dataclass
class MemoryMailboxes:
    items: dict[str, Mailbox] = field(default_factory=dict)

    @atomic
    def create(self, mailbox: Mailbox) -> None:
        self.items[mailbox.id] = mailbox

    @atomic
    def all_for_tenant(self, tenant_id: str) -> list[Mailbox]:
        return [m for m in self.items.values() if m.tenant_id == tenant_id]

    @atomic
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
    ) -> bool:
        current = self.items[mailbox_id]
        if only_if is not None and current.status not in only_if:
            return False
        self.items[mailbox_id] = current.model_copy(
            update={"status": status, "pause_reason": reason, "paused_until": paused_until}
        )
        return True

    @atomic
    def add_errors(self, tenant_id: str, mailbox_id: str, delta: int) -> int:
        current = self.items[mailbox_id]
        streak = 0 if delta < 0 else current.consecutive_errors + delta
        self.items[mailbox_id] = current.model_copy(update={"consecutive_errors": streak})
        return streak


@dataclass
class MemorySettings:
    sending_settings: SendingSettings = field(default_factory=SendingSettings)
    throttle_list: list[DomainThrottle] = field(default_factory=list)

    def sending(self, tenant_id: str) -> SendingSettings:
        return self.sending_settings

    def throttles(self, tenant_id: str) -> list[DomainThrottle]:
        return self.throttle_list


class MemorySuppressions:
    def __init__(self) -> None:
        self.items: set[tuple[str, str]] = set()

    @atomic
    def which(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        return {pair for pair in pairs if pair in self.items}


class MemoryStats:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)

    @atomic
    def add(
        self, key: str, bucket: str, deltas: Mapping[str, int], expires: datetime | None = None
    ) -> None:
        counters = self.items[(key, bucket)]
        for name, delta in deltas.items():
            counters[name] = counters.get(name, 0) + delta

    @atomic
    def range(self, key: str, first: str, last: str) -> list[tuple[str, dict[str, int]]]:
        return sorted(
            (bucket, dict(values))
            for (k, bucket), values in self.items.items()
            if k == key and first <= bucket <= last
        )


class MemorySystem:
    def __init__(self) -> None:
        self.runs: list[tuple[datetime, dict[str, Any], str | None]] = []
        self.idle_since: datetime | None = None

    @atomic
    def record_dispatch(self, at: datetime, outcome: dict[str, Any], error: str | None) -> None:
        self.runs.append((at, outcome, error))

    @atomic
    def fall_idle(self, since: datetime) -> None:
        self.idle_since = since


class MemoryImports:
    def for_campaign(self, campaign_id: str) -> list[ImportJob]:
        return []  # nothing is imported in the background in a benchmark


@dataclass
class MemoryStore:
    clock: Clock
    queues: MemoryQueues
    recipients: MemoryRecipients = field(default_factory=MemoryRecipients)
    campaigns: MemoryCampaigns = field(default_factory=MemoryCampaigns)
    mailboxes: MemoryMailboxes = field(default_factory=MemoryMailboxes)
    settings: MemorySettings = field(default_factory=MemorySettings)
    limits: MemoryLimits = field(default_factory=MemoryLimits)
    suppressions: MemorySuppressions = field(default_factory=MemorySuppressions)
    stats: MemoryStats = field(default_factory=MemoryStats)
    system: MemorySystem = field(default_factory=MemorySystem)
    imports: MemoryImports = field(default_factory=MemoryImports)

    @classmethod
    def on(cls, clock: Clock) -> MemoryStore:
        return cls(clock=clock, queues=MemoryQueues(clock))


def as_port(store: MemoryStore) -> DispatchStore:
    """Checked by mypy: the memory store is a DispatchStore."""
    return store
