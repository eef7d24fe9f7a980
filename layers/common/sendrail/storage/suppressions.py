"""Suppressed addresses, per tenant."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sendrail.domain.models import Suppression, SuppressionReason
from sendrail.storage.codec import resume_key
from sendrail.storage.tables import SuppressionItem


class SuppressionRepo:
    def put(self, s: Suppression) -> None:
        SuppressionItem(s.tenant_id, s.email, reason=s.reason.value, created_at=s.created_at).save()

    def delete(self, tenant_id: str, email: str) -> bool:
        existing = self.get(tenant_id, email)
        if existing is None:
            return False
        SuppressionItem(tenant_id, email).delete()
        return True

    def get(self, tenant_id: str, email: str) -> Suppression | None:
        try:
            item = SuppressionItem.get(tenant_id, email, consistent_read=True)
        except SuppressionItem.DoesNotExist:
            return None
        return _from(item)

    def which(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """The (tenant, email) pairs that are suppressed (batched, 100 per call)."""
        keys = list(dict.fromkeys(pairs))
        found: set[tuple[str, str]] = set()
        for item in SuppressionItem.batch_get(
            keys, consistent_read=True, attributes_to_get=["tenant_id", "email"]
        ):
            found.add((item.tenant_id, item.email))
        return found

    def page(
        self, tenant_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Suppression], dict[str, Any] | None]:
        start = resume_key(after, ("tenant_id", "email"), {"tenant_id": tenant_id})
        result = SuppressionItem.query(tenant_id, limit=limit, last_evaluated_key=start)
        return [_from(i) for i in result], result.last_evaluated_key


def _from(item: SuppressionItem) -> Suppression:
    return Suppression(
        tenant_id=item.tenant_id,
        email=item.email,
        reason=SuppressionReason(item.reason),
        created_at=item.created_at,
    )
