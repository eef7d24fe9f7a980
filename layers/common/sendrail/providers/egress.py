"""Every outbound connection the product makes goes through here (SMTP servers, SNS
certificate and subscription URLs; webhook targets later).

The host is checked (:mod:`sendrail.domain.hosts`), resolved once, and refused when ANY
address it resolves to is loopback, private, link-local, unique-local, unspecified,
multicast/reserved or a cloud metadata endpoint (unless the deployment allows private
hosts; metadata never). The connection then goes to one of those checked addresses — the
name is never resolved a second time, so DNS rebinding cannot swap in another address
between the check and the connect. TLS still verifies the certificate against the name
(SNI and hostname check use the name, not the address). SMTP's guarded connections are in
``providers.smtp`` (so that importing this module never loads smtplib)."""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult

from sendrail.domain import hosts

Resolver = Callable[..., Sequence[tuple[Any, ...]]]


class EgressRefused(ValueError):
    """The host may not be connected to. ``kind`` says which range it is in; the message
    never carries the resolved address (it would tell a tenant about our network)."""

    def __init__(self, host: str, kind: hosts.Range | None, reason: str) -> None:
        super().__init__(reason)
        self.host = host
        self.kind = kind


@dataclass(frozen=True)
class EgressPolicy:
    allow_private: bool = False
    resolve: Resolver = field(default=socket.getaddrinfo)


def check(host: str, policy: EgressPolicy) -> str:
    """The canonical host, or :class:`EgressRefused` when its syntax is wrong or it names
    a forbidden range by itself (an address literal, ``localhost``, a metadata name).
    What the caller can know before resolving (save-time checks use this)."""
    try:
        canonical = hosts.check_host(host)
    except hosts.InvalidHost as exc:
        raise EgressRefused(host, None, f"invalid host: {exc}") from None
    kind = hosts.classify_name(canonical)
    if hosts.refused(kind, allow_private=policy.allow_private):
        raise EgressRefused(canonical, kind, f"host refused: {kind} address")
    return canonical


def resolve(host: str, port: int, policy: EgressPolicy) -> list[tuple[Any, ...]]:
    """The checked socket addresses ``(family, sockaddr)`` for ``host``; raises
    :class:`EgressRefused` if any of them is forbidden, ``OSError`` if it cannot be
    resolved."""
    canonical = check(host, policy)
    literal = hosts.parse_ip(canonical)
    flags = socket.AI_NUMERICHOST if literal is not None else 0
    infos = policy.resolve(canonical, port, 0, socket.SOCK_STREAM, 0, flags)
    targets: list[tuple[Any, ...]] = []
    for family, _, _, _, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = hosts.parse_ip(str(sockaddr[0]).split("%", 1)[0])
        kind = hosts.classify(address) if address is not None else hosts.Range.RESERVED
        if hosts.refused(kind, allow_private=policy.allow_private):
            raise EgressRefused(canonical, kind, f"host refused: it resolves to a {kind} address")
        targets.append((family, sockaddr))
    if not targets:
        raise socket.gaierror(socket.EAI_NONAME, "no address for the host")
    return targets


def connect(
    host: str,
    port: int,
    timeout: float | None,
    policy: EgressPolicy,
    source_address: Any = None,
) -> socket.socket:
    """A TCP connection to one of ``host``'s checked addresses (pinned: resolved once)."""
    error: OSError | None = None
    for family, sockaddr in resolve(host, port, policy):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError("no address to connect to")


# --- HTTP(S) ----------------------------------------------------------------------------------


MAX_BODY = 256 * 1024


def http_get(
    url: SplitResult,
    policy: EgressPolicy,
    *,
    timeout: float = 5.0,
    context: ssl.SSLContext | None = None,
    max_body: int = MAX_BODY,
) -> bytes:
    """GET an already-vetted URL through the guard (no proxies, no redirects); the body
    of a 200 answer, at most ``max_body`` bytes. ``OSError`` when it cannot be fetched."""
    conn = _connection(url, policy, timeout, context)
    try:
        conn.request("GET", _target(url), headers={"Accept": "*/*"})
        response = conn.getresponse()
        if response.status != 200:
            raise OSError(f"HTTP {response.status}")
        body = response.read(max_body + 1)
        if len(body) > max_body:
            raise OSError("response too large")
        return bytes(body)
    except http.client.HTTPException as exc:
        raise OSError(f"HTTP error: {type(exc).__name__}") from None
    finally:
        conn.close()


def _connection(
    url: SplitResult, policy: EgressPolicy, timeout: float, context: ssl.SSLContext | None
) -> http.client.HTTPConnection:
    """An HTTP(S) connection whose socket comes from :func:`connect` (checked, pinned)."""
    host = url.hostname or ""
    conn: http.client.HTTPConnection
    if url.scheme == "https":
        conn = http.client.HTTPSConnection(
            host, url.port, timeout=timeout, context=context or ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(host, url.port, timeout=timeout)
    conn._create_connection = lambda address, timeout=None, source=None: connect(  # type: ignore[attr-defined]
        address[0], address[1], timeout, policy, source
    )
    return conn


def _target(url: SplitResult) -> str:
    path = url.path or "/"
    return f"{path}?{url.query}" if url.query else path


def http_post(
    url: SplitResult,
    body: bytes,
    headers: dict[str, str],
    policy: EgressPolicy,
    *,
    timeout: float = 10.0,
    context: ssl.SSLContext | None = None,
) -> int:
    """POST ``body`` to an already-vetted URL through the guard (no proxies, no redirects
    followed); the answer's status code (its body is read, at most 4 KiB, and dropped).
    ``OSError`` when no HTTP answer came (refused, unreachable, timed out)."""
    conn = _connection(url, policy, timeout, context)
    try:
        conn.request("POST", _target(url), body=body, headers=headers)
        response = conn.getresponse()
        response.read(4096)
        return int(response.status)
    except http.client.HTTPException as exc:
        raise OSError(f"HTTP error: {type(exc).__name__}") from None
    finally:
        conn.close()
