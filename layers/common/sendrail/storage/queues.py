"""SQS: the queue definitions (one source for CDK and the local stack) and the adapter.

Send queues are one per priority band (each with its dead-letter queue): dispatch drains
``send-high`` before ``send-normal`` before ``send-low``. Campaign mail enters SQS
progressively (see ``sendrail.services.feeding``), so queues stay short and a campaign that
outlives SQS's 14-day retention loses nothing: DynamoDB holds every recipient.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sendrail.storage import clients

MAX_VISIBILITY = 12 * 3600  # SQS's ceiling for ChangeMessageVisibility
MAX_DELAY = 900  # SQS's ceiling for DelaySeconds
# A deferred message received this often is re-posted as a new message, so only messages
# that are received and never handled (poison) reach the redrive count and the DLQ.
REPOST_AFTER_RECEIVES = 8
# A tracking event is retried this often (each after the queue's visibility timeout).
EVENT_RECEIVES = 720


@dataclass(frozen=True)
class Band:
    name: str  # logical queue name
    lowest: int
    highest: int


BANDS: tuple[Band, ...] = (
    Band("send-high", 8, 10),
    Band("send-normal", 4, 7),
    Band("send-low", 1, 3),
)


@dataclass(frozen=True)
class QueueSpec:
    logical: str
    visibility_timeout: int
    max_receive_count: int | None  # None: this is a dead-letter queue
    retention_seconds: int = 14 * 86400
    dead_letter: str | None = None


def queue_specs() -> list[QueueSpec]:
    specs: list[QueueSpec] = []
    for band in BANDS:
        # Deferred messages are re-posted before they reach the redrive count, so a message
        # lands in the DLQ only when it is received again and again and never handled.
        specs.append(
            QueueSpec(band.name, 900, REPOST_AFTER_RECEIVES + 2, dead_letter=f"{band.name}-dlq")
        )
        specs.append(QueueSpec(f"{band.name}-dlq", 900, None))
    specs.append(QueueSpec("import", 360, 5, dead_letter="import-dlq"))
    specs.append(QueueSpec("import-dlq", 360, None))
    # Opens and clicks that could not be recorded when they happened (DynamoDB failing):
    # the tracking function records them later, retrying for about a day before the DLQ.
    specs.append(QueueSpec("events", 120, EVENT_RECEIVES, dead_letter="events-dlq"))
    specs.append(QueueSpec("events-dlq", 120, None))
    # Outgoing webhook deliveries (drained by enqueue). A failed delivery is re-queued with
    # its own backoff (sendrail.domain.webhooks), so the redrive only catches poison.
    specs.append(QueueSpec("webhooks", 60, 5, dead_letter="webhooks-dlq"))
    specs.append(QueueSpec("webhooks-dlq", 60, None))
    # High-volume webhook items (opens, one message each) gathered 100 to an event.
    specs.append(QueueSpec("webhook-items", 120, 5, dead_letter="webhook-items-dlq"))
    specs.append(QueueSpec("webhook-items-dlq", 120, None))
    return specs


def band_for(priority: int) -> str:
    for band in BANDS:
        if band.lowest <= priority <= band.highest:
            return band.name
    raise ValueError(f"priority {priority} is outside 1..10")


@dataclass(frozen=True)
class QueueMessage:
    queue: str
    message_id: str
    receipt: str
    body: dict[str, Any]
    receive_count: int
    raw: str
    sent_at: float = 0.0  # epoch seconds when the message entered the queue


@dataclass(frozen=True)
class Outgoing:
    id: str  # unique within one batch
    body: Mapping[str, Any]
    delay: int = 0


class SqsQueues:
    """Batched SQS calls keyed by logical queue name."""

    def __init__(self, urls: Mapping[str, str], region: str, client: Any = None) -> None:
        self._urls = dict(urls)
        self._region = region
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client or clients.client("sqs", self._region)

    def url(self, queue: str) -> str:
        try:
            return self._urls[queue]
        except KeyError:
            raise KeyError(f"no URL configured for queue {queue!r}") from None

    def send(self, queue: str, messages: Sequence[Outgoing]) -> list[str]:
        """Send in batches of ten; returns the ids that failed (after one retry)."""
        failed: list[str] = []
        for start in range(0, len(messages), 10):
            chunk = list(messages[start : start + 10])
            for _ in range(2):
                response = self.client.send_message_batch(
                    QueueUrl=self.url(queue),
                    Entries=[
                        {
                            "Id": m.id,
                            "MessageBody": json.dumps(m.body, separators=(",", ":")),
                            **({"DelaySeconds": min(MAX_DELAY, m.delay)} if m.delay else {}),
                        }
                        for m in chunk
                    ],
                )
                bad = {f["Id"] for f in response.get("Failed", [])}
                chunk = [m for m in chunk if m.id in bad]
                if not chunk:
                    break
            failed.extend(m.id for m in chunk)
        return failed

    def receive(
        self, queue: str, *, max_messages: int = 10, visibility: int = 900, wait: int = 0
    ) -> list[QueueMessage]:
        response = self.client.receive_message(
            QueueUrl=self.url(queue),
            MaxNumberOfMessages=max_messages,
            VisibilityTimeout=visibility,
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
        )
        out = []
        for m in response.get("Messages", []):
            try:
                body = json.loads(m["Body"])
                if not isinstance(body, dict):
                    body = {}
            except ValueError:
                body = {}
            out.append(
                QueueMessage(
                    queue=queue,
                    message_id=m["MessageId"],
                    receipt=m["ReceiptHandle"],
                    body=body,
                    receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
                    raw=m["Body"],
                    sent_at=int(m.get("Attributes", {}).get("SentTimestamp", 0)) / 1000.0,
                )
            )
        return out

    def delete(self, queue: str, receipts: Iterable[str]) -> None:
        pending = list(dict.fromkeys(receipts))
        for start in range(0, len(pending), 10):
            chunk = pending[start : start + 10]
            self.client.delete_message_batch(
                QueueUrl=self.url(queue),
                Entries=[{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(chunk)],
            )

    def defer(self, queue: str, messages: Iterable[tuple[QueueMessage, int]], now: float) -> None:
        """Make messages visible again after their delay. SQS caps a message's visibility
        at 12 hours from when it was sent; a longer wait re-posts the message (with up to
        15 minutes' delay) and deletes the old one, which also resets its receive count
        (done too for messages deferred many times, see ``REPOST_AFTER_RECEIVES``)."""
        change: list[tuple[str, int]] = []
        repost: list[tuple[QueueMessage, int]] = []
        for message, seconds in messages:
            allowed = MAX_VISIBILITY - 120 - max(0.0, now - (message.sent_at or now))
            if seconds <= allowed and message.receive_count < REPOST_AFTER_RECEIVES:
                change.append((message.receipt, max(0, int(seconds))))
            else:
                repost.append((message, int(seconds)))
        for start in range(0, len(change), 10):
            chunk = change[start : start + 10]
            self.client.change_message_visibility_batch(
                QueueUrl=self.url(queue),
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": s}
                    for i, (r, s) in enumerate(chunk)
                ],
            )
        if repost:
            failed = set(
                self.send(
                    queue,
                    [
                        Outgoing(id=str(i), body=m.body, delay=min(MAX_DELAY, seconds))
                        for i, (m, seconds) in enumerate(repost)
                    ],
                )
            )
            self.delete(
                queue, [m.receipt for i, (m, _) in enumerate(repost) if str(i) not in failed]
            )

    def depth(self, queue: str) -> dict[str, int]:
        attrs = self.client.get_queue_attributes(
            QueueUrl=self.url(queue),
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return {
            "visible": int(attrs.get("ApproximateNumberOfMessages", 0)),
            "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
            "delayed": int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
        }
