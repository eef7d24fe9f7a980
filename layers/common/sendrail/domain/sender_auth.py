"""Sender authentication: what a domain's SPF, DKIM and DMARC records say, and whether mail
from a mailbox would pass DMARC (Gmail and Yahoo reject bulk mail that does not, since 2024).

Pure functions over DNS answers (:class:`Answer`); the lookups themselves live in
``services.sender_auth``. The parsers follow RFC 7208 (SPF: one ``v=spf1`` record,
at most 10 DNS-querying terms), RFC 6376 (DKIM: a key record with a non-empty ``p=``) and
RFC 7489 (DMARC: ``v=DMARC1`` first, ``p=`` required, relaxed alignment by default).

Statuses (documented in the OpenAPI description of the route):

- SPF: ``ok``, ``missing``, ``not_authorized`` (the record does not include the
  mailbox's provider), ``unverified`` (a record exists; whether it covers the mailbox's
  own SMTP server could not be told), ``too_permissive`` (``+all``/``?all``),
  ``multiple_records``, ``too_many_lookups`` (over 10), ``invalid``, ``dns_error``,
  ``timeout``.
- DKIM: ``ok`` (a key under one of the probed selectors), ``missing``, ``revoked`` (only
  empty keys found), ``dns_error``, ``timeout``; each selector ``found``, ``missing``,
  ``revoked``, ``dns_error`` or ``timeout``.
- DMARC: ``ok`` (``p=quarantine`` or ``p=reject``), ``monitoring`` (``p=none``),
  ``missing``, ``invalid``, ``dns_error``, ``timeout``.
- MX: ``ok``, ``missing``, ``dns_error``, ``timeout``."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from sendrail.domain.models import Mailbox, Provider
from sendrail.domain.provider_limits import (
    GMAIL_DOMAINS,
    GOOGLE_SMTP_HOSTS,
    MICROSOFT_SMTP_HOSTS,
    OUTLOOK_COM_DOMAINS,
)

Outcome = Literal["ok", "nxdomain", "nodata", "servfail", "timeout"]
MAX_SPF_LOOKUPS = 10  # RFC 7208 section 4.6.4

GOOGLE_SPF = "_spf.google.com"
MICROSOFT_SPF = "spf.protection.outlook.com"
SES_SPF = "amazonses.com"
GOOGLE_SELECTORS = ("google",)
MICROSOFT_SELECTORS = ("selector1", "selector2")
CONSUMER_DOMAINS = GMAIL_DOMAINS | OUTLOOK_COM_DOMAINS
COMMON_SELECTORS = ("default", "dkim", "mail", "s1", "s2", "k1")


@dataclass(frozen=True)
class Answer:
    """One DNS lookup: how it went and the records (TXT strings joined, or host names)."""

    outcome: Outcome
    records: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.outcome in ("servfail", "timeout")

    @property
    def failure(self) -> str:
        return "timeout" if self.outcome == "timeout" else "dns_error"


# --- SPF ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpfTerm:
    qualifier: str  # "+", "-", "~", "?"
    name: str  # mechanism ("include", "a", "ip4", "all", ...) or modifier ("redirect", ...)
    value: str | None
    modifier: bool = False


@dataclass(frozen=True)
class SpfRecord:
    terms: tuple[SpfTerm, ...]
    errors: tuple[str, ...] = ()

    def mechanisms(self, name: str) -> list[SpfTerm]:
        return [t for t in self.terms if not t.modifier and t.name == name]

    @property
    def includes(self) -> list[str]:
        return [t.value.lower().rstrip(".") for t in self.mechanisms("include") if t.value]

    @property
    def redirect(self) -> str | None:
        found = [t.value for t in self.terms if t.modifier and t.name == "redirect" and t.value]
        return found[0].lower().rstrip(".") if found else None

    @property
    def all_qualifier(self) -> str | None:
        found = self.mechanisms("all")
        return found[0].qualifier if found else None

    @property
    def lookups(self) -> int:
        """DNS-querying terms of this record itself (``include``, ``a``, ``mx``, ``ptr``,
        ``exists``, ``redirect``)."""
        querying = {"include", "a", "mx", "ptr", "exists"}
        count = sum(1 for t in self.terms if not t.modifier and t.name in querying)
        return count + (1 if self.redirect else 0)


_MODIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*=")
_MECHANISMS = {"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"}
_NEEDS_VALUE = {"include", "ip4", "ip6", "exists"}


def is_spf(text: str) -> bool:
    lowered = text.strip().lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


def parse_spf(text: str) -> SpfRecord:
    """Parse one ``v=spf1`` record; terms that do not parse are named in ``errors``."""
    parts = text.split()
    terms: list[SpfTerm] = []
    errors: list[str] = []
    for part in parts[1:]:
        qualifier = "+"
        body = part
        if body[:1] in "+-~?" and body[:1]:
            qualifier, body = body[0], body[1:]
        if _MODIFIER.match(body):
            name, value = body.split("=", 1)
            if not name or not value:
                errors.append(part)
                continue
            terms.append(SpfTerm("+", name.lower(), value, modifier=True))
            continue
        name, sep, value = body.partition(":")
        if not sep and "/" in name:  # "a/24", "mx/24"
            name, _, cidr = name.partition("/")
            value = "/" + cidr
            sep = "/"
        name = name.lower()
        if name not in _MECHANISMS or (name in _NEEDS_VALUE and not value):
            errors.append(part)
            continue
        if name in ("ip4", "ip6") and not _network(value):
            errors.append(part)
            continue
        terms.append(SpfTerm(qualifier, name, value if sep else None))
    return SpfRecord(tuple(terms), tuple(errors))


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def covers_address(record: SpfRecord, address: str) -> bool:
    """Whether an ``ip4``/``ip6`` mechanism of the record covers ``address``."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for term in (*record.mechanisms("ip4"), *record.mechanisms("ip6")):
        net = _network(term.value or "")
        if net is not None and net.version == ip.version and ip in net and term.qualifier == "+":
            return True
    return False


