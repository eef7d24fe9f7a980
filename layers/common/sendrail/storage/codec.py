"""Conversions between domain models and ``main``-table items, and list cursors."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel

from sendrail.errors import InvalidCursor

M = TypeVar("M", bound=BaseModel)


def dump(model: BaseModel, exclude: Iterable[str] = ()) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude=set(exclude))


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MAX_CURSOR = 4096  # characters of an encoded cursor
MAX_KEY_VALUE = 1024  # characters of one key value in a cursor
_KEY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def _invalid() -> InvalidCursor:
    return InvalidCursor("cursor is not valid", details=[{"field": "cursor"}])


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """A list cursor back to the key it was made from, checked for shape: an object of at
    most four key attributes, each ``{"S": "<text>"}``. Which attributes and values a query
    takes is checked by :func:`resume_key` where the query is made."""
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR:
        raise _invalid()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise _invalid() from exc
    if not isinstance(value, dict) or not 1 <= len(value) <= 4:
        raise _invalid()
    for name, attribute in value.items():
        if not _KEY_NAME.match(name) or not isinstance(attribute, dict):
            raise _invalid()
        text = attribute.get("S")
        if set(attribute) != {"S"} or not isinstance(text, str):
            raise _invalid()
        if not 1 <= len(text) <= MAX_KEY_VALUE:
            raise _invalid()
    return value


def resume_key(
    after: dict[str, Any] | None,
    names: Iterable[str],
    equal: dict[str, str],
    prefix: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    """``after`` (from :func:`decode_cursor`) as the start key of one query: exactly the key
    attributes ``names``, the partition ``equal`` to the caller's (its tenant, its campaign:
    a cursor from another tenant's list is refused), sort keys under the query's
    ``prefix``. Raises :class:`InvalidCursor` otherwise."""
    if after is None:
        return None
    if set(after) != set(names):
        raise _invalid()
    values = {name: attribute["S"] for name, attribute in after.items()}
    if any(values.get(name) != value for name, value in equal.items()):
        raise _invalid()
    if any(not values[name].startswith(p) for name, p in (prefix or {}).items()):
        raise _invalid()
    return after


T = TypeVar("T")


def get_or_none(
    model: Any, hash_key: str, range_key: str | None = None, *, consistent: bool = True
) -> Any:
    """``Model.get`` that answers None instead of raising ``DoesNotExist``."""
    try:
        return model.get(hash_key, range_key, consistent_read=consistent)
    except model.DoesNotExist:
        return None


def is_conditional_failure(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) in {
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
    }


def save_versioned(item: Any, expected: int | None) -> int:
    """Put ``item`` only if its stored ``version`` is still ``expected`` (None or 0: only if
    absent). Returns the new version. Raises pynamodb's PutError on a lost race."""
    model = type(item)
    condition = model.version == expected if expected else model.version.does_not_exist()
    item.version = (expected or 0) + 1
    item.save(condition)
    return int(item.version)
