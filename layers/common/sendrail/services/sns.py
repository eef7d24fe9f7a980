"""Amazon SNS message signatures (for SES notifications): the certificate must come from
SNS itself (an https URL on ``sns.<region>.amazonaws.com``), and the signature (SHA1 for
SignatureVersion 1, SHA256 for 2) must verify over the canonical string AWS documents."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from sendrail.domain import hosts
from sendrail.providers import egress

if TYPE_CHECKING:
    from cryptography import x509

# cryptography's X.509 and RSA modules are imported when a notification arrives, not when
# the tracking function starts: its cold starts mostly serve pixels and clicks.

AWS_HOSTS = r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$"
_CONFIRMATION = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": _CONFIRMATION,
    "UnsubscribeConfirmation": _CONFIRMATION,
}


class SnsError(ValueError):
    pass


@dataclass(frozen=True)
class SnsPolicy:
    """Where certificates and subscription confirmations may come from. ``fetch`` gets a
    URL :meth:`vet` accepted; by default through the egress guard."""

    host_pattern: str = AWS_HOSTS
    schemes: tuple[str, ...] = ("https",)
    topic_arns: tuple[str, ...] = ()  # empty: any topic
    allow_private_hosts: bool = False
    fetch: Callable[[SplitResult, bool], bytes] | None = None

    def vet(self, url: str) -> SplitResult:
        """The URL split, or :class:`SnsError` unless it is plainly an SNS endpoint: no
        spaces or control characters, an allowed scheme, no user information, a host (and
        port, when the pattern names one) matching ``host_pattern`` in full, no fragment."""
        if not url or not url.isascii() or any(c <= " " or c == "\x7f" for c in url):
            raise SnsError("the URL has spaces or control characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise SnsError("the URL cannot be parsed") from exc
        if parts.scheme not in self.schemes:
            raise SnsError("the URL's scheme is not allowed")
        if "@" in parts.netloc or parts.username is not None or parts.fragment:
            raise SnsError("the URL has user information or a fragment")
        try:
            host = hosts.check_host(parts.hostname or "")
        except hosts.InvalidHost as exc:
            raise SnsError("the URL's host is not a host name") from exc
        if parts.netloc.lower() != (f"{host}:{port}" if port is not None else host):
            raise SnsError("the URL's authority is not plain")
        where = f"{host}:{port}" if port is not None else host
        if re.fullmatch(self.host_pattern, where) is None:
            raise SnsError("the URL does not point at SNS")
        return parts

    def allowed(self, url: str) -> bool:
        try:
            self.vet(url)
        except SnsError:
            return False
        return True

    def get(self, url: str) -> bytes:
        parts = self.vet(url)
        if self.fetch is not None:
            return self.fetch(parts, self.allow_private_hosts)
        return _get(parts, self.allow_private_hosts)


def _get(url: SplitResult, allow_private_hosts: bool) -> bytes:
    """Through the egress guard: the SNS host resolved once, checked, and pinned."""
    try:
        return egress.http_get(url, egress.EgressPolicy(allow_private=allow_private_hosts))
    except egress.EgressRefused as exc:
        raise SnsError(f"the URL's host is refused ({exc.kind or 'invalid'})") from None


@lru_cache(maxsize=16)
def _certificate(pem: bytes) -> x509.Certificate:
    from cryptography import x509  # noqa: PLC0415

    return x509.load_pem_x509_certificate(pem)


def canonical(message: Mapping[str, Any]) -> bytes:
    kind = message.get("Type")
    if kind not in _FIELDS:
        raise SnsError(f"unknown SNS message type {kind!r}")
    parts = []
    for name in _FIELDS[str(kind)]:
        if name in message and message[name] is not None:
            parts.append(f"{name}\n{message[name]}\n")
    return "".join(parts).encode()


def verify(message: Mapping[str, Any], policy: SnsPolicy) -> None:
    """Raise :class:`SnsError` unless ``message`` is a genuine SNS message."""
    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: PLC0415

    url = str(message.get("SigningCertURL", ""))
    if not policy.allowed(url):
        raise SnsError("the signing certificate does not come from SNS")
    if policy.topic_arns and message.get("TopicArn") not in policy.topic_arns:
        raise SnsError("unexpected topic")
    version = str(message.get("SignatureVersion", ""))
    algorithm: hashes.HashAlgorithm
    if version == "1":
        algorithm = hashes.SHA1()  # noqa: S303 - SNS SignatureVersion 1 is SHA1withRSA
    elif version == "2":
        algorithm = hashes.SHA256()
    else:
        raise SnsError("unknown signature version")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        key = _certificate(policy.get(url)).public_key()
    except (ValueError, OSError) as exc:
        raise SnsError("the signature or certificate cannot be read") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise SnsError("the certificate's key is not RSA")
    try:
        key.verify(signature, canonical(message), padding.PKCS1v15(), algorithm)
    except InvalidSignature as exc:
        raise SnsError("the signature does not verify") from exc


def confirm_subscription(message: Mapping[str, Any], policy: SnsPolicy) -> None:
    url = str(message.get("SubscribeURL", ""))
    if not policy.allowed(url):
        raise SnsError("the subscription URL does not point at SNS")
    policy.get(url)
