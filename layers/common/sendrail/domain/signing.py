"""Compact HMAC-SHA256 signed tokens (tracking links, unsubscribe, OAuth state, sessions).

``<base64url(json payload)>.<base64url(mac)>``; the purpose is mixed into the MAC, so a
token made for one purpose never verifies for another."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


class SignatureError(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, purpose: str, body: str) -> bytes:
    return hmac.new(key, f"{purpose}.{body}".encode(), hashlib.sha256).digest()[:20]


def sign(key: bytes, purpose: str, payload: dict[str, Any]) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_b64(_mac(key, purpose, body))}"


def verify(key: bytes, purpose: str, token: str) -> dict[str, Any]:
    body, _, mac = token.partition(".")
    if not body or not mac or len(token) > 8192:
        raise SignatureError("malformed token")
    try:
        given = _unb64(mac)
    except (ValueError, TypeError) as exc:
        raise SignatureError("malformed token") from exc
    if not hmac.compare_digest(given, _mac(key, purpose, body)):
        raise SignatureError("bad signature")
    try:
        payload = json.loads(_unb64(body))
    except (ValueError, TypeError) as exc:
        raise SignatureError("malformed token") from exc
    if not isinstance(payload, dict):
        raise SignatureError("malformed token")
    return payload
