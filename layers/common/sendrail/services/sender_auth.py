"""``GET /api/mailboxes/{id}/authentication``: SPF, DKIM, DMARC and MX of a mailbox's domain
read from DNS (``domain.sender_auth`` judges them), cached per mailbox in DynamoDB
(``storage.sender_auth``) for ``ttl_seconds`` on the injectable clock, so a deployment asks
DNS at most once an hour per mailbox however often the page is read (a failed lookup is
kept a shorter while). ``/api/queue/servers`` shows the cached DMARC alignment
(:func:`flags`) and never asks DNS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sendrail.clock import to_rfc3339
from sendrail.domain import sender_auth
from sendrail.domain.models import Mailbox
from sendrail.domain.sender_auth import Answer, Lookups
from sendrail.services.deps import Deps

DEFAULT_TTL_SECONDS = 3600
FAILED_TTL_SECONDS = 300  # a check some lookup of which failed is tried again sooner


class DnsLookup(Protocol):
    """The lookups one check makes (``providers.dns_lookup.DnsLookup`` in production)."""

    def txt(self, name: str) -> Answer: ...

    def mx(self, name: str) -> Answer: ...

    def addresses(self, name: str) -> Answer: ...


def lookups(mailbox: Mailbox, dns: DnsLookup) -> Lookups:
    """Everything the check needs from DNS, asked once each."""
    domain = mailbox.domain
    spf, tree, count = sender_auth.walk_spf(domain, dns.txt)
    dkim = {s: dns.txt(f"{s}._domainkey.{domain}") for s in sender_auth.selectors_for(mailbox)}
    dmarc_domain = domain
    dmarc = dns.txt(f"_dmarc.{domain}")
    org = sender_auth.organizational_domain(domain)
    if (
        not dmarc.failed
        and not any(sender_auth.is_dmarc(r) for r in dmarc.records)
        and org != domain
    ):
        dmarc_domain, dmarc = org, dns.txt(f"_dmarc.{org}")
    mx = dns.mx(domain)
    mx_hosts = tuple(r.split(" ", 1)[-1] for r in mx.records)
    smtp_addresses: tuple[str, ...] = ()
    if mailbox.smtp is not None and tree is not None:
        got = dns.addresses(mailbox.smtp.host)
        smtp_addresses = got.records
    return Lookups(spf, tree, count, dkim, dmarc, dmarc_domain, mx, smtp_addresses, mx_hosts)


def _failed(result: dict[str, Any]) -> bool:
    parts = (result["spf"], result["dkim"], result["dmarc"], result["mx"])
    return any(p["status"] in ("dns_error", "timeout") for p in parts)


def check(
    deps: Deps,
    mailbox: Mailbox,
    dns: Callable[[], DnsLookup],
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
) -> dict[str, Any]:
    """The mailbox's authentication view: the cached one while fresh, else read from DNS
    (``dns()`` opens the lookups only then) and stored."""
    now = deps.clock.now()
    cached = deps.sender_auth.get(mailbox.tenant_id, mailbox.id)
    if cached is not None:
        result, checked_at = cached
        ttl = FAILED_TTL_SECONDS if _failed(result) else ttl_seconds
        if timedelta(0) <= now - checked_at < timedelta(seconds=min(ttl, ttl_seconds)):
            return _view(result, checked_at, cached=True)
    result = sender_auth.evaluate(mailbox, lookups(mailbox, dns()))
    deps.sender_auth.put(mailbox.tenant_id, mailbox.id, result, now)
    return _view(result, now, cached=False)


def _view(result: dict[str, Any], checked_at: datetime, *, cached: bool) -> dict[str, Any]:
    return {**result, "checked_at": to_rfc3339(checked_at), "cached": cached}


def flags(deps: Deps, tenant_id: str) -> dict[str, dict[str, Any]]:
    """Per mailbox id, what its last check said of DMARC, from the cache only."""
    out = {}
    for mailbox_id, (result, checked_at) in deps.sender_auth.all_for_tenant(tenant_id).items():
        dmarc = result.get("dmarc", {})
        out[mailbox_id] = {
            "dmarc_aligned": bool(dmarc.get("aligned")),
            "dmarc_status": dmarc.get("status"),
            "checked_at": to_rfc3339(checked_at),
        }
    return out
