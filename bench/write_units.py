"""DynamoDB write request units as AWS bills them, for the cost bench.

Counting one unit per item written leaves out what on-demand tables really charge: an item
write costs one unit per 1 KB of the larger of the item before and after it, and every
global secondary index whose entry the write creates, moves or removes is billed its own
write (two when an entry moves: a delete and a put). A conditional write that fails still
costs its units on the table. See "Read/write capacity mode" and "Provisioned throughput
considerations for Global Secondary Indexes" in the DynamoDB developer guide.

The items before and after each write are read from moto's backend directly (no call of
ours is counted), so the figures follow from what the code really wrote. Item sizes are
moto's (attribute names plus values; numbers by their decimal digits, a slight
overestimate of DynamoDB's rule)."""

from __future__ import annotations

import math
import os
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

KB = 1024
INDEX_ENTRY_OVERHEAD = 100  # bytes DynamoDB adds to each index entry's size
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")


@dataclass(frozen=True)
class _Image:
    """What billing needs of one item at one moment (None: no item)."""

    size: int
    attrs: dict[str, Any]  # the item, as DynamoDB JSON
    index_keys: dict[str, tuple[Any, ...] | None]  # index -> its key values, None: no entry
    index_sizes: dict[str, int]  # index -> size of the entry


class WriteUnits:
    """botocore hooks that add up write units per table and per index while ``enabled``."""

    def __init__(self) -> None:
        self.enabled = False
        self.units: Counter[str] = Counter()  # "table" or "table/index" -> write units
        self._lock = threading.Lock()

    def reset(self) -> None:
        self.units = Counter()

    def total(self) -> float:
        return float(sum(self.units.values()))

    def on_index(self) -> float:
        return float(sum(n for name, n in self.units.items() if "/" in name))

    # --- botocore hooks ----------------------------------------------------------------------

    def before(self, params: dict[str, Any], model: Any, context: Any, **_: Any) -> None:
        if not self.enabled or model.service_model.service_id != "DynamoDB":
            return
        if model.name not in WRITES:
            return
        keys = list(_written_keys(model.name, params))
        context["_write_units"] = [(t, k, _image(t, k)) for t, k in keys]

    def after(self, parsed: dict[str, Any], context: Any, **_: Any) -> None:
        before = context.pop("_write_units", None) if context is not None else None
        if not before:
            return
        failed = "Error" in parsed
        unprocessed = {
            table: [_key_of(table, request) for request in requests]
            for table, requests in parsed.get("UnprocessedItems", {}).items()
        }
        found: Counter[str] = Counter()
        for table, key, old in before:
            if key in unprocessed.get(table.name, []):
                continue
            new = old if failed else _image(table, key)
            sizes = [image.size for image in (old, new) if image is not None]
            found[table.name] += max(1, math.ceil(max(sizes, default=0) / KB))
            if failed:
                continue
            for index in table.global_indexes:
                was = old.index_keys.get(index.name) if old else None
                now = new.index_keys.get(index.name) if new else None
                if was is not None and was != now:  # the old entry goes
                    assert old is not None
                    found[f"{table.name}/{index.name}"] += _units(old.index_sizes[index.name])
                if now is not None and (
                    was != now or _projected_changed(index.projection, old, new, index.name)
                ):
                    assert new is not None
                    found[f"{table.name}/{index.name}"] += _units(new.index_sizes[index.name])
        with self._lock:
            self.units.update(found)


def _units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def _projected_changed(
    projection: dict[str, Any], old: _Image | None, new: _Image | None, index: str
) -> bool:
    """An index projecting more than keys is written when the item changes at all (its
    entry holds the changed attributes); a keys-only one only when its keys move."""
    if projection.get("ProjectionType", "ALL") == "KEYS_ONLY":
        return False
    return old is None or new is None or old.attrs != new.attrs


def _table(name: str) -> Table:
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(name)


def _written_keys(operation: str, params: dict[str, Any]) -> list[tuple[Table, Any]]:
    if operation == "BatchWriteItem":
        out = []
        for name, requests in params["RequestItems"].items():
            table = _table(name)
            out += [(table, _key_of(name, request, table)) for request in requests]
        return out
    table = _table(params["TableName"])
    source = params["Item"] if operation == "PutItem" else params["Key"]
    return [(table, _key(table, source))]


def _key_of(name: str, request: dict[str, Any], table: Table | None = None) -> Any:
    table = table or _table(name)
    if "PutRequest" in request:
        return _key(table, request["PutRequest"]["Item"])
    return _key(table, request["DeleteRequest"]["Key"])


def _key(table: Table, attrs: dict[str, Any]) -> tuple[Any, ...]:
    hash_value = DynamoType(attrs[table.hash_key_attr])
    if table.range_key_attr is None:
        return (hash_value, None)
    return (hash_value, DynamoType(attrs[table.range_key_attr]))


def _image(table: Table, key: tuple[Any, ...]) -> _Image | None:
    item = table.get_item(*key)
    return _billed(table, item) if item is not None else None


def _billed(table: Table, item: Item) -> _Image:
    keys = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    primary = sum(len(k) + item.attrs[k].size() for k in keys if k in item.attrs)
    index_keys: dict[str, tuple[Any, ...] | None] = {}
    index_sizes: dict[str, int] = {}
    for index in table.global_indexes:
        names = [part["AttributeName"] for part in index.schema]
        if all(name in item.attrs for name in names):
            index_keys[index.name] = tuple(item.attrs[name].to_json() for name in names)
            keys_size = sum(len(n) + item.attrs[n].size() for n in names)
            whole = item.size() if index.projection.get("ProjectionType") == "ALL" else 0
            index_sizes[index.name] = INDEX_ENTRY_OVERHEAD + max(whole, primary + keys_size)
        else:
            index_keys[index.name] = None
    return _Image(item.size(), item.to_json()["Attributes"], index_keys, index_sizes)
