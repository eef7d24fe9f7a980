"""The local stack's recipients answer mail as real ones would, by their address's local
part: ``bounce…@`` → a hard-bounce DSN (RFC 3464, 5.1.1) one minute later (stack clock),
``softbounce…@`` → a 4.2.2 DSN one minute later, ``reply…@`` → a human reply after ten
minutes, ``ooo…@`` → an out-of-office auto-reply at once; anything else → nothing.

Answers go into the sending mailbox's inbox: the local IMAP server (user: the sender's
address) for mail that came through the SMTP sink, the Google or Microsoft fake for
Gmail and Outlook mailboxes; ``GET /_local/outbox`` lists them too, with their ``kind``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, make_msgid

from sendrail.clock import Clock

from sendrail_local.outbox import Outbox, Received

Deliver = Callable[[str, str, bytes], None]  # (via, sender address, raw)

RULES: tuple[tuple[str, str, timedelta], ...] = (  # (local part prefix, kind, delay)
    ("softbounce", "soft_bounce", timedelta(minutes=1)),
    ("bounce", "hard_bounce", timedelta(minutes=1)),
    ("reply", "reply", timedelta(minutes=10)),
    ("ooo", "auto_reply", timedelta(0)),
)


@dataclass(frozen=True)
class Pending:
    due: datetime
    kind: str
    via: str
    sender: str
    to: str
    raw: bytes


def rule_for(address: str) -> tuple[str, timedelta] | None:
    local = address.split("@", 1)[0].lower()
    for prefix, kind, delay in RULES:
        if local.startswith(prefix):
            return kind, delay
    return None


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def build(kind: str, original: Received, when: datetime) -> bytes:
    """The answer's bytes, as the recipient's MTA or mail client would write them."""
    date = format_datetime(when)
    domain = original.to.rsplit("@", 1)[-1]
    if kind in ("hard_bounce", "soft_bounce"):
        status, action = ("5.1.1", "failed") if kind == "hard_bounce" else ("4.2.2", "delayed")
        diagnostic = (
            "550 5.1.1 The email account that you tried to reach does not exist"
            if kind == "hard_bounce"
            else "452 4.2.2 The email account that you tried to reach is over quota"
        )
        return _crlf(
            f"""From: Mail Delivery Subsystem <MAILER-DAEMON@mx.{domain}>
To: {original.sender}
Subject: {"Undelivered Mail Returned to Sender" if action == "failed" else "Delayed Mail"}
Date: {date}
Message-ID: {make_msgid(domain=f"mx.{domain}")}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-boundary"

--dsn-boundary
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.{domain}. Your message could not be delivered.

--dsn-boundary
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.{domain}

Final-Recipient: rfc822; {original.to}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {diagnostic}

--dsn-boundary
Content-Type: text/rfc822-headers

From: {original.sender}
To: {original.to}
Subject: {original.subject}
Message-ID: {original.message_id}

--dsn-boundary--
"""
        )
    quoted = "\n".join(f"> {line}" for line in original.text.splitlines()[:20])
    common = (
        f"From: {original.to}\nTo: {original.sender}\nDate: {date}\n"
        f"Message-ID: {make_msgid(domain=domain)}\n"
        f"In-Reply-To: {original.message_id}\nReferences: {original.message_id}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
    )
    if kind == "auto_reply":
        return _crlf(
            f"{common}Subject: Out of office: {original.subject}\nAuto-Submitted: auto-replied\n"
            f"X-Autoreply: yes\n\nI am out of the office and will answer when I am back.\n"
        )
    return _crlf(
        f"{common}Subject: Re: {original.subject}\n\nThanks for your note, tell me more.\n\n"
        f"On {format_datetime(original.received_at)} {original.sender} wrote:\n{quoted}\n"
    )


class Answers:
    def __init__(self, clock: Clock, outbox: Outbox, deliver: Deliver) -> None:
        self._clock = clock
        self._outbox = outbox
        self._deliver = deliver
        self._pending: list[Pending] = []
        self._lock = threading.Lock()

    def observe(self, item: Received) -> None:
        """Called for each message the sink or a fake received."""
        found = rule_for(item.to)
        if found is None or item.kind != "sent":
            return
        kind, delay = found
        due = self._clock.now() + delay
        pending = Pending(due, kind, item.via, item.sender, item.to, build(kind, item, due))
        with self._lock:
            self._pending.append(pending)
        if delay == timedelta(0):
            self.flush()

    def flush(self) -> int:
        """Deliver every answer that is due by the stack clock."""
        now = self._clock.now()
        with self._lock:
            due = [p for p in self._pending if p.due <= now]
            self._pending = [p for p in self._pending if p.due > now]
        for answer in sorted(due, key=lambda p: p.due):
            self._deliver(answer.via, answer.sender, answer.raw)
            self._outbox.record_raw(
                answer.raw,
                envelope_to=[answer.sender],
                envelope_from=answer.to,
                via=answer.via,
                kind=answer.kind,
            )
        return len(due)