@dataclass
class SpfTree:
    """The domain's record and the records it includes (walked up to the lookup limit)."""

    record: SpfRecord | None
    raw: str | None
    lookups: int = 0
    includes: set[str] = field(default_factory=set)
    addresses_covered: Callable[[str], bool] = lambda _: False
    failed: str | None = None  # "dns_error"/"timeout" while walking the includes


def walk_spf(domain: str, txt: Callable[[str], Answer]) -> tuple[Answer, SpfTree | None, int]:
    """Read ``domain``'s SPF record and walk its includes and redirect, counting DNS
    lookups, never more than :data:`MAX_SPF_LOOKUPS` + 1 queries. Returns the domain's own
    answer, the tree (None without a single record) and how many records were found."""
    answer = txt(domain)
    records = [r for r in answer.records if is_spf(r)]
    if answer.failed or len(records) != 1:
        return answer, None, len(records)
    root = parse_spf(records[0])
    tree = SpfTree(root, records[0])
    parsed: list[SpfRecord] = [root]
    queue = [*root.includes, *([root.redirect] if root.redirect else [])]
    lookups = root.lookups
    seen: set[str] = set()
    while queue and lookups <= MAX_SPF_LOOKUPS:
        name = queue.pop(0)
        tree.includes.add(name)
        if name in seen:
            continue
        seen.add(name)
        got = txt(name)
        if got.failed:
            tree.failed = got.failure
            continue
        nested = [r for r in got.records if is_spf(r)]
        if len(nested) != 1:
            continue
        record = parse_spf(nested[0])
        parsed.append(record)
        lookups += record.lookups
        queue.extend(record.includes)
        if record.redirect:
            queue.append(record.redirect)
    tree.includes.update(queue)
    tree.lookups = lookups
    tree.addresses_covered = lambda address: any(covers_address(r, address) for r in parsed)
    return answer, tree, 1


# --- DKIM ---------------------------------------------------------------------------------


def parse_tags(text: str) -> dict[str, str]:
    """``k=v; k=v`` tag lists (DKIM keys, DMARC records); later duplicates are ignored."""
    tags: dict[str, str] = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        if sep and name and name not in tags:
            tags[name] = "".join(value.split())
    return tags


def dkim_key_status(records: Iterable[str]) -> str:
    """``found`` for a key with a public key, ``revoked`` for an empty ``p=``, ``missing``
    when no record is a DKIM key."""
    status = "missing"
    for record in records:
        tags = parse_tags(record)
        if "p" not in tags or tags.get("v", "DKIM1") != "DKIM1":
            continue
        if tags["p"]:
            return "found"
        status = "revoked"
    return status


