"""What a message found in a sending mailbox's inbox is, from its bytes alone.

- **dsn**: a delivery status notification (an RFC 3464 ``multipart/report``, or the
  older forms MTAs still send: a mailer-daemon sender or a bounce subject). Which
  addresses failed, and how, is the bounce service's job (flufl.bounce), not this one.
- **auto_reply**: out-of-office and other automatic answers (RFC 3834 ``Auto-Submitted``,
  ``X-Autoreply``, ``Precedence: auto_reply|bulk|junk``, or a common subject in one of
  several languages). Never a reply.
- **unsubscribe**: a reply to our mail whose first line asks to be removed.
- **reply**: a human answer: its ``In-Reply-To``/``References`` name a Message-ID we sent.
- **other**: everything else, ignored.

The headers are read first and the body only when it matters, so the mail of the user's
own correspondence costs one header parse (:func:`classify` on 10,000 messages, 1% ours,
is in ``bench/bench_inbox.py``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from enum import StrEnum
from html import unescape

from sendrail.domain.addresses import InvalidAddress, normalize

SNIPPET_CHARS = 200


class InboxKind(StrEnum):
    DSN = "dsn"
    REPLY = "reply"
    AUTO_REPLY = "auto_reply"
    UNSUBSCRIBE = "unsubscribe"
    OTHER = "other"


@dataclass(frozen=True)
class OurMessage:
    """A Message-ID we generated (``domain.mime.message_id_for``)."""

    message_id: str
    job_id: str  # the campaign or single message it belongs to
    digest: str  # ``mime.recipient_digest`` of the address it went to


@dataclass(frozen=True)
class Classified:
    kind: InboxKind
    ours: tuple[OurMessage, ...] = ()  # newest first (In-Reply-To, then References)
    senders: tuple[str, ...] = ()  # From, Reply-To, Sender: normalised, deduplicated
    subject: str = ""
    snippet: str = ""
    date: datetime | None = None


_OUR_ID = re.compile(r"<((?:cmp|msg)_[0-9A-Za-z]+)\.([0-9a-f]{20})@[^<>\s]+>")
_DAEMONS = frozenset(
    {"mailer-daemon", "mailerdaemon", "postmaster", "mdaemon", "mail-daemon", "mailadm"}
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliver|undelivered mail|returned mail|failure notice|failure delivery"
    r"|failed mail|delivery (?:status )?notification|delivery (?:report|failure|problem)"
    r"|delivery has failed|mail delivery (?:failed|problem|failure)|mail not delivered"
    r"|mail could not be delivered|permanent delivery failure|delayed mail|message delayed"
    r"|warning: message .*delayed|warning: message has not yet been delivered"
    r"|mail system error|non.?deliverable|unzustellbar|non remis|no se puede entregar)",
    re.IGNORECASE,
)
_AUTO_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk"})
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder")
_AUTO_SUBJECT = re.compile(
    r"out of (?:the )?office|automatic reply|auto[- ]?reply|auto[- ]?response|autosvar"
    r"|abwesenheit|automatische antwort|r[ée]ponse automatique|absence du bureau"
    r"|respuesta autom[áa]tica|fuera de la oficina|risposta automatica|fuori (?:sede|ufficio)"
    r"|resposta autom[áa]tica|automatisch antwoord|afwezig|fr[åa]nvaro|frav[æa]r"
    r"|poza biurem|odpowied[źz] automatyczna|automaattinen vastaus|自动回复|自動返信|不在",
    re.IGNORECASE,
)
_UNSUBSCRIBE_LINE = re.compile(
    r"^\W*(?:please\s+)?(?:unsubscribe|remove|stop|opt[- ]?out|take me off"
    r"|abmelden|d[ée]sabonner|d[ée]sinscri|darme de baja|baja|afmelden|cancella)\b",
    re.IGNORECASE,
)
_UNSUBSCRIBE_LINE_MAX = 80  # a longer first line is a sentence about something else
# Where the quoted original starts in a reply (Gmail, Apple Mail, Outlook, Thunderbird).
_QUOTE_START = re.compile(
    r"^(?:>|On .+wrote:\s*$|Le .+a écrit\s*:|Am .+schrieb.*:|El .+escribió:"
    r"|-{2,}\s*Original Message\s*-{2,}|-{2,}\s*Ursprüngliche Nachricht|_{10,}"
    r"|From: .+|De : .+|Von: .+)",
    re.IGNORECASE,
)
_INVISIBLE = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_BLOCK = re.compile(r"<(?:br|/?p|/?div|hr|/?tr|/?li|/?blockquote)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def our_message_ids(value: str | None) -> list[OurMessage]:
    """Our Message-IDs named in a header value, in the order they appear."""
    return [
        OurMessage(match.group(0), match.group(1), match.group(2))
        for match in _OUR_ID.finditer(value or "")
    ]


def _text(value: object) -> str:
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except (ValueError, LookupError, UnicodeError):
        return str(value)


def _addresses(headers: Message) -> tuple[str, ...]:
    found: list[str] = []
    for name in ("From", "Reply-To", "Sender"):
        for _, address in getaddresses([str(v) for v in headers.get_all(name, [])]):
            try:
                normal = normalize(address)
            except InvalidAddress:
                continue
            if normal not in found:
                found.append(normal)
    return tuple(found)


def _date(headers: Message) -> datetime | None:
    value = headers.get("Date")
    if not value:
        return None
    try:
        when = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def _is_dsn(headers: Message, subject: str) -> bool:
    content_type = str(headers.get("Content-Type", "")).lower()
    if "multipart/report" in content_type and "delivery-status" in content_type:
        return True
    senders = getaddresses([str(v) for v in headers.get_all("From", [])])
    if any(address.split("@", 1)[0].lower() in _DAEMONS for _, address in senders):
        return True
    return bool(_BOUNCE_SUBJECT.match(subject))


def _is_auto_reply(headers: Message, subject: str) -> bool:
    submitted = str(headers.get("Auto-Submitted", "")).strip().lower()
    if submitted and submitted != "no":
        return True
    if any(headers.get(name) for name in _AUTO_HEADERS):
        return True
    for name in ("Precedence", "X-Precedence"):
        if str(headers.get(name, "")).strip().lower() in _AUTO_PRECEDENCE:
            return True
    return bool(_AUTO_SUBJECT.search(subject))


def _ours(headers: Message) -> tuple[OurMessage, ...]:
    found: list[OurMessage] = our_message_ids(str(headers.get("In-Reply-To", "")))
    found += reversed(our_message_ids(" ".join(str(v) for v in headers.get_all("References", []))))
    unique: dict[str, OurMessage] = {}
    for item in found:
        unique.setdefault(item.message_id, item)
    return tuple(unique.values())


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def body_text(message: Message) -> str:
    """The first plain-text part, or the first HTML part with its tags removed."""
    html = None
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain":
            return _decoded(part)
        if kind == "text/html" and html is None:
            html = _decoded(part)
    if html is None:
        return ""
    text = _TAG.sub("", _BLOCK.sub("\n", _INVISIBLE.sub("", html)))
    return unescape(text).replace("\xa0", " ")


def fresh_lines(text: str) -> list[str]:
    """The lines the sender wrote, above the quoted original; blank lines dropped."""
    lines = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if _QUOTE_START.match(line.strip()):
            break
        if line.strip():
            lines.append(line.strip())
    return lines


def asks_to_unsubscribe(lines: list[str]) -> bool:
    return (
        bool(lines)
        and len(lines[0]) <= _UNSUBSCRIBE_LINE_MAX
        and bool(_UNSUBSCRIBE_LINE.match(lines[0]))
    )


def classify(raw: bytes) -> Classified:
    headers = BytesHeaderParser().parsebytes(raw)
    subject = _SPACES.sub(" ", _text(headers.get("Subject"))).strip()
    if _is_dsn(headers, subject):
        return Classified(InboxKind.DSN, subject=subject, date=_date(headers))
    ours = _ours(headers)
    auto = _is_auto_reply(headers, subject)
    if not ours and not auto:
        return Classified(InboxKind.OTHER, subject=subject)  # the body is never parsed
    lines = fresh_lines(body_text(message_from_bytes(raw)))
    snippet = _SPACES.sub(" ", " ".join(lines))[:SNIPPET_CHARS]
    if auto:
        kind = InboxKind.AUTO_REPLY
    elif asks_to_unsubscribe(lines):
        kind = InboxKind.UNSUBSCRIBE
    else:
        kind = InboxKind.REPLY
    return Classified(kind, ours, _addresses(headers), subject, snippet, _date(headers))
