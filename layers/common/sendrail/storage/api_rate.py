"""API request counters (``limits`` table, subjects ``api#<caller>#<epoch second>``).

One conditional UpdateItem per request: ``ADD hits 1`` only while ``hits < limit``, and the
item expires (TTL) a minute after its second. DynamoDB applies it atomically, so every
Lambda container shares one count. Cost: 1 WCU per request, refused ones included."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import UpdateError

from sendrail.storage.codec import is_conditional_failure
from sendrail.storage.tables import LimitItem


class ApiRateRepo:
    def hit(self, subject: str, limit: int, expires_at: datetime) -> bool:
        """Count one request against ``subject``; False (nothing counted) once it holds
        ``limit``."""
        try:
            LimitItem(subject).update(
                actions=[LimitItem.hits.add(1), LimitItem.expires_at.set(expires_at)],
                condition=LimitItem.hits.does_not_exist() | (LimitItem.hits < limit),
            )
        except UpdateError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True
