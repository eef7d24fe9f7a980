"""DNS lookups for the sender authentication check, with dnspython (imported on first use).

One resolver per configuration: the system's (``/etc/resolv.conf``) unless a nameserver is
configured (the tests point it at their own server on 127.0.0.1). Every query is bounded
by ``timeout`` seconds, and one check by ``budget`` seconds in all: once the budget is
spent the remaining lookups answer ``timeout`` without asking, so an unreachable resolver
costs one API call a few seconds, never API Gateway's 29. Failures become outcomes
(``nxdomain``, ``nodata``, ``servfail``, ``timeout``), never exceptions."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from sendrail.domain.sender_auth import Answer

log = logging.getLogger("sendrail.dns")


@dataclass(frozen=True)
class DnsConfig:
    nameserver: str | None = None  # None: the system resolver
    port: int = 53
    timeout: float = 2.0  # one query
    budget: float = 8.0  # one check, all its queries together


class DnsLookup:
    """The lookups of one check (its own time budget)."""

    def __init__(self, config: DnsConfig) -> None:

        self._config = config
        monotonic = _monotonic_resolver()
        if config.nameserver:
            resolver = monotonic(configure=False)
            resolver.nameservers = [config.nameserver]
            resolver.port = config.port
        else:
            resolver = monotonic()
        resolver.timeout = config.timeout
        resolver.lifetime = config.timeout
        resolver.cache = None  # the check's own cache is in DynamoDB
        self._resolver = resolver
        self._deadline = time.monotonic() + config.budget

    def txt(self, name: str) -> Answer:
        return self._ask(name, "TXT")

    def mx(self, name: str) -> Answer:
        return self._ask(name, "MX")

    def addresses(self, name: str) -> Answer:
        four = self._ask(name, "A")
        if four.failed:
            return four
        six = self._ask(name, "AAAA")
        records = four.records + (() if six.failed else six.records)
        return Answer("ok" if records else four.outcome, records)

    def _ask(self, name: str, rdtype: str) -> Answer:
        import dns.exception  # noqa: PLC0415
        import dns.resolver  # noqa: PLC0415

        left = self._deadline - time.monotonic()
        if left <= 0:
            return Answer("timeout")
        try:
            answer = self._resolver.resolve(
                name.rstrip(".") + ".", rdtype, lifetime=min(self._config.timeout, left)
            )
        except dns.resolver.NXDOMAIN:
            return Answer("nxdomain")
        except dns.resolver.NoAnswer:
            return Answer("nodata")
        except dns.exception.Timeout:
            return Answer("timeout")
        except (dns.resolver.NoNameservers, dns.resolver.YXDOMAIN, dns.exception.DNSException):
            log.info("DNS lookup failed", extra={"query": name, "type": rdtype}, exc_info=True)
            return Answer("servfail")
        return Answer("ok", tuple(_text(rdtype, r) for r in answer))


@cache
def _monotonic_resolver() -> Any:
    """dnspython's resolver, its lifetime measured on the monotonic clock. dnspython ends
    its retries by ``time.time()``; where that clock stands still (the local stack's
    virtual clock moves the process's time only when told) it would retry for ever."""
    import dns.resolver  # noqa: PLC0415

    class MonotonicResolver(dns.resolver.Resolver):
        _started = 0.0

        def resolve(self, *args: Any, **kwargs: Any) -> Any:
            self._started = time.monotonic()
            return super().resolve(*args, **kwargs)

        def _compute_timeout(
            self, start: float, lifetime: float | None = None, errors: Any = None
        ) -> float:
            lifetime = self.lifetime if lifetime is None else lifetime
            duration = time.monotonic() - self._started
            if duration >= lifetime:
                raise dns.resolver.LifetimeTimeout(timeout=duration, errors=errors or [])  # type: ignore[no-untyped-call]
            return min(lifetime - duration, self.timeout)

    return MonotonicResolver


def _text(rdtype: str, rdata: Any) -> str:
    if rdtype == "TXT":
        return b"".join(rdata.strings).decode("utf-8", "replace")
    if rdtype == "MX":
        return f"{rdata.preference} {str(rdata.exchange).rstrip('.').lower()}"
    return str(rdata)
