"""Conversions between domain models and ``main``-table items, and list cursors."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel

from sendrail.errors import BadRequest

M = TypeVar("M", bound=BaseModel)


def dump(model: BaseModel, exclude: Iterable[str] = ()) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude=set(exclude))


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise BadRequest("cursor is not valid", details=[{"field": "cursor"}]) from exc
    if not isinstance(value, dict):
        raise BadRequest("cursor is not valid", details=[{"field": "cursor"}])
    return value


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
