"""Limit subjects: one ``limits`` item per subject, written with a version condition.

Reading is one BatchGetItem for all subjects of a batch; each changed subject is one
conditional PutItem. A lost race (another dispatcher wrote first) re-reads that subject
and the caller re-plans, so no limit is ever exceeded, whatever the concurrency."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pynamodb.exceptions import PutError

from sendrail.domain.limits import LimitState
from sendrail.storage.codec import is_conditional_failure, save_versioned
from sendrail.storage.tables import LimitItem

RETENTION = timedelta(days=40)


def _state(item: LimitItem) -> LimitState:
    raw = item.buckets or {}
    buckets = {slot: (str(v[0]), int(v[1])) for slot, v in raw.items()}
    return LimitState(
        buckets=buckets,
        log=tuple(float(x) for x in (item.log or [])),
        version=int(item.version or 0),
    )


class LimitRepo:
    def read(self, subjects: Iterable[str]) -> dict[str, LimitState]:
        keys = list(dict.fromkeys(subjects))
        states = {s: LimitState() for s in keys}
        for item in LimitItem.batch_get(keys, consistent_read=True):
            states[item.subject] = _state(item)
        return states

    def write(
        self, subject: str, state: LimitState, expected_version: int, now: datetime
    ) -> int | None:
        """Store ``state`` if the stored version is still ``expected_version``; returns the
        new version, or None when another writer won."""
        item = LimitItem(
            subject,
            buckets={slot: [key, n] for slot, (key, n) in state.buckets.items()},
            log=list(state.log) or None,
            expires_at=now + RETENTION,
        )
        try:
            return save_versioned(item, expected_version)
        except PutError as exc:
            if is_conditional_failure(exc):
                return None
            raise
