"""Host names and addresses the product may connect to (its guard against SSRF).

Pure logic, no sockets: :func:`check_host` says whether a string is a host at all (an
RFC 1123 name, IDNA allowed, or an IP literal) and :func:`classify` says which kind of
address an IP is. An address in any :class:`Range` is refused unless the deployment allows
private hosts; cloud metadata endpoints are refused always. ``providers/egress.py`` applies
this to every address a name resolves to, at connect time."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_HOST_LENGTH = 253
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class Range(StrEnum):
    """Why an address (or a name) is not a public host."""

    METADATA = "cloud metadata"
    LOOPBACK = "loopback"
    PRIVATE = "private"
    LINK_LOCAL = "link-local"
    UNIQUE_LOCAL = "unique-local"
    UNSPECIFIED = "unspecified"
    MULTICAST = "multicast"
    RESERVED = "reserved"


class InvalidHost(ValueError):
    """Not a host name nor an IP literal."""


# Cloud instance metadata services: AWS (IPv4 and the Nitro IPv6 endpoint), GCP, Azure
# (169.254.169.254 too), Alibaba, Oracle.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.internal",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def parse_ip(value: str) -> IPAddress | None:
    """The address when ``value`` is an IP literal (IPv6 optionally in brackets)."""
    text = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    if "%" in text:  # a zone index is not a host
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def check_host(value: str) -> str:
    """The host in canonical form (lower-case ASCII name, or the compressed IP literal).

    Raises :class:`InvalidHost` for anything else: URLs, ports, spaces, control
    characters, empty or over-long names, labels over 63 characters, an all-numeric last
    label (``127.1`` is an address in disguise)."""
    if not isinstance(value, str) or not value:
        raise InvalidHost("empty host")
    if len(value) > MAX_HOST_LENGTH + 2:
        raise InvalidHost("host too long")
    address = parse_ip(value)
    if address is not None:
        return str(address)
    name = value[:-1] if value.endswith(".") else value
    if not name or any(c.isspace() or not c.isprintable() for c in name):
        raise InvalidHost("host contains spaces or control characters")
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidHost("not a valid internationalised host name") from exc
    name = name.lower()
    if len(name) > MAX_HOST_LENGTH:
        raise InvalidHost("host too long")
    labels = name.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise InvalidHost("not a host name (letters, digits, hyphens and dots only)")
    if labels[-1].isdigit():
        raise InvalidHost("not a host name (all-numeric last label)")
    return name


def classify(address: IPAddress) -> Range | None:
    """Which non-public range ``address`` is in; None for a public address. IPv6 forms
    that carry an IPv4 address (mapped, NAT64, 6to4) are judged by that address."""
    if address in METADATA_ADDRESSES:
        return Range.METADATA
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_v4(address)
        if embedded is not None:
            return classify(embedded)
        if address in _UNIQUE_LOCAL:
            return Range.UNIQUE_LOCAL
    if address.is_unspecified:
        return Range.UNSPECIFIED
    if address.is_loopback:
        return Range.LOOPBACK
    if address.is_link_local:
        return Range.LINK_LOCAL
    if address.is_multicast:
        return Range.MULTICAST
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return Range.PRIVATE
    if address.is_private:
        return Range.PRIVATE
    if address.is_reserved or not address.is_global:
        return Range.RESERVED
    return None


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def classify_name(host: str) -> Range | None:
    """What a name says about itself before it is resolved: ``localhost`` (RFC 6761) is
    loopback, the metadata services' names are metadata; None otherwise. ``host`` is the
    canonical form from :func:`check_host`."""
    address = parse_ip(host)
    if address is not None:
        return classify(address)
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return Range.LOOPBACK
    if name in METADATA_NAMES:
        return Range.METADATA
    return None


def refused(kind: Range | None, *, allow_private: bool) -> bool:
    """Whether a host of this kind may not be connected to. Metadata endpoints never are,
    even where private hosts are allowed (the local stack, a private relay)."""
    if kind is None:
        return False
    return kind is Range.METADATA or not allow_private
