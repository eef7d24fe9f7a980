"""Server-chosen opaque ids: time-ordered (so lists sort newest first by key) and unguessable."""

from __future__ import annotations

import secrets
from datetime import datetime

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _b32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str, now: datetime) -> str:
    """``<prefix>_<10 chars of milliseconds><16 random chars>``, lexicographically time-ordered."""
    millis = int(now.timestamp() * 1000)
    return f"{prefix}_{_b32(millis, 10)}{_b32(secrets.randbits(80), 16)}"


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
