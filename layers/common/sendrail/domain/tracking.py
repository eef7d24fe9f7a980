"""Tracking links, pure: signed tokens for the pixel, clicks and unsubscribe, HTML link
rewriting, and telling machine opens (privacy proxies, link scanners) from people.

A token made for a proof (``POST /api/campaigns/{id}/test``) or a preview carries ``test``:
its links work (a click still redirects) but nothing it does is recorded.

Tokens are HMAC-signed (``domain.signing``) with a purpose per kind, so a click token is
never an unsubscribe token. A click token carries the original URL itself: no lookup, and
no open redirect (a tampered token does not verify)."""

from __future__ import annotations

import html
import ipaddress
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

from sendrail.domain.signing import SignatureError, sign, verify

OPEN, CLICK, UNSUBSCRIBE = "open", "click", "unsubscribe"
SKIP_ATTRIBUTES = ("data-sendrail-skip", "data-no-track")


@dataclass(frozen=True)
class Target:
    """Whom a token is about."""

    tenant_id: str
    campaign_id: str
    email: str
    url: str | None = None
    test: bool = False  # a proof's or a preview's link: followed, never recorded


def token(key: bytes, purpose: str, target: Target) -> str:
    payload: dict[str, Any] = {"t": target.tenant_id, "c": target.campaign_id, "e": target.email}
    if target.url is not None:
        payload["u"] = target.url
    if target.test:
        payload["x"] = 1
    return sign(key, purpose, payload)


def read(key: bytes, purpose: str, value: str) -> Target | None:
    """The token's target, or None if it is malformed, tampered or for another purpose."""
    try:
        payload = verify(key, purpose, value)
    except SignatureError:
        return None
    t, c, e, u = payload.get("t"), payload.get("c"), payload.get("e"), payload.get("u")
    if not (isinstance(t, str) and isinstance(c, str) and isinstance(e, str)):
        return None
    if u is not None and not (isinstance(u, str) and is_trackable(u)):
        return None
    return Target(t, c, e, u, test=payload.get("x") == 1)


_PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))  # printable ASCII, no space
_C0_OR_SPACE = "".join(chr(c) for c in range(0x21))
_TAB_OR_NEWLINE = str.maketrans("", "", "\t\n\r")


def is_safe_location(url: str) -> bool:
    """Printable ASCII only: nothing that could end or split a ``Location`` header."""
    return bool(url) and url.isascii() and url.isprintable() and " " not in url


def is_trackable(url: str) -> bool:
    """Only absolute http(s) links in printable ASCII are rewritten (never mailto:, tel:,
    anchors); and only those are ever redirected to."""
    return url[:8].lower().startswith(("http://", "https://")) and is_safe_location(url)


def browser_url(href: str) -> str:
    """``href`` (decoded) as a browser follows it, in printable ASCII: leading and trailing
    controls and spaces dropped, tabs and line breaks inside removed (the WHATWG URL
    parser does both), then any other control, space or non-ASCII character
    percent-encoded (UTF-8). So ``https://x/&#13;&#10;Set-Cookie:...`` can never put a
    line break in a redirect."""
    if is_safe_location(href):
        return href  # the usual link: nothing to clean
    cleaned = href.strip(_C0_OR_SPACE).translate(_TAB_OR_NEWLINE)
    return quote(cleaned, safe=_PRINTABLE)


class _Anchors(HTMLParser):
    """Finds the ``<a href>`` start tags of a document (not inside comments or scripts)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[tuple[int, int, str]] = []  # (line, column, start tag text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        text = self.get_starttag_text()
        if tag == "a" and text is not None:
            line, column = self.getpos()
            self.found.append((line, column, text))


def _offsets(document: str) -> list[int]:
    """Where each line of ``document`` starts (HTMLParser counts lines with ``\\n``)."""
    starts = [0]
    at = document.find("\n")
    while at != -1:
        starts.append(at + 1)
        at = document.find("\n", at + 1)
    return starts


_HREF = re.compile(r"""\shref\s*=\s*(?:"(?P<d>[^"]*)"|'(?P<s>[^']*)'|(?P<u>[^\s>]+))""", re.I)


def _href(tag: str) -> tuple[int, int, str] | None:
    """(start, end, value) of the href value inside one ``<a ...>`` start tag, unless the
    author marked the link not to be tracked."""
    lowered = tag.lower()
    if any(mark in lowered for mark in SKIP_ATTRIBUTES):
        return None
    match = _HREF.search(tag)
    if match is None:
        return None
    group = next(g for g in ("d", "s", "u") if match.group(g) is not None)
    return match.start(group), match.end(group), match.group(group)


def rewrite_links(document: str, replace: Any) -> str:
    """Return ``document`` with each trackable ``<a href>`` replaced by
    ``replace(original_url) -> new_url | None`` (None keeps the link as it is). Everything
    else in the document is left byte for byte."""
    parser = _Anchors()
    parser.feed(document)
    parser.close()
    if not parser.found:
        return document
    lines = _offsets(document)
    pieces: list[str] = []
    cursor = 0
    for line, column, tag in parser.found:
        start = lines[line - 1] + column
        if document[start : start + len(tag)] != tag:
            continue  # the parser's view and the text disagree: leave this one alone
        href = _href(tag)
        if href is None:
            continue
        value_start, value_end, raw = href
        url = browser_url(html.unescape(raw) if "&" in raw else raw)
        if not is_trackable(url):
            continue
        new = replace(url)
        if new is None:
            continue
        pieces.append(document[cursor : start + value_start])
        pieces.append(html.escape(new, quote=True))
        cursor = start + value_end
    pieces.append(document[cursor:])
    return "".join(pieces)


def add_pixel(document: str, url: str) -> str:
    pixel = (
        f'<img src="{html.escape(url, quote=True)}" width="1" height="1" alt="" '
        'style="display:block;border:0;width:1px;height:1px" />'
    )
    lowered = document.lower()
    at = lowered.rfind("</body>")
    if at == -1:
        return document + pixel
    return document[:at] + pixel + document[at:]


# --- machine opens and clicks ---------------------------------------------------------------

_APPLE_PROXY = ipaddress.ip_network("17.0.0.0/8")  # Apple Mail Privacy Protection's relays
_SCANNER_MARKS = (
    "bot",
    "crawler",
    "spider",
    "scanner",
    "barracuda",
    "proofpoint",
    "mimecast",
    "symantec",
    "trendmicro",
    "forcepoint",
    "python-requests",
    "curl/",
    "wget/",
    "go-http-client",
    "headlesschrome",
    "safelinks",
    "linkscanner",
    "preview",
)


def is_machine(user_agent: str | None, ip: str | None) -> bool:
    """Heuristics: Apple Mail Privacy Protection (Apple's relay addresses, a bare
    ``Mozilla/5.0`` agent), security gateways and link scanners (their agents). Google's
    image proxy is not one: it fetches when a person opens the message."""
    agent = (user_agent or "").strip()
    lowered = agent.lower()
    if ip:
        try:
            if ipaddress.ip_address(ip) in _APPLE_PROXY:
                return True
        except ValueError:
            pass
    if not agent or agent == "Mozilla/5.0":
        return True
    if "googleimageproxy" in lowered:
        return False
    return any(mark in lowered for mark in _SCANNER_MARKS)
