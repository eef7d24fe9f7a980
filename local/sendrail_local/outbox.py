"""What the local SMTP sink and the provider fakes received, for ``GET /_local/outbox``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sendrail.clock import Clock, to_rfc3339
from sendrail.domain.mime import read_back


@dataclass
class Received:
    to: str
    sender: str
    mailbox_id: str | None
    subject: str
    message_id: str
    headers: dict[str, str]
    html: str
    text: str
    received_at: datetime
    via: str
    raw: bytes = field(repr=False, default=b"")
    # "sent" (by sendrail), or an answer the local recipients made (``answers``):
    # "hard_bounce", "soft_bounce", "reply", "auto_reply".
    kind: str = "sent"

    def as_json(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "from": self.sender,
            "mailbox_id": self.mailbox_id,
            "subject": self.subject,
            "message_id": self.message_id,
            "headers": self.headers,
            "html": self.html,
            "text": self.text,
            "received_at": to_rfc3339(self.received_at),
            "via": self.via,
            "kind": self.kind,
        }


MailboxOf = Callable[[str, str], "str | None"]  # (Message-ID, recipient) -> mailbox id


class Outbox:
    """``mailbox_of`` names the mailbox that sent a message (the local stack looks up the
    recipient its Message-ID names: dispatch records the mailbox when it claims)."""

    def __init__(self, clock: Clock, mailbox_of: MailboxOf | None = None) -> None:
        self._clock = clock
        self._items: list[Received] = []
        self._lock = threading.Lock()
        self._mailbox_of = mailbox_of
        self._listeners: list[Callable[[Received], None]] = []

    def listen(self, listener: Callable[[Received], None]) -> None:
        """Call ``listener`` with each message recorded from now on."""
        self._listeners.append(listener)

    def record_raw(
        self,
        raw: bytes,
        *,
        envelope_to: list[str],
        envelope_from: str,
        via: str,
        mailbox_id: str | None = None,
        kind: str = "sent",
    ) -> None:
        read = read_back(raw)  # as a reader shows it, the same way a preview is read
        html, text, headers = read.html, read.text, read.headers
        message_id = read.headers.get("Message-ID", "")
        for rcpt in envelope_to or [read.headers.get("To", "")]:
            sent_by = mailbox_id
            if sent_by is None and self._mailbox_of is not None and message_id and kind == "sent":
                sent_by = self._mailbox_of(message_id, rcpt.lower())
            item = Received(
                to=rcpt.lower(),
                sender=envelope_from,
                mailbox_id=sent_by,
                subject=read.subject,
                message_id=message_id,
                headers=headers,
                html=html,
                text=text,
                received_at=self._clock.now(),
                via=via,
                raw=raw,
                kind=kind,
            )
            with self._lock:
                self._items.append(item)
            for listener in self._listeners:
                listener(item)

    def items(self, to: str | None = None) -> list[Received]:
        with self._lock:
            found = list(self._items)
        if to:
            found = [i for i in found if i.to == to.lower()]
        return found

    def clear(self) -> int:
        with self._lock:
            count = len(self._items)
            self._items.clear()
            return count
