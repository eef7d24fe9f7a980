"""Content checks before a campaign starts: pure functions over the subject, the HTML,
the text, the tenant's settings and the data keys seen on its recipients.

Each check returns at most one :class:`Finding` (its ``detail`` lists every instance).
``error`` findings stop ``start`` (an owner may force it); warnings and infos inform.
HTML is read with the standard library's tolerant parser (``html.parser``), merge tags with
Jinja2's own parser (``templates.merge_tags``)."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from html.parser import HTMLParser
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from sendrail.domain.footer import UNSUBSCRIBE_TAG
from sendrail.domain.templates import merge_tags
from sendrail.domain.tracking import browser_url

GMAIL_CLIP_BYTES = 102 * 1024  # Gmail shows "[Message clipped]" past about 102 KB of HTML
SUBJECT_MAX = 150
# Names every message has besides the recipient's data (see ``compose`` and ``personalise``).
BUILT_IN_TAGS = frozenset({"email", UNSUBSCRIBE_TAG})
TEXT_PER_IMAGE = 400  # characters of text per image below which a message reads as images
SHORTENERS = frozenset(
    {
        "bit.ly",
        "bitly.com",
        "tinyurl.com",
        "t.co",
        "goo.gl",
        "ow.ly",
        "is.gd",
        "buff.ly",
        "rebrand.ly",
        "cutt.ly",
        "shorturl.at",
        "tiny.cc",
        "bl.ink",
        "t.ly",
        "rb.gy",
        "s.id",
        "v.gd",
        "lnkd.in",
        "trib.al",
    }
)
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr", "param"}
)  # fmt: skip
# Elements whose end tag HTML lets an author leave out.
OPTIONAL_END = frozenset(
    {"p", "li", "td", "th", "tr", "thead", "tbody", "tfoot", "option", "dt", "dd", "colgroup",
     "html", "head", "body", "caption"}
)  # fmt: skip
DROPPED = {
    "script": "scripts are removed by every mail client and raise spam scores",
    "form": "forms do not work in most mail clients (Gmail and Outlook disable them)",
    "iframe": "iframes are removed by mail clients",
    "object": "embedded objects are removed by mail clients",
    "embed": "embedded objects are removed by mail clients",
}


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Content:
    """What is checked: the campaign's templates and what surrounds them at send time."""

    subject: str
    html: str
    text: str | None = None
    footer: bool = True  # the tenant's automatic unsubscribe footer
    postal_address: str | None = None
    data_keys: frozenset[str] = frozenset()  # keys seen in the sampled recipients' data
    sampled: int = 0  # how many recipients were sampled