def selectors_for(mailbox: Mailbox) -> list[str]:
    """The selectors worth probing: the provider's own, then the mailbox's configured ones."""
    host = (mailbox.smtp.host.lower().rstrip(".") if mailbox.smtp else "").strip()
    if mailbox.provider is Provider.GMAIL or host in GOOGLE_SMTP_HOSTS:
        known: tuple[str, ...] = GOOGLE_SELECTORS
    elif mailbox.provider is Provider.OUTLOOK or host in MICROSOFT_SMTP_HOSTS:
        known = MICROSOFT_SELECTORS
    elif mailbox.provider is Provider.SES:
        known = ()  # Easy DKIM's tokens are the account's: configure them as selectors
    else:
        known = COMMON_SELECTORS
    out: list[str] = []
    for selector in (*mailbox.dkim_selectors, *known):
        if selector not in out:
            out.append(selector)
    return out


# --- DMARC --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dmarc:
    policy: str | None  # none | quarantine | reject (None: invalid)
    subdomain_policy: str | None
    adkim: str  # r | s
    aspf: str  # r | s
    pct: int
    rua: tuple[str, ...]
    errors: tuple[str, ...] = ()


_POLICIES = ("none", "quarantine", "reject")


def is_dmarc(text: str) -> bool:
    return text.strip().lower().replace(" ", "").startswith("v=dmarc1")


def parse_dmarc(text: str) -> Dmarc:
    tags = parse_tags(text)
    errors: list[str] = []
    if text.strip().split(";", 1)[0].replace(" ", "").lower() != "v=dmarc1":
        errors.append("v=DMARC1 must come first")
    policy = tags.get("p", "").lower() or None
    if policy not in _POLICIES:
        errors.append("p= is missing or not none/quarantine/reject")
        policy = None
    sp = tags.get("sp", "").lower() or None
    if sp is not None and sp not in _POLICIES:
        errors.append("sp= is not none/quarantine/reject")
        sp = None
    adkim = tags.get("adkim", "r").lower()
    aspf = tags.get("aspf", "r").lower()
    for name, value in (("adkim", adkim), ("aspf", aspf)):
        if value not in ("r", "s"):
            errors.append(f"{name}= is not r or s")
    try:
        pct = int(tags.get("pct", "100"))
    except ValueError:
        errors.append("pct= is not a number")
        pct = 100
    rua = tuple(u for u in tags.get("rua", "").split(",") if u)
    return Dmarc(
        policy,
        sp,
        adkim if adkim in ("r", "s") else "r",
        aspf if aspf in ("r", "s") else "r",
        max(0, min(100, pct)),
        rua,
        tuple(errors),
    )


def organizational_domain(domain: str) -> str:
    """Best effort without the public suffix list: the last two labels (three under a
    two-letter second level such as ``co.uk``)."""
    labels = domain.lower().rstrip(".").split(".")
    if (
        len(labels) >= 3
        and len(labels[-1]) == 2
        and labels[-2] in ("co", "com", "org", "net", "ac", "gov")
    ):
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def aligned(a: str, b: str, mode: str) -> bool:
    """Identifier alignment (RFC 7489 3.1): strict is equal, relaxed shares the
    organizational domain."""
    a, b = a.lower().rstrip("."), b.lower().rstrip(".")
    if mode == "s":
        return a == b
    return organizational_domain(a) == organizational_domain(b)


# --- the whole check ----------------------------------------------------------------------


@dataclass(frozen=True)
class Lookups:
    """What one check read from DNS (the service fills it)."""

    spf: Answer
    spf_tree: SpfTree | None
    spf_count: int
    dkim: dict[str, Answer]
    dmarc: Answer
    dmarc_domain: str
    mx: Answer
    smtp_addresses: tuple[str, ...] = ()
    mx_hosts: tuple[str, ...] = ()


def _provider_spf(mailbox: Mailbox) -> str | None:
    host = (mailbox.smtp.host.lower().rstrip(".") if mailbox.smtp else "").strip()
    if mailbox.provider is Provider.GMAIL or host in GOOGLE_SMTP_HOSTS:
        return GOOGLE_SPF
    if mailbox.provider is Provider.OUTLOOK or host in MICROSOFT_SMTP_HOSTS:
        return MICROSOFT_SPF
    if mailbox.provider is Provider.SES:
        return SES_SPF
    return None


def _smtp_covered(mailbox: Mailbox, tree: SpfTree, found: Lookups) -> bool:
    """Best effort for an SMTP server of one's own: its address in an ``ip4``/``ip6``
    term, an ``mx`` term and the server is one of the domain's MX hosts, or an include
    under the server's own domain."""
    host = (mailbox.smtp.host.lower().rstrip(".") if mailbox.smtp else "").strip()
    if not host:
        return False
    if any(tree.addresses_covered(a) for a in (*found.smtp_addresses, host)):
        return True
    assert tree.record is not None
    if tree.record.mechanisms("mx") and host in found.mx_hosts:
        return True
    parent = organizational_domain(host)
    return any(i == parent or i.endswith("." + parent) for i in tree.includes)


