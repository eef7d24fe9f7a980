"""The one MIME builder: every provider (SMTP, SES raw, Gmail raw, Graph MIME) sends the
bytes built here, so headers, Message-ID and parts are the same whatever the transport."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

import html2text

from sendrail.domain.headers import check_name, check_value


def message_id_for(job_id: str, email: str, domain: str) -> str:
    """Deterministic per (campaign or message, recipient): a retry or a lookup after an
    ambiguous send uses the same id."""
    digest = hashlib.blake2s(email.lower().encode(), digest_size=10).hexdigest()
    return f"<{job_id}.{digest}@{domain}>"


def html_to_text(html: str) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 78
    converter.ignore_images = True
    converter.protect_links = True
    converter.unicode_snob = True
    return str(converter.handle(html)).strip() + "\n"


@dataclass(frozen=True)
class OutgoingMessage:
    message_id: str
    from_email: str
    to: str
    subject: str
    html: str
    text: str
    date: datetime
    from_name: str | None = None
    reply_to: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def to_email_message(self) -> EmailMessage:
        msg = EmailMessage(policy=SMTP)
        sender = Address(display_name=check_value(self.from_name or ""), addr_spec=self.from_email)
        msg["From"] = sender
        msg["To"] = Address(addr_spec=self.to)
        msg["Subject"] = check_value(self.subject)
        msg["Date"] = format_datetime(self.date)
        msg["Message-ID"] = self.message_id
        msg["MIME-Version"] = "1.0"
        if self.reply_to:
            msg["Reply-To"] = Address(addr_spec=check_value(self.reply_to))
        for name, value in self.headers.items():
            if name.lower().startswith("list-unsubscribe"):
                msg[name] = check_value(value)
            else:
                msg[check_name(name)] = check_value(value)
        msg.set_content(self.text, subtype="plain", charset="utf-8")
        msg.add_alternative(self.html, subtype="html", charset="utf-8")
        return msg

    def as_bytes(self) -> bytes:
        return self.to_email_message().as_bytes()
