"""Aggregated counters in the ``stats`` table, updated with ADD (no read first).

Keys (one place, so writers and readers agree):
- ``mbx#<mailbox_id>`` / ``d#<YYYY-MM-DD>`` (UTC day): a mailbox's day.
- ``cmp#<campaign_id>`` / ``h#<YYYY-MM-DDTHH>`` (UTC hour): a campaign's timeline; its
  totals of events (opens, clicks, ...) are the sum of its hours (:meth:`StatsRepo.hours_summed`),
  so an event is one write fewer. (Items ``cmp#<id>`` / ``total`` written before that are
  left alone: they hold the same counts again.)
- ``cmp#<campaign_id>`` / ``link#<hash>``: a link's clicks, labelled with its URL.
- ``ten#<tenant_id>`` / ``d#<YYYY-MM-DD>`` (UTC day): a tenant's day, for the overview.

Counter names are free-form (``sent``, ``failed``, ``opened``, ``unique_opens``, ...), so
this repository speaks to DynamoDB with a plain client rather than a pynamodb model."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sendrail.storage import tables
from sendrail.storage.tables import StatItem


def mailbox_key(mailbox_id: str) -> str:
    return f"mbx#{mailbox_id}"


def campaign_key(campaign_id: str) -> str:
    return f"cmp#{campaign_id}"


def tenant_key(tenant_id: str) -> str:
    return f"ten#{tenant_id}"


def day_bucket(when: datetime) -> str:
    return "d#" + when.astimezone(UTC).strftime("%Y-%m-%d")


def hour_bucket(when: datetime) -> str:
    return "h#" + when.astimezone(UTC).strftime("%Y-%m-%dT%H")


def day_buckets(first: datetime, last: datetime) -> list[str]:
    out, day = [], first.astimezone(UTC).date()
    while day <= last.astimezone(UTC).date():
        out.append("d#" + day.isoformat())
        day += timedelta(days=1)
    return out


_SKIP = frozenset({"key", "bucket", "expires_at"})


def _counters(item: Mapping[str, Any]) -> dict[str, int]:
    return {k: int(v["N"]) for k, v in item.items() if k not in _SKIP and "N" in v}


class StatsRepo:
    @property
    def _client(self) -> Any:
        return tables.client(StatItem)

    @property
    def _table(self) -> str:
        return str(StatItem.Meta.table_name)

    def add(
        self,
        key: str,
        bucket: str,
        deltas: Mapping[str, int],
        expires: datetime | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        """Add to counters: one UpdateItem, creating the item on first use. ``labels`` are
        text attributes set when the item has none yet (e.g. the URL of a link's
        counters), in the same write."""
        values = {name: delta for name, delta in deltas.items() if delta}
        if not values:
            return
        names = {f"#c{i}": name for i, name in enumerate(values)}
        attrs: dict[str, Any] = {f":v{i}": {"N": str(v)} for i, v in enumerate(values.values())}
        expression = "ADD " + ", ".join(f"#c{i} :v{i}" for i in range(len(values)))
        sets: list[str] = []
        if expires is not None:
            sets.append("#ttl = :ttl")
            names["#ttl"] = "expires_at"
            attrs[":ttl"] = {"N": str(int(expires.timestamp()))}
        for i, (name, text) in enumerate((labels or {}).items()):
            sets.append(f"#l{i} = if_not_exists(#l{i}, :l{i})")
            names[f"#l{i}"] = name
            attrs[f":l{i}"] = {"S": text}
        if sets:
            expression += " SET " + ", ".join(sets)
        self._client.update_item(
            TableName=self._table,
            Key={"key": {"S": key}, "bucket": {"S": bucket}},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=attrs,
        )

    def labelled(self, key: str, prefix: str) -> list[tuple[str, dict[str, int], dict[str, str]]]:
        """Buckets starting with ``prefix``: (bucket, counters, labels)."""
        out: list[tuple[str, dict[str, int], dict[str, str]]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#k = :k AND begins_with(#b, :p)",
            "ExpressionAttributeNames": {"#k": "key", "#b": "bucket"},
            "ExpressionAttributeValues": {":k": {"S": key}, ":p": {"S": prefix}},
        }
        while True:
            page = self._client.query(**request)
            for item in page.get("Items", []):
                labels = {k: v["S"] for k, v in item.items() if k not in _SKIP and "S" in v}
                out.append((item["bucket"]["S"], _counters(item), labels))
            if "LastEvaluatedKey" not in page:
                return out
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, key: str, bucket: str) -> dict[str, int]:
        item = self._client.get_item(
            TableName=self._table, Key={"key": {"S": key}, "bucket": {"S": bucket}}
        ).get("Item")
        return _counters(item or {})

    def hours_summed(self, key: str) -> dict[str, int]:
        """Every hour bucket of ``key`` added up: a campaign's totals (one Query; a campaign
        with events over a month has ~720 small hours, a few read units)."""
        totals: dict[str, int] = {}
        for _, counters in self.range(key, "h#", "h#~"):
            for name, value in counters.items():
                totals[name] = totals.get(name, 0) + value
        return totals

    def range(self, key: str, first: str, last: str) -> list[tuple[str, dict[str, int]]]:
        """Buckets ``first`` .. ``last`` (inclusive), in key order."""
        out: list[tuple[str, dict[str, int]]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#k = :k AND #b BETWEEN :first AND :last",
            "ExpressionAttributeNames": {"#k": "key", "#b": "bucket"},
            "ExpressionAttributeValues": {
                ":k": {"S": key},
                ":first": {"S": first},
                ":last": {"S": last},
            },
        }
        while True:
            page = self._client.query(**request)
            out.extend((item["bucket"]["S"], _counters(item)) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return out
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
