"""The one MIME builder: every provider (SMTP, SES raw, Gmail raw, Graph MIME) sends the
bytes built here, so headers, Message-ID and parts are the same whatever the transport.

A ``multipart/alternative`` of two quoted-printable UTF-8 parts, written directly: the
bytes are those ``email.mime``'s classes give with the compat32 policy and CRLF line ends
(the tests hold the two side by side), at a fraction of the cost, which matters at
hundreds of messages a second. Headers are folded by that same policy unless they fit on
one line as they are; bodies are quoted-printable encoded as ``email.quoprimime`` does.
Every user-controlled header value is checked for line breaks here (Python 3.11.7's
``email`` package is open to CVE-2024-6923)."""

from __future__ import annotations

import hashlib
import random
import re
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import charset as charsets
from email.header import Header
from email.policy import compat32
from email.utils import format_datetime, formataddr
from functools import lru_cache

from sendrail.domain.headers import check_name, check_value

_UTF8_QP = charsets.Charset("utf-8")
_UTF8_QP.body_encoding = charsets.QP
_UTF8_QP.header_encoding = charsets.QP
_CRLF = compat32.clone(linesep="\r\n")
_TAGS = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.DOTALL)


def recipient_digest(email: str) -> str:
    """The recipient's part of our Message-IDs (a reply names it back to us)."""
    return hashlib.blake2s(email.lower().encode(), digest_size=10).hexdigest()


def message_id_for(job_id: str, email: str, domain: str) -> str:
    """Deterministic per (campaign or message, recipient): a retry or a lookup after an
    ambiguous send uses the same id."""
    return f"<{job_id}.{recipient_digest(email)}@{domain}>"


def html_to_text(html: str) -> str:
    import html2text  # noqa: PLC0415 - only when there is mail to build

    converter = html2text.HTML2Text()
    converter.body_width = 78
    converter.ignore_images = True
    converter.protect_links = True
    converter.unicode_snob = True
    return str(converter.handle(html)).strip() + "\n"


@lru_cache(maxsize=64)
def text_template(html_template: str) -> str:
    """The plain-text part's template, derived once from the HTML *template*: merge tags
    are swapped for inert tokens, the HTML converted, the tags put back. Rendering it per
    recipient is then as cheap as rendering the HTML."""
    tags: list[str] = []

    def protect(match: re.Match[str]) -> str:
        tags.append(match.group(0))
        return f"SRTAG{len(tags) - 1}X"

    converted = html_to_text(_TAGS.sub(protect, html_template))
    return re.sub(r"SRTAG(\d+)X", lambda m: tags[int(m.group(1))], converted)


@lru_cache(maxsize=256)
def _header(value: str) -> str:
    check_value(value)
    return value if value.isascii() else Header(value, _UTF8_QP).encode()


@lru_cache(maxsize=256)
def _address(name: str | None, email: str) -> str:
    check_value(email)
    if not name:
        return email
    check_value(name)
    return formataddr((name, email), charset="utf-8")


# --- writing the bytes ---------------------------------------------------------------------

_ONE_LINE = re.compile(r"[!-~]+(?: [!-~]+)*")  # printable ASCII words, single spaces
_MAX_LINE = 78  # compat32's max_line_length


def _fold(name: str, value: str) -> bytes:
    """``name: value`` as compat32 writes it: as it is when it fits on one line, folded
    by the policy otherwise."""
    if len(name) + len(value) + 2 <= _MAX_LINE and _ONE_LINE.fullmatch(value):
        return f"{name}: {value}\r\n".encode("ascii")
    return _CRLF.fold_binary(name, value)


_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))
# Boundaries need not be unpredictable (``email.generator`` draws them with ``random``):
# a generator seeded once spares every message a system call for fresh random bytes.
_DRAW = random.Random(secrets.randbits(128))  # noqa: S311


def _boundary() -> str:
    """A boundary as ``email.generator`` draws one. It can never occur in the parts: it
    holds ``=``, which quoted-printable always encodes."""
    return f"{'=' * 15}{_DRAW.randrange(sys.maxsize):0{_BOUNDARY_DIGITS}d}=="


@lru_cache(maxsize=4)
def _date_line(second: datetime, offset: timedelta | None) -> bytes:
    """The ``Date`` header line, written once a second (``second`` has no microseconds;
    ``offset`` is its zone's, as equal moments in two zones are equal keys)."""
    return _fold("Date", format_datetime(second))


