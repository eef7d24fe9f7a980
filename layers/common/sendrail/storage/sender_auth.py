"""The last sender authentication check of each mailbox (``main`` table, in its tenant's
partition): the cache that keeps ``GET /api/mailboxes/{id}/authentication`` from asking DNS
on every call, and what ``/api/queue/servers`` shows without asking DNS at all. Items
expire by DynamoDB TTL long after they stop being fresh (freshness is the service's call,
on the injectable clock)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sendrail.clock import parse_rfc3339, to_rfc3339
from sendrail.storage.codec import get_or_none
from sendrail.storage.tables import MainItem

KEPT_FOR = timedelta(days=30)


def _pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def _sk(mailbox_id: str) -> str:
    return f"AUTH#{mailbox_id}"


class SenderAuthRepo:
    def get(self, tenant_id: str, mailbox_id: str) -> tuple[dict[str, Any], datetime] | None:
        """The stored result and when it was checked."""
        item = get_or_none(MainItem, _pk(tenant_id), _sk(mailbox_id), consistent=False)
        if item is None or item.kind != "sender_auth" or not item.doc:
            return None
        doc = dict(item.doc)
        return doc["result"], parse_rfc3339(doc["checked_at"])

    def put(
        self, tenant_id: str, mailbox_id: str, result: dict[str, Any], checked_at: datetime
    ) -> None:
        MainItem(
            _pk(tenant_id),
            _sk(mailbox_id),
            kind="sender_auth",
            tenant_id=tenant_id,
            doc={"result": result, "checked_at": to_rfc3339(checked_at)},
            expires_at=checked_at + KEPT_FOR,
        ).save()

    def all_for_tenant(self, tenant_id: str) -> dict[str, tuple[dict[str, Any], datetime]]:
        """Every stored result of the tenant, by mailbox id (one query)."""
        out: dict[str, tuple[dict[str, Any], datetime]] = {}
        for item in MainItem.query(_pk(tenant_id), MainItem.sk.startswith("AUTH#")):
            if item.kind == "sender_auth" and item.doc:
                doc = dict(item.doc)
                out[item.sk.removeprefix("AUTH#")] = (
                    doc["result"],
                    parse_rfc3339(doc["checked_at"]),
                )
        return out
