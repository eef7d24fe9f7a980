"""Reading a JSON request body: one parser for every function that answers HTTP.

Python's ``json`` refuses some documents with errors that are not ``JSONDecodeError``: a
number over the int digit limit (4,300 digits) is a ``ValueError``, nesting deeper than the
recursion limit a ``RecursionError``. Here each of them, and nesting deeper than
:data:`MAX_DEPTH`, is a ``JSONDecodeError``: the caller answers 400, never 500."""

from __future__ import annotations

import json
from typing import Any

# Deeper than any body of the API needs; well under the interpreter's recursion limit,
# so whatever walks the value later (Pydantic, DynamoDB's serializer) cannot overflow.
MAX_DEPTH = 64


def parse(text: str | bytes) -> Any:
    """The JSON value of ``text``; ``json.JSONDecodeError`` for anything unreadable."""
    document = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    try:
        value = json.loads(document)
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # e.g. an integer over the digit limit
        raise json.JSONDecodeError(f"unreadable value: {exc}", document, 0) from None
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", document, 0) from None
    if depth(value) > MAX_DEPTH:
        raise json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", document, 0)
    return value


def depth(value: Any) -> int:
    """How deeply ``value`` nests arrays and objects (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            deepest = max(deepest, level)
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest
