"""Header values a user controls: CR/LF and other control characters are refused
(Python 3.11.7's email package is open to CVE-2024-6923, so we never rely on it)."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\u2028\u2029\x85]")
_HEADER_NAME = re.compile(r"^[!-9;-~]{1,76}$")  # printable ASCII except ':'

# Headers a campaign may not set: sendrail writes them, or they would change where the
# message goes, who gets receipts or bounces, how it is parsed, or what it claims to have
# passed through. Custom headers are for the author's own labels (``X-Campaign-Ref``,
# ``Precedence``, ``Feedback-ID``, ``List-Id``...).
RESERVED = frozenset(
    name.lower()
    for name in (
        # addressing: ours (from the mailbox, the recipient, ``reply_to``)
        "From",
        "To",
        "Cc",
        "Bcc",
        "Sender",
        "Reply-To",
        "Subject",
        "Message-ID",
        "Date",
        "MIME-Version",
        # delivery, receipts and bounces
        "Return-Path",
        "Errors-To",
        "Return-Receipt-To",
        "Disposition-Notification-To",
        "Disposition-Notification-Options",
        "Delivered-To",
        "Envelope-To",
        "Apparently-To",
        "X-Original-To",
        # trace and authentication: added by the servers on the way, never by the author
        "Received",
        "Received-SPF",
        "Authentication-Results",
        "DKIM-Signature",
        "DomainKey-Signature",
    )
)
# Whole families: Resent-* (re-addresses the message), Content-* (how it is parsed),
# List-Unsubscribe* (ours), ARC-* (trace), X-Sendrail-* (ours).
RESERVED_PREFIXES = ("resent-", "content-", "list-unsubscribe", "arc-", "x-sendrail-")


def is_reserved(name: str) -> bool:
    lowered = name.lower()
    return lowered in RESERVED or lowered.startswith(RESERVED_PREFIXES)


def has_control_chars(value: str) -> bool:
    return bool(_CONTROL.search(value))


def check_value(value: str) -> str:
    if has_control_chars(value):
        raise ValueError("must not contain line breaks or control characters")
    return value


def check_name(name: str) -> str:
    if not _HEADER_NAME.match(name):
        raise ValueError(f"{name!r} is not a valid header name")
    if is_reserved(name):
        raise ValueError(f"header {name!r} is set by sendrail and cannot be overridden")
    return name
