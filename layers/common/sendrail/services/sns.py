"""Amazon SNS message signatures (for SES notifications): the certificate must come from
SNS itself (an https URL on ``sns.<region>.amazonaws.com``), and the signature (SHA1 for
SignatureVersion 1, SHA256 for 2) must verify over the canonical string AWS documents."""

from __future__ import annotations

import base64
import re
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

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
    """Where certificates and subscription confirmations may come from."""

    host_pattern: str = AWS_HOSTS
    schemes: tuple[str, ...] = ("https",)
    topic_arns: tuple[str, ...] = ()  # empty: any topic
    fetch: Callable[[str], bytes] = field(default=lambda url: _get(url))

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return parts.scheme in self.schemes and re.match(self.host_pattern, host) is not None


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - allowlisted above
        return bytes(response.read())


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
        key = _certificate(policy.fetch(url)).public_key()
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
    policy.fetch(url)
