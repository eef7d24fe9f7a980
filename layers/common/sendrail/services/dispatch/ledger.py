"""What the run has decided and not yet written, written in batches and in a safe order.

1. settled recipients (one BatchWriteItem per 25: we hold their claims);
2. campaign counters and timelines (one ADD per campaign, mailbox day, campaign hour and
   tenant day touched, at most every few seconds);
3. SQS acknowledgements (deletes and deferrals, ten per call), and only for messages whose
   recipient is already stored: a run that dies between two steps leaves a message to be
   received again, whose claim then fails harmlessly (or whose lease expires and is
   resolved), never a message gone with its outcome unwritten.

Used by the run's main thread only."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sendrail.domain.delivery import Settled
from sendrail.domain.models import Campaign, Recipient
from sendrail.services import counters
from sendrail.services.dispatch.ports import DispatchStore
from sendrail.services.dispatch.work import DispatchOptions
from sendrail.storage import stats
from sendrail.storage.queues import MAX_VISIBILITY, QueueMessage

RECIPIENTS_PER_WRITE = 25
ACKS_PER_CALL = 10
MAX_WAIT_SECONDS = 1.0  # nothing decided waits longer than this to be written


@dataclass
class _Acks:
    delete: list[QueueMessage] = field(default_factory=list)
    later: list[tuple[QueueMessage, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.delete) + len(self.later)


class Ledger:
    def __init__(self, store: DispatchStore, options: DispatchOptions) -> None:
        self._store = store
        self._options = options
        self._recipients: list[Recipient] = []
        self._waiting: list[tuple[QueueMessage, int | None]] = []  # behind unwritten recipients
        self._ready: dict[str, _Acks] = {}
        self._counts: dict[tuple[str, str], tuple[Campaign, dict[str, int]]] = {}
        self._tallies: dict[tuple[str, str], dict[str, int]] = {}
        self._bucket_second = -1
        self._bucket_names = ("", "")
        self._oldest: float | None = None  # when the oldest unwritten decision was made
        self._counted_at = time.monotonic()

    # --- recording decisions ---------------------------------------------------------------

    def settle(
        self,
        campaign: Campaign,
        mailbox_id: str,
        message: QueueMessage | None,
        settled: Settled,
        ack_in: float | None,
    ) -> None:
        """A claim's outcome; ``message`` is acknowledged once it is stored (deleted when
        ``ack_in`` is None, else visible again after ``ack_in`` seconds)."""
        self._recipients.append(settled.recipient)
        self.count(campaign, settled.delta)
        tally = {k: v for k, v in settled.delta.items() if k in ("sent", "failed")}
        if tally:
            day, hour = self._buckets()
            for key in (
                (stats.mailbox_key(mailbox_id), day),
                (stats.campaign_key(campaign.id), hour),
                (stats.tenant_key(campaign.tenant_id), day),
            ):
                _add(self._tallies.setdefault(key, {}), tally)
        if message is not None:
            self._waiting.append((message, _seconds(ack_in)))
        self._touch()

    def count(self, campaign: Campaign, delta: dict[str, int]) -> None:
        if not any(delta.values()):
            return
        key = (campaign.tenant_id, campaign.id)
        _, total = self._counts.setdefault(key, (campaign, {}))
        _add(total, delta)

    def ack(self, message: QueueMessage, ack_in: float | None) -> None:
        """Acknowledge a message that changed no recipient (skipped, deferred, dropped)."""
        if self._recipients:
            self._waiting.append((message, _seconds(ack_in)))
        else:
            self._ready_ack(message, _seconds(ack_in))
        self._touch()

    # --- writing ----------------------------------------------------------------------------

    def flush(self, *, force: bool = False) -> None:
        """Write what is due: everything when ``force``; otherwise full batches, and
        anything that has waited too long."""
        overdue = self._oldest is not None and time.monotonic() - self._oldest >= MAX_WAIT_SECONDS
        if self._recipients and (force or overdue or len(self._recipients) >= RECIPIENTS_PER_WRITE):
            self.write_recipients()
        if not self._recipients:
            for message, seconds in self._waiting:
                self._ready_ack(message, seconds)
            self._waiting.clear()
        if force or time.monotonic() - self._counted_at >= self._options.flush_seconds:
            self._write_counts()
        self._write_acks(everything=force or overdue)
        if not (self._recipients or self._waiting or any(self._ready.values())):
            self._oldest = None

    def write_recipients(self) -> None:
        """Store every settled recipient now (before any of them may be claimed again)."""
        if self._recipients:
            self._store.recipients.finish_many(self._recipients)
            self._recipients = []
        for message, seconds in self._waiting:
            self._ready_ack(message, seconds)
        self._waiting.clear()

    def _write_counts(self) -> None:
        for campaign, delta in self._counts.values():
            counters.add(self._store, campaign, {k: v for k, v in delta.items() if v})
        self._counts.clear()
        for (key, bucket), tally in self._tallies.items():
            if any(tally.values()):
                self._store.stats.add(key, bucket, {k: v for k, v in tally.items() if v})
        self._tallies.clear()
        self._counted_at = time.monotonic()

    def _write_acks(self, *, everything: bool) -> None:
        now = self._store.clock.now().timestamp()
        for queue, acks in self._ready.items():
            whole = len(acks.delete) if everything else _whole(len(acks.delete))
            if whole:
                self._store.queues.delete(queue, [m.receipt for m in acks.delete[:whole]])
                del acks.delete[:whole]
            whole = len(acks.later) if everything else _whole(len(acks.later))
            if whole:
                self._store.queues.defer(queue, acks.later[:whole], now)
                del acks.later[:whole]

    def _ready_ack(self, message: QueueMessage, seconds: int | None) -> None:
        acks = self._ready.setdefault(message.queue, _Acks())
        if seconds is None:
            acks.delete.append(message)
        else:
            acks.later.append((message, seconds))

    def _buckets(self) -> tuple[str, str]:
        """The timeline buckets (day, hour) of now, worked out once a second."""
        now = self._store.clock.now()
        second = int(now.timestamp())
        if second != self._bucket_second:
            self._bucket_second = second
            self._bucket_names = (stats.day_bucket(now), stats.hour_bucket(now))
        return self._bucket_names

    def _touch(self) -> None:
        if self._oldest is None:
            self._oldest = time.monotonic()


def _seconds(ack_in: float | None) -> int | None:
    return None if ack_in is None else max(0, min(MAX_VISIBILITY, int(ack_in)))


def _whole(n: int) -> int:
    return n - n % ACKS_PER_CALL


def _add(total: dict[str, int], delta: dict[str, int]) -> None:
    for name, change in delta.items():
        total[name] = total.get(name, 0) + change
