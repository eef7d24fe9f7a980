"""Bounds of a recipient's ``data`` (its merge fields): how deeply it may nest and how large
it may be once serialised. Checked when recipients are imported or a message is queued;
applied again when stored data is read, so rows written before the bounds still read."""

from __future__ import annotations

import json
from typing import Any

from sendrail.json_body import depth

MAX_DEPTH = 8  # levels of objects and arrays, ``data`` itself being the first
MAX_BYTES = 8 * 1024  # serialised as JSON


def problem(data: dict[str, Any]) -> str | None:
    """Why ``data`` cannot be kept, or None when it is within the bounds."""
    if depth(data) > MAX_DEPTH:
        return f"data is nested deeper than {MAX_DEPTH} levels"
    if len(json.dumps(data, default=str)) > MAX_BYTES:
        return f"data is larger than {MAX_BYTES} bytes"
    return None


def clip(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with whatever lies deeper than :data:`MAX_DEPTH` replaced by its JSON text
    (stored before the bound existed): readers and serialisers never meet deeper data."""
    if depth(data) <= MAX_DEPTH:
        return data
    return {k: _clip(v, 2) for k, v in data.items()}


def _clip(value: Any, level: int) -> Any:
    if not isinstance(value, dict | list):
        return value
    if level > MAX_DEPTH:
        return _as_text(value)
    if isinstance(value, dict):
        return {k: _clip(v, level + 1) for k, v in value.items()}
    return [_clip(v, level + 1) for v in value]


def _as_text(value: Any) -> str:
    try:
        return json.dumps(value, default=str)[:MAX_BYTES]
    except RecursionError:
        return "(nested too deeply to show)"
