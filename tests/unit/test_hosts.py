"""Host syntax and address ranges (the SSRF guard's pure part), and the guard's resolution
with an injected resolver (no sockets)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sendrail.domain import hosts
from sendrail.domain.hosts import Range
from sendrail.providers import egress
from sendrail.providers.egress import EgressPolicy, EgressRefused

# The hosts a probe of the local stack got accepted (issue 12, item 2).
FORBIDDEN = [
    "127.0.0.1",
    "169.254.169.254",
    "::1",
    "10.0.0.1",
    "fd00:ec2::254",
    "localhost",
    "0.0.0.0",
    "metadata.google.internal",
    "[::1]",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "100.64.0.1",
    "100.100.100.200",
    "172.16.5.4",
    "192.168.1.1",
    "fe80::1",
    "fc00::1",
    "::",
    "224.0.0.1",
    "ff02::1",
    "240.0.0.1",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:a00:1::",  # 6to4 of 10.0.0.1
    "mail.localhost",
]

BAD_SYNTAX = [
    "",
    "evil.com\r\nX",
    "evil.com\n",
    "http://evil.com",
    "evil.com:25",
    "evil .com",
    "evil.com/x",
    "user@evil.com",
    "-evil.com",
    "evil-.com",
    "a" * 64 + ".com",
    ("a" * 60 + ".") * 5 + "com",
    "127.1",
    "2130706433",
    "0x7f.1",
    "evil..com",
    "fe80::1%eth0",
    "\x00",
]


@pytest.mark.parametrize("host", FORBIDDEN)
def test_given_a_forbidden_host_then_refused_by_default_and_metadata_always(host: str) -> None:
    kind = hosts.classify_name(hosts.check_host(host))
    assert kind is not None
    assert hosts.refused(kind, allow_private=False)
    assert hosts.refused(kind, allow_private=True) == (kind is Range.METADATA)


def test_given_the_metadata_endpoints_then_they_are_metadata() -> None:
    for host in ("169.254.169.254", "fd00:ec2::254", "metadata.google.internal", "100.100.100.200"):
        assert hosts.classify_name(hosts.check_host(host)) is Range.METADATA


@pytest.mark.parametrize("host", BAD_SYNTAX)
def test_given_bad_host_syntax_then_invalid(host: str) -> None:
    with pytest.raises(hosts.InvalidHost):
        hosts.check_host(host)


@pytest.mark.parametrize(
    ("host", "canonical"),
    [
        ("Smtp.Example.COM", "smtp.example.com"),
        ("smtp.example.com.", "smtp.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("2001:DB8::1", "2001:db8::1"),
        ("[2606:4700::1]", "2606:4700::1"),
        ("8.8.8.8", "8.8.8.8"),
    ],
)
def test_given_good_hosts_then_canonical(host: str, canonical: str) -> None:
    assert hosts.check_host(host) == canonical


@pytest.mark.parametrize("host", ["smtp.gmail.com", "8.8.8.8", "2606:4700:4700::1111"])
def test_given_public_hosts_then_not_refused(host: str) -> None:
    assert hosts.classify_name(hosts.check_host(host)) is None


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_property_a_mapped_v4_address_is_judged_as_the_v4_address(value: int) -> None:
    v4 = ipaddress.IPv4Address(value)
    mapped = ipaddress.IPv6Address(f"::ffff:{v4}")
    assert hosts.classify(mapped) == hosts.classify(v4)


@given(
    st.sampled_from(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"]).flatmap(
        lambda net: st.integers(0, ipaddress.ip_network(net).num_addresses - 1).map(
            lambda i: ipaddress.ip_network(net)[i]
        )
    )
)
def test_property_every_private_v4_address_is_private(address: ipaddress.IPv4Address) -> None:
    assert hosts.classify(address) is Range.PRIVATE


@given(st.integers(0, 2**24 - 1))
def test_property_every_loopback_v4_address_is_loopback(offset: int) -> None:
    address = ipaddress.IPv4Address(int(ipaddress.IPv4Address("127.0.0.0")) + offset)
    assert hosts.classify(address) is Range.LOOPBACK


@given(st.integers(0, 2**121 - 1))
def test_property_every_unique_local_v6_address_is_refused(offset: int) -> None:
    address = ipaddress.IPv6Address(int(ipaddress.IPv6Address("fc00::")) + offset)
    assert hosts.classify(address) in (Range.UNIQUE_LOCAL, Range.METADATA)


@given(st.text(max_size=300))
def test_property_an_accepted_host_is_a_plain_name_or_an_address(text: str) -> None:
    try:
        host = hosts.check_host(text)
    except hosts.InvalidHost:
        return
    if hosts.parse_ip(host) is None:
        assert len(host) <= hosts.MAX_HOST_LENGTH
        assert set(host) <= set("abcdefghijklmnopqrstuvwxyz0123456789-.")
    assert not any(c in host for c in "\r\n\t /@?#")


@given(st.text(min_size=1, max_size=40), st.sampled_from(list("\r\n\t /@?#\x00")))
def test_property_control_characters_and_url_parts_are_never_a_host(text: str, bad: str) -> None:
    with pytest.raises(hosts.InvalidHost):
        hosts.check_host(f"{text}{bad}x.example")


# --- the guard's resolution (an injected resolver, no sockets) ------------------------------


def _resolver(*addresses: str) -> Any:
    calls: list[str] = []

    def resolve(host: str, port: int, *args: Any) -> list[tuple[Any, ...]]:
        calls.append(host)
        out = []
        for a in addresses:
            ip = ipaddress.ip_address(a)
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            sockaddr = (a, port, 0, 0) if ip.version == 6 else (a, port)
            out.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return out

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def test_given_a_name_resolving_to_any_private_address_then_refused() -> None:
    policy = EgressPolicy(resolve=_resolver("93.184.215.14", "10.1.2.3"))
    with pytest.raises(EgressRefused) as refused:
        egress.resolve("smtp.example.com", 25, policy)
    assert refused.value.kind is Range.PRIVATE
    assert "10.1.2.3" not in str(refused.value)  # never tells the tenant our addresses


def test_given_a_name_resolving_to_metadata_then_refused_even_where_private_is_allowed() -> None:
    policy = EgressPolicy(allow_private=True, resolve=_resolver("169.254.169.254"))
    with pytest.raises(EgressRefused):
        egress.resolve("smtp.example.com", 25, policy)


def test_given_a_name_resolving_to_a_mapped_private_v6_address_then_refused() -> None:
    policy = EgressPolicy(resolve=_resolver("::ffff:192.168.0.1"))
    with pytest.raises(EgressRefused):
        egress.resolve("smtp.example.com", 25, policy)


def test_given_public_addresses_then_they_are_the_targets() -> None:
    resolve = _resolver("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    targets = egress.resolve("smtp.example.com", 587, EgressPolicy(resolve=resolve))
    assert [t[1][0] for t in targets] == ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    assert resolve.calls == ["smtp.example.com"]


@pytest.mark.parametrize("host", ["evil.com\r\nX", "http://evil.com", "evil.com:25", ""])
def test_given_bad_syntax_then_the_guard_refuses_before_resolving(host: str) -> None:
    resolve = _resolver("93.184.215.14")
    with pytest.raises(EgressRefused):
        egress.resolve(host, 25, EgressPolicy(resolve=resolve))
    assert resolve.calls == []
