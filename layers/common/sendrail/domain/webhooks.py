"""Outgoing webhooks, the pure part: event types, the entities, the signature and the
retry schedule.

A delivery is ``POST {id, type, created_at, data}`` with the header
``Sendrail-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``
(Stripe's scheme: the receiver recomputes the MAC over the raw body and rejects old ``t``).
Retries back off exponentially (30 s doubling, at most 2 h apart) for a day; then the
delivery is recorded as failed. ``sent`` and ``opened`` are high-volume: one event carries
up to :data:`BATCH` of them in ``data.items``."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from sendrail.domain.models import EncryptedBlob

EventType = Literal[
    "sent",
    "opened",
    "clicked",
    "bounced",
    "complained",
    "unsubscribed",
    "replied",
    "campaign_completed",
    "mailbox_paused",
    "mailbox_needs_reauth",
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]
TEST = "test"  # sent by POST /api/webhooks/{id}/test to one endpoint, whatever it listens to
BATCHED = frozenset({"sent", "opened"})
BATCH = 100  # items per batched event
HEADER = "Sendrail-Signature"
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=2)
GIVE_UP_AFTER = timedelta(days=1)


class Webhook(BaseModel):
    id: str
    tenant_id: str
    url: str
    events: list[str]
    description: str | None = None
    active: bool = True
    secret: EncryptedBlob
    created_at: datetime


class Delivery(BaseModel):
    """One attempt to deliver one event to one endpoint."""

    webhook_id: str
    event_id: str
    type: str
    attempt: int
    at: datetime
    status_code: int | None  # None: no HTTP answer (refused, timed out, unreachable)
    duration_ms: int
    outcome: Literal["delivered", "retrying", "failed"]
    next_retry_at: datetime | None = None
    error: str | None = None


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Sendrail-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: the MAC matches and ``t`` is recent (replays are refused)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def next_delay(attempt: int) -> timedelta:
    """The wait after failed attempt ``attempt`` (1-based): 30 s, 1 min, 2 min, … 2 h."""
    factor: int = 2 ** max(0, min(attempt - 1, 20))
    return min(MAX_DELAY, FIRST_DELAY * factor)


def retry_at(first_at: datetime, now: datetime, attempt: int) -> datetime | None:
    """When to try again after failed attempt ``attempt``; None once a day has passed."""
    when = now + next_delay(attempt)
    return when if when - first_at <= GIVE_UP_AFTER else None


def delivered(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300