_PLACEHOLDER = "=" * 15 + "0" * _BOUNDARY_DIGITS + "=="
# Folding depends on the value's spaces and separators, not on its digits: fold once.
_CONTENT_TYPE = _fold("Content-Type", f'multipart/alternative; boundary="{_PLACEHOLDER}"')
_QP_OTHER = re.compile(rb"[^\t\n\r\x20-\x7e]")  # what is left to quote once = is done
_QP_ESCAPES = [b"=%02X" % octet for octet in range(256)]
_QP_LINE = 76


def _quote(match: re.Match[bytes]) -> bytes:
    return _QP_ESCAPES[match.group()[0]]


def _quoted_printable(text: str) -> bytes:
    """``text`` in UTF-8, quoted-printable, lines ending in CRLF: what
    ``email.quoprimime.body_encode`` gives (then written with CRLF), computed with one
    regular expression instead of a translation of every character."""
    if not text:
        return b""
    body = _QP_OTHER.sub(_quote, text.encode("utf-8").replace(b"=", b"=3D"))
    lines: list[bytes] = []
    append = lines.append
    for line in body.splitlines():
        start = 0
        last_start = len(line) - 1 - _QP_LINE
        while start <= last_start:  # soft breaks, never inside an =XX escape
            stop = start + _QP_LINE - 1
            if line[stop - 2] == 0x3D:
                append(line[start : stop - 1])
                start = stop - 2
            elif line[stop - 1] == 0x3D:
                append(line[start:stop])
                start = stop - 1
            else:
                append(line[start:stop] + b"=")
                start = stop
        if line and line[-1] in b" \t":  # whitespace ending a line is encoded
            room = start - last_start
            end = b"=%02X" % line[-1]
            if room >= 3:
                append(line[start:-1] + end)
            elif room == 2:
                append(line[start:] + b"=\r\n")
            else:
                append(line[start:-1] + b"=\r\n" + end)
        else:
            append(line[start:])
    if body[-1] in b"\r\n":
        append(b"")
    return b"\r\n".join(lines)


def _part(subtype: str, text: str) -> bytes:
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode("ascii") + _quoted_printable(text)


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

    def as_bytes(self) -> bytes:
        head = [
            b"",  # Content-Type, once the boundary is drawn
            b"MIME-Version: 1.0\r\n",
            _fold("From", _address(self.from_name, self.from_email)),
            _fold("To", _address(None, self.to)),
            _fold("Subject", _header(self.subject)),
            _date_line(self.date.replace(microsecond=0), self.date.utcoffset()),
            _fold("Message-ID", _header(self.message_id)),
        ]
        if self.reply_to:
            head.append(_fold("Reply-To", _address(None, self.reply_to)))
        for name, value in self.headers.items():
            if not name.lower().startswith("list-unsubscribe"):
                check_name(name)
            head.append(_fold(name, _header(value)))
        text, html = _part("plain", self.text), _part("html", self.html)
        boundary = _boundary()
        head[0] = _CONTENT_TYPE.replace(_PLACEHOLDER.encode(), boundary.encode())
        dash = b"--" + boundary.encode()
        head += (b"\r\n", dash, b"\r\n", text, b"\r\n", dash, b"\r\n", html, b"\r\n", dash)
        head.append(b"--\r\n")
        return b"".join(head)


# --- reading the bytes back -----------------------------------------------------------------


@dataclass(frozen=True)
class ReadBack:
    """A message as a mail reader shows it: its headers decoded (name -> value; the last
    of a repeated header), its HTML and plain-text bodies."""

    headers: dict[str, str]
    html: str
    text: str

    @property
    def subject(self) -> str:
        return self.headers.get("Subject", "")


def read_back(raw: bytes) -> ReadBack:
    """``raw`` parsed as a reader parses it (the local outbox and the preview both read
    messages through this)."""
    from email import message_from_bytes, policy  # noqa: PLC0415 - previews and fakes only
    from email.message import EmailMessage  # noqa: PLC0415

    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    html_part = message.get_body(preferencelist=("html",))
    text_part = message.get_body(preferencelist=("plain",))
    return ReadBack(
        headers={name: str(value).strip() for name, value in message.items()},
        html=str(html_part.get_content()) if html_part is not None else "",
        text=str(text_part.get_content()) if text_part is not None else "",
    )