def _spf(mailbox: Mailbox, found: Lookups, advice: list[dict[str, str]]) -> dict[str, Any]:
    answer, tree = found.spf, found.spf_tree
    if answer.failed:
        advice.append(_advice("spf_unreadable", "SPF could not be read from DNS; try again later."))
        return {"status": answer.failure, "record": None}
    if found.spf_count == 0:
        advice.append(
            _advice(
                "spf_missing",
                f"Publish an SPF record (TXT at {mailbox.domain}) that authorises your provider"
                + (f', e.g. "v=spf1 include:{p} ~all".' if (p := _provider_spf(mailbox)) else "."),
            )
        )
        return {"status": "missing", "record": None}
    if tree is None or tree.record is None:
        advice.append(
            _advice(
                "spf_multiple",
                "More than one SPF record: receivers treat this as an error; merge them into one.",
            )
        )
        spf_records = [r for r in answer.records if is_spf(r)]
        return {"status": "multiple_records", "record": spf_records[0] if spf_records else None}
    record = tree.record
    statuses: list[str] = []
    if record.errors:
        statuses.append("invalid")
        advice.append(
            _advice("spf_invalid", f"SPF terms that do not parse: {', '.join(record.errors)}.")
        )
    if record.all_qualifier in ("+", "?"):
        statuses.append("too_permissive")
        advice.append(
            _advice(
                "spf_too_permissive",
                f'"{record.all_qualifier}all" lets anyone send as your domain; end the record '
                'with "~all" or "-all".',
            )
        )
    if tree.lookups > MAX_SPF_LOOKUPS:
        statuses.append("too_many_lookups")
        advice.append(
            _advice(
                "spf_too_many_lookups",
                f"SPF needs more than {MAX_SPF_LOOKUPS} DNS lookups; receivers fail it "
                "(permerror). Flatten includes.",
            )
        )
    wanted = _provider_spf(mailbox)
    if wanted is not None:
        if wanted not in tree.includes and tree.failed:
            # An include could not be read: the provider may be in it.
            statuses.append(tree.failed)
        elif wanted not in tree.includes:
            statuses.append("not_authorized")
            advice.append(
                _advice("spf_provider_missing", f"Add include:{wanted} to your SPF record.")
            )
    elif not _smtp_covered(mailbox, tree, found):
        statuses.append("unverified")
        advice.append(
            _advice(
                "spf_unverified",
                "Check that your SPF record authorises your SMTP server's address.",
            )
        )
    order = (
        "invalid",
        "too_permissive",
        "too_many_lookups",
        "not_authorized",
        "dns_error",
        "timeout",
        "unverified",
    )
    status = next((s for s in order if s in statuses), "ok")
    return {"status": status, "record": tree.raw, "lookups": tree.lookups}


def _dkim(mailbox: Mailbox, found: Lookups, advice: list[dict[str, str]]) -> dict[str, Any]:
    selectors = []
    for selector, answer in found.dkim.items():
        status = answer.failure if answer.failed else dkim_key_status(answer.records)
        selectors.append({"selector": selector, "status": status})
    statuses = {s["status"] for s in selectors}
    if "found" in statuses:
        status = "ok"
    elif "revoked" in statuses:
        status = "revoked"
    elif statuses & {"dns_error", "timeout"}:
        status = "timeout" if "timeout" in statuses else "dns_error"
    else:
        status = "missing"
    if status != "ok":
        names = ", ".join(s["selector"] for s in selectors) or "none known"
        hint = (
            "Turn on Easy DKIM for the domain in SES and add its tokens as the mailbox's "
            "dkim_selectors."
            if mailbox.provider is Provider.SES
            else "Turn on DKIM signing with your provider and publish its key; if it uses "
            "another selector, add it to the mailbox's dkim_selectors."
        )
        advice.append(
            _advice("dkim_missing", f"No DKIM key found (selectors probed: {names}). {hint}")
        )
    return {"status": status, "selectors": selectors}