class _Document(HTMLParser):
    """One pass over the HTML: links, images, visible text, tags left open or dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.images = 0
        self.text: list[str] = []
        self.open: list[str] = []
        self._depth: dict[str, int] = {}  # open elements by name: O(1) "is it open?"
        self.unclosed: list[str] = []
        self.stray: list[str] = []
        self.dropped: dict[str, int] = {}
        self.external_css: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag in DROPPED:
            self.dropped[tag] = self.dropped.get(tag, 0) + 1
        if tag == "a" and "href" in values:
            self.links.append(values["href"])
        if tag == "img" and not _is_pixel(values):
            self.images += 1
        if tag == "link" and "stylesheet" in values.get("rel", "").lower():
            self.external_css.append(values.get("href", ""))
        if tag in ("script", "style", "head", "title"):
            self._hidden += 1
        if tag not in VOID:
            self._push(tag)

    def _push(self, tag: str) -> None:
        self.open.append(tag)
        self._depth[tag] = self._depth.get(tag, 0) + 1

    def _pop(self) -> str:
        tag = self.open.pop()
        self._depth[tag] -= 1
        return tag

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.open and self.open[-1] == tag:
            self._pop()
            self._leave(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self._depth.get(tag):
            if len(self.stray) < 100:
                self.stray.append(tag)
            return
        while self.open:  # close what the author left open inside this element
            inner = self._pop()
            self._leave(inner)
            if inner == tag:
                return
            if inner not in OPTIONAL_END:
                self.unclosed.append(inner)

    def _leave(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)

    def finish(self) -> None:
        self.close()
        self.unclosed.extend(t for t in self.open if t not in OPTIONAL_END)
        self.open.clear()
        self._depth.clear()

    def visible_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def _is_pixel(attrs: dict[str, str]) -> bool:
    return attrs.get("width", "").strip() in ("0", "1") or attrs.get("height", "").strip() in (
        "0",
        "1",
    )


def parse(html: str) -> _Document:
    document = _Document()
    document.feed(html)
    document.finish()
    return document


@dataclass(frozen=True)
class PhraseList:
    phrases: dict[str, int]
    warn_at: int


@lru_cache(maxsize=1)
def spam_phrases() -> PhraseList:
    """The phrase list shipped in ``domain/data/spam_phrases.json`` (see its ``about``)."""
    raw = json.loads(
        resources.files("sendrail.domain").joinpath("data/spam_phrases.json").read_text("utf-8")
    )
    return PhraseList({str(k).lower(): int(v) for k, v in raw["phrases"].items()}, raw["warn_at"])


# --- the checks -------------------------------------------------------------------------


def check_unsubscribe(content: Content) -> list[Finding]:
    if UNSUBSCRIBE_TAG in merge_tags(content.html) or content.footer:
        return []
    return [
        Finding(
            "missing_unsubscribe_link",
            Severity.ERROR,
            "the HTML has no {{ unsubscribe_url }} and the automatic footer is turned off",
            {"fix": "add {{ unsubscribe_url }} to a link, or set unsubscribe_footer: true"},
        )
    ]


def check_postal_address(content: Content) -> list[Finding]:
    if content.postal_address:
        return []
    return [
        Finding(
            "missing_postal_address",
            Severity.WARNING,
            "no postal address is set: CAN-SPAM asks for the sender's physical address in "
            "every commercial message",
            {"fix": "set postal_address in PUT /api/settings/sending"},
        )
    ]


def check_merge_tags(content: Content) -> list[Finding]:
    used: set[str] = set()
    for source in (content.subject, content.html, content.text or ""):
        used |= merge_tags(source)
    unknown = sorted(used - BUILT_IN_TAGS - content.data_keys)
    if not unknown:
        return []
    return [
        Finding(
            "unknown_merge_tags",
            Severity.WARNING,
            f"no sampled recipient has data for: {', '.join(unknown)} (they render empty)",
            {"tags": unknown, "sampled_recipients": content.sampled},
        )
    ]


def spam_score(text: str, phrases: PhraseList) -> tuple[int, list[str]]:
    lowered = " ".join(text.lower().split())
    hits = [
        p
        for p in sorted(phrases.phrases)
        if re.search(rf"(?<![\w]){re.escape(p)}(?![\w])", lowered) is not None
    ]
    return sum(phrases.phrases[p] for p in hits), hits


def check_spam_phrases(content: Content, document: _Document) -> list[Finding]:
    phrases = spam_phrases()
    score, hits = spam_score(
        f"{content.subject} {content.subject} {document.visible_text()}", phrases
    )
    if score < phrases.warn_at:
        return []
    return [
        Finding(
            "spam_phrases",
            Severity.WARNING,
            f"phrases spam filters weigh against scored {score} (warning at {phrases.warn_at})",
            {"score": score, "threshold": phrases.warn_at, "phrases": hits},
        )
    ]


def check_images(document: _Document) -> list[Finding]:
    characters = len(document.visible_text())
    if document.images == 0 or characters >= TEXT_PER_IMAGE * document.images:
        return []
    return [
        Finding(
            "image_heavy",
            Severity.WARNING,
            f"{document.images} image(s) and {characters} characters of text: filters "
            "distrust mail that is mostly images, and many clients block images",
            {"images": document.images, "text_characters": characters},
        )
    ]


def check_html(html: str, document: _Document) -> list[Finding]:
    problems: list[dict[str, Any]] = []
    if document.unclosed:
        problems.append({"problem": "unclosed_tags", "tags": sorted(set(document.unclosed))})
    if document.stray:
        problems.append({"problem": "stray_end_tags", "tags": sorted(set(document.stray))})
    for tag, count in sorted(document.dropped.items()):
        problems.append({"problem": tag, "count": count, "why": DROPPED[tag]})
    if document.external_css:
        problems.append(
            {
                "problem": "external_css",
                "urls": document.external_css[:10],
                "why": "mail clients do not load linked stylesheets; inline the CSS",
            }
        )
    if re.search(r"@import\b", html, re.I):
        problems.append({"problem": "css_import", "why": "@import is dropped by mail clients"})
    if not problems:
        return []
    names = ", ".join(p["problem"] for p in problems)
    return [
        Finding(
            "broken_html",
            Severity.WARNING,
            f"the HTML has parts mail clients drop or mangle: {names}",
            {"problems": problems},
        )
    ]


def check_size(content: Content) -> list[Finding]:
    size = len(content.html.encode("utf-8"))
    if size <= GMAIL_CLIP_BYTES:
        return []
    return [
        Finding(
            "too_large",
            Severity.WARNING,
            f"the HTML is {size // 1024} KB: Gmail clips messages over about 102 KB, hiding "
            "the end (and the unsubscribe link)",
            {"bytes": size, "limit": GMAIL_CLIP_BYTES},
        )
    ]


def link_problem(href: str) -> str | None:
    """Why one link is a problem, or None. Templated links are judged as sent, not here."""
    url = href.strip()
    if "{{" in url or "{%" in url:
        return None
    lowered = url.lower()
    if lowered.startswith(("mailto:", "tel:", "#", "sms:")):
        return None
    if lowered.startswith(("javascript:", "data:", "vbscript:")):
        return "script_link"
    if not url:
        return "empty"
    url = browser_url(url)  # as a browser follows it: stray controls dropped, spaces encoded
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "unparseable"
    if parts.scheme not in ("http", "https"):
        return "unsupported_scheme" if parts.scheme else "relative"
    if not host:
        return "unparseable"
    try:
        ipaddress.ip_address(host)
        return "ip_address"
    except ValueError:
        pass
    if host in SHORTENERS or host.removeprefix("www.") in SHORTENERS:
        return "shortener"
    if parts.scheme == "http":
        return "insecure_http"
    return None


def check_links(document: _Document) -> list[Finding]:
    found: dict[str, list[str]] = {}
    for href in document.links:
        problem = link_problem(href)
        if problem is not None:
            found.setdefault(problem, [])
            if len(found[problem]) < 10 and href not in found[problem]:
                found[problem].append(href)
    if not found:
        return []
    broken = {"unparseable", "empty", "script_link"} & found.keys()
    return [
        Finding(
            "link_problems",
            Severity.ERROR if broken else Severity.WARNING,
            "links filters or readers will distrust or cannot follow: " + ", ".join(sorted(found)),
            {"links": found},
        )
    ]


def check_subject(content: Content) -> list[Finding]:
    subject = " ".join(content.subject.split())
    if not subject:
        return [Finding("subject_problems", Severity.ERROR, "the subject is empty", {})]
    problems: list[str] = []
    if len(subject) > SUBJECT_MAX:
        problems.append(f"longer than {SUBJECT_MAX} characters ({len(subject)})")
    plain = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", subject)
    letters = [c for c in plain if c.isalpha()]
    if len(letters) >= 8 and all(c.isupper() for c in letters):
        problems.append("all capitals")
    if re.search(r"[!?]{2,}|\${2,}", plain) or plain.count("!") > 2:
        problems.append("excessive punctuation")
    if not problems:
        return []
    return [
        Finding(
            "subject_problems",
            Severity.WARNING,
            f"the subject is {'; '.join(problems)}",
            {"problems": problems, "length": len(subject)},
        )
    ]


def check_text_part(content: Content) -> list[Finding]:
    if content.text:
        return []
    return [
        Finding(
            "no_text_part",
            Severity.INFO,
            "no plain-text part: one is generated from the HTML",
            {},
        )
    ]


def check(content: Content) -> list[Finding]:
    """Every finding for ``content``, errors first."""
    document = parse(content.html)
    findings = [
        *check_unsubscribe(content),
        *check_postal_address(content),
        *check_merge_tags(content),
        *check_spam_phrases(content, document),
        *check_images(document),
        *check_html(content.html, document),
        *check_size(content),
        *check_links(document),
        *check_subject(content),
        *check_text_part(content),
    ]
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return sorted(findings, key=lambda f: order[f.severity])


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)
