"""In-memory stand-ins for the storage adapters, for the 100,000-recipient simulation only.

moto's Query and SQS receive cost grows with the size of the table or queue (a 100k
campaign through moto takes most of an hour), so this benchmark runs the real
``Dispatcher`` and feeder over these adapters, which keep the same methods and the same
semantics (conditional claims, versioned limit writes, SQS visibility by the clock).
Tests never use them: they run on moto."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sendrail.clock import Clock, to_rfc3339
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
from sendrail.storage.queues import QueueMessage


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

    def send(self, queue: str, messages: Sequence[Any]) -> list[str]:
        for m in messages:
            mid = f"m{next(self._ids)}"
            self.queues[queue][mid] = _Message(
                mid, dict(m.body), self._now() + m.delay, self._now()
            )
        return []

    def receive(
        self, queue: str, *, max_messages: int = 10, visibility: int = 900, wait: int = 0
    ) -> list[QueueMessage]:
        now = self._now()
        out = []
        for m in list(self.queues[queue].values()):
            if len(out) >= max_messages:
                break
            if m.visible_at <= now:
                m.receives += 1
                m.visible_at = now + visibility
                m.receipt = f"{m.id}:{m.receives}"
                out.append(QueueMessage(queue, m.id, m.receipt, m.body, m.receives, "", m.sent_at))
        return out

    def delete(self, queue: str, receipts: Iterable[str]) -> None:
        for receipt in receipts:
            self.queues[queue].pop(receipt.split(":")[0], None)

    def defer(self, queue: str, messages: Iterable[tuple[QueueMessage, int]], now: float) -> None:
        for message, seconds in messages:
            stored = self.queues[queue].get(message.message_id)
            if stored is not None:
                stored.visible_at = now + seconds

    def depth(self, queue: str) -> dict[str, int]:
        now = self._now()
        visible = sum(1 for m in self.queues[queue].values() if m.visible_at <= now)
        return {"visible": visible, "in_flight": len(self.queues[queue]) - visible, "delayed": 0}


class MemoryRecipients:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Recipient]] = defaultdict(dict)

    def existing_markers(self, campaign_id: str, emails: Iterable[str]) -> dict[str, str | None]:
        return {
            e: self.items[campaign_id][e].import_marker
            for e in emails
            if e in self.items[campaign_id]
        }

    def put_many(self, recipients: Iterable[Recipient]) -> int:
        n = 0
        for r in recipients:
            self.items[r.campaign_id][r.email] = r
            n += 1
        return n

    finish_many = put_many

    def get(self, campaign_id: str, email: str) -> Recipient | None:
        return self.items[campaign_id].get(email)

    def iterate(
        self, campaign_id: str, *, status: RecipientStatus | None = None, page_size: int = 0
    ) -> Iterable[Recipient]:
        return [r for r in self.items[campaign_id].values() if status is None or r.status is status]

    def queued_after(
        self, campaign_id: str, cursor: str | None, limit: int, *, data_field: str | None = None
    ) -> tuple[list[tuple[str, Any]], str | None, bool]:
        keys = sorted(k for k in self.items[campaign_id] if cursor is None or k > cursor)
        page = keys[:limit]
        found = [
            (k, None) for k in page if self.items[campaign_id][k].status is RecipientStatus.QUEUED
        ]
        return found, (page[-1] if page else cursor), len(keys) <= limit

    def count_by_status(self, campaign_id: str) -> dict[str, int]:
        counts: dict[str, int] = {"deferred": 0}
        for r in self.items[campaign_id].values():
            counts[r.status.value] = counts.get(r.status.value, 0) + 1
            if r.status is RecipientStatus.QUEUED and r.attempts:
                counts["deferred"] += 1
        return counts

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

    def expired_leases(self, before: datetime, limit: int = 100) -> list[tuple[str, str]]:
        return []  # nobody dies in this simulation

    def campaigns_of(self, tenant_id: str, email: str) -> list[str]:
        return [cid for cid, items in self.items.items() if email in items]


class MemoryCampaigns:
    def __init__(self) -> None:
        self.items: dict[str, Campaign] = {}

    def create(self, campaign: Campaign) -> Campaign:
        self.items[campaign.id] = campaign.model_copy(update={"version": 1})
        return self.items[campaign.id]

    def get(self, tenant_id: str, campaign_id: str) -> Campaign | None:
        return self.items.get(campaign_id)

    def active(self) -> list[tuple[str, str]]:
        return [
            (c.tenant_id, c.id)
            for c in self.items.values()
            if c.status in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING)
        ]

    def transition(
        self,
        tenant_id: str,
        campaign_id: str,
        allowed_from: Iterable[CampaignStatus],
        to: CampaignStatus,
        now: datetime,
        *,
        doc_updates: dict[str, Any] | None = None,
        counter_set: dict[str, int] | None = None,
        feed_reset: bool = False,
    ) -> Campaign | None:
        c = self.items.get(campaign_id)
        if c is None or c.status not in set(allowed_from):
            return None
        update: dict[str, Any] = {"status": to, "updated_at": now, **(doc_updates or {})}
        if feed_reset:
            update.update(feed_cursor=None, feed_done=False)
        self.items[campaign_id] = c.model_copy(update=update)
        return self.items[campaign_id]

    def add_counts(self, tenant_id: str, campaign_id: str, deltas: dict[str, int]) -> None:
        c = self.items[campaign_id]
        counts = c.counts.model_dump()
        for k, v in deltas.items():
            counts[k] = counts.get(k, 0) + v
        self.items[campaign_id] = c.model_copy(update={"counts": CampaignCounts(**counts)})

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

    def reset_feed(self, tenant_id: str, campaign_id: str) -> None:
        c = self.items[campaign_id]
        self.items[campaign_id] = c.model_copy(update={"feed_cursor": None, "feed_done": False})


class MemoryLimits:
    def __init__(self) -> None:
        self.items: dict[str, LimitState] = {}

    def read(self, subjects: Iterable[str]) -> dict[str, LimitState]:
        return {s: self.items.get(s, LimitState()) for s in subjects}

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

    def create(self, mailbox: Mailbox) -> None:
        self.items[mailbox.id] = mailbox

    def all_for_tenant(self, tenant_id: str) -> list[Mailbox]:
        return [m for m in self.items.values() if m.tenant_id == tenant_id]

    def set_status(self, tenant_id: str, mailbox_id: str, status: MailboxStatus, **_: Any) -> bool:
        self.items[mailbox_id] = self.items[mailbox_id].model_copy(update={"status": status})
        return True

    def add_errors(self, tenant_id: str, mailbox_id: str, delta: int) -> int:
        return 0


@dataclass
class MemorySettings:
    sending_settings: SendingSettings = field(default_factory=SendingSettings)
    throttle_list: list[DomainThrottle] = field(default_factory=list)

    def sending(self, tenant_id: str) -> SendingSettings:
        return self.sending_settings

    def throttles(self, tenant_id: str) -> list[DomainThrottle]:
        return self.throttle_list


class MemoryNothing:
    """Suppressions (none), stats and health records (not needed for the figures)."""

    def which(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        list(pairs)
        return set()

    def add(self, *args: Any, **kwargs: Any) -> None:
        return None

    def record_dispatch(self, at: datetime, outcome: dict[str, Any], error: str | None) -> None:
        return None

    def dispatch_health(self) -> dict[str, Any]:
        return {"checked": to_rfc3339(datetime.now())}


def sim_lease() -> timedelta:
    return timedelta(minutes=10)
