"""Header values a user controls: CR/LF and other control characters are refused
(Python 3.11.7's email package is open to CVE-2024-6923, so we never rely on it)."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\u2028\u2029\x85]")
_HEADER_NAME = re.compile(r"^[!-9;-~]{1,76}$")  # printable ASCII except ':'

# Headers a campaign may not set: sendrail owns them.
RESERVED = frozenset(
    name.lower()
    for name in (
        "From",
        "To",
        "Cc",
        "Bcc",
        "Subject",
        "Message-ID",
        "Date",
        "Reply-To",
        "Sender",
        "Return-Path",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "Received",
        "DKIM-Signature",
    )
)


def has_control_chars(value: str) -> bool:
    return bool(_CONTROL.search(value))


def check_value(value: str) -> str:
    if has_control_chars(value):
        raise ValueError("must not contain line breaks or control characters")
    return value


def check_name(name: str) -> str:
    if not _HEADER_NAME.match(name):
        raise ValueError(f"{name!r} is not a valid header name")
    if name.lower() in RESERVED:
        raise ValueError(f"header {name!r} is set by sendrail and cannot be overridden")
    return name