def _dmarc(
    found: Lookups, domain: str, advice: list[dict[str, str]]
) -> tuple[dict[str, Any], Dmarc | None]:
    answer = found.dmarc
    if answer.failed:
        return {"status": answer.failure, "policy": None, "record": None}, None
    records = [r for r in answer.records if is_dmarc(r)]
    if not records:
        advice.append(
            _advice(
                "dmarc_missing",
                f"Publish a DMARC record (TXT at _dmarc.{domain}), e.g. "
                f'"v=DMARC1; p=none; rua=mailto:dmarc@{domain}", then move to p=quarantine.',
            )
        )
        return {"status": "missing", "policy": None, "record": None}, None
    if len(records) > 1:
        advice.append(
            _advice("dmarc_invalid", "More than one DMARC record: receivers ignore them all.")
        )
        return {"status": "invalid", "policy": None, "record": records[0]}, None
    parsed = parse_dmarc(records[0])
    inherited = found.dmarc_domain != domain
    policy = (parsed.subdomain_policy or parsed.policy) if inherited else parsed.policy
    view: dict[str, Any] = {
        "policy": policy,
        "record": records[0],
        "found_at": f"_dmarc.{found.dmarc_domain}",
        "adkim": parsed.adkim,
        "aspf": parsed.aspf,
        "pct": parsed.pct,
        "rua": list(parsed.rua),
    }
    if parsed.errors or policy is None:
        advice.append(
            _advice("dmarc_invalid", f"DMARC record problems: {'; '.join(parsed.errors)}.")
        )
        return {"status": "invalid", **view}, parsed
    if policy == "none":
        advice.append(
            _advice(
                "dmarc_monitoring",
                "DMARC is p=none (monitoring only); once reports show your mail aligned, "
                "move to p=quarantine.",
            )
        )
        return {"status": "monitoring", **view}, parsed
    if not parsed.rua:
        advice.append(
            _advice("dmarc_no_reports", "Add rua=mailto:... to receive DMARC aggregate reports.")
        )
    return {"status": "ok", **view}, parsed


def _envelope_domain(mailbox: Mailbox) -> str | None:
    """The domain SPF is checked against (the envelope sender): the mailbox's own for
    Gmail, Outlook and SMTP; for SES Amazon's own unless a custom MAIL FROM is set up
    (which this check cannot see), so SES relies on DKIM."""
    return None if mailbox.provider is Provider.SES else mailbox.domain


def _advice(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def evaluate(mailbox: Mailbox, found: Lookups) -> dict[str, Any]:
    """The authentication view of one mailbox from what DNS said."""
    domain = mailbox.domain
    advice: list[dict[str, str]] = []
    spf = _spf(mailbox, found, advice)
    dkim = _dkim(mailbox, found, advice)
    dmarc, parsed = _dmarc(found, domain, advice)
    if found.mx.failed:
        mx: dict[str, Any] = {"status": found.mx.failure, "hosts": []}
    elif not found.mx.records:
        mx = {"status": "missing", "hosts": []}
        advice.append(
            _advice(
                "mx_missing", f"{domain} has no MX record: bounces and replies cannot reach it."
            )
        )
    else:
        hosts = [r.split(" ", 1) for r in found.mx.records]
        mx = {
            "status": "ok",
            "hosts": sorted(
                ({"preference": int(p), "host": h} for p, h in hosts if p.isdigit()),
                key=lambda h: (h["preference"], h["host"]),
            ),
        }
    aspf = parsed.aspf if parsed else "r"
    # The keys probed are the From domain's own (d= equals it): aligned in either mode.
    dkim_aligned = dkim["status"] == "ok"
    envelope = _envelope_domain(mailbox)
    # SPF passes (``unverified``: not shown to fail) for an envelope sender in the domain.
    spf_aligned = (
        spf["status"] in ("ok", "unverified", "too_permissive")
        and envelope is not None
        and aligned(envelope, domain, aspf)
    )
    dmarc["aligned"] = dkim_aligned or spf_aligned
    dmarc["alignment"] = {"dkim": dkim_aligned, "spf": spf_aligned}
    if not dmarc["aligned"] and dmarc["status"] not in ("dns_error", "timeout"):
        advice.append(
            _advice(
                "dmarc_not_aligned",
                "Mail from this mailbox would fail DMARC: neither an aligned DKIM signature "
                "nor aligned SPF was found.",
            )
        )
    if domain in CONSUMER_DOMAINS:
        advice.insert(
            0,
            _advice(
                "consumer_domain",
                f"{domain} belongs to its mail provider, which publishes its SPF, DKIM and "
                "DMARC: nothing here is yours to change. Bulk mail needs a domain of your own.",
            ),
        )
    return {"domain": domain, "spf": spf, "dkim": dkim, "dmarc": dmarc, "mx": mx, "advice": advice}
