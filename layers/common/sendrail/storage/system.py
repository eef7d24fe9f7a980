"""Platform-wide records: the health of the dispatch processor, and whether it has work.

One item holds both. Each scheduled dispatch run checks in with a single UpdateItem that
stamps the time and returns the item, so an idle platform costs one call a minute. The
run looks for work only while ``active`` is set, or when a sweep is due (see
``services.dispatch.activity``). A campaign entering the active index sets it
(:func:`wake`); a run that looked and found nothing clears it (:meth:`SystemRepo.fall_idle`),
unless something woke it after that run began."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from typing import Any

from sendrail.clock import to_rfc3339
from sendrail.storage.tables import MainItem

_KEY = {"pk": {"S": "SYSTEM"}, "sk": {"S": "DISPATCH"}}
_KIND = {":kind": {"S": "system"}}


def _client() -> Any:
    return MainItem._get_connection().connection.client


def _table() -> str:
    return str(MainItem.Meta.table_name)


def _millis(when: datetime) -> dict[str, str]:
    return {"N": str(int(when.timestamp() * 1000))}


def wake(now: datetime) -> None:
    """Work has appeared (a campaign entered the active index): dispatch looks for it."""
    _client().update_item(
        TableName=_table(),
        Key=_KEY,
        UpdateExpression="SET active = :yes, woken_at = :now, kind = :kind",
        ExpressionAttributeValues={":yes": {"BOOL": True}, ":now": _millis(now), **_KIND},
    )


class SystemRepo:
    def check_in(self, at: datetime) -> bool:
        """Stamp a dispatch run and say whether work may be waiting."""
        item = _client().update_item(
            TableName=_table(),
            Key=_KEY,
            UpdateExpression="SET checked_at = :at, kind = :kind",
            ExpressionAttributeValues={":at": {"S": to_rfc3339(at)}, **_KIND},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return bool(item.get("active", {}).get("BOOL"))

    def fall_idle(self, since: datetime) -> None:
        """A run that began at ``since`` found no work: runs may rest until woken, unless
        something woke dispatch after ``since``."""
        client = _client()
        with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
            client.update_item(
                TableName=_table(),
                Key=_KEY,
                UpdateExpression="SET active = :no, kind = :kind",
                ConditionExpression="attribute_not_exists(woken_at) OR woken_at < :since",
                ExpressionAttributeValues={
                    ":no": {"BOOL": False},
                    ":since": _millis(since),
                    **_KIND,
                },
            )

    def record_dispatch(self, at: datetime, outcome: dict[str, Any], error: str | None) -> None:
        """Remember the last run (and the last error, which outlives clean runs)."""
        doc = self._doc(consistent=True)
        doc.update({"last_run_at": to_rfc3339(at), "last_run": outcome})
        if error:
            doc.update({"last_error": error[:500], "last_error_at": to_rfc3339(at)})
        _client().update_item(
            TableName=_table(),
            Key=_KEY,
            UpdateExpression="SET doc = :doc, kind = :kind",
            ExpressionAttributeValues={":doc": {"S": json.dumps(doc)}, **_KIND},
        )

    def dispatch_health(self) -> dict[str, Any]:
        """The last run's figures; ``last_run_at`` counts idle check-ins as runs."""
        return self._doc(consistent=False, with_check_in=True)

    def _doc(self, *, consistent: bool, with_check_in: bool = False) -> dict[str, Any]:
        item = (
            _client()
            .get_item(TableName=_table(), Key=_KEY, ConsistentRead=consistent)
            .get("Item", {})
        )
        doc: dict[str, Any] = json.loads(item["doc"]["S"]) if "doc" in item else {}
        checked = item.get("checked_at", {}).get("S")
        if with_check_in and checked and checked > str(doc.get("last_run_at") or ""):
            doc["last_run_at"] = checked
        return doc
