"""GET /api/mailboxes/{id}/authentication against a real DNS server on 127.0.0.1 (dnslib)
serving the zone below; never the internet. And the cached DMARC flag in /api/queue/servers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from sendrail.domain.models import Mailbox, MailboxStatus, Provider, SmtpSettings
from sendrail.services.deps import Deps

from tests.conftest import Api
from tests.fakes.dns_server import DnsServer

KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtest"
ZONE = [
    # pass.test: Google Workspace done right
    'pass.test. 300 IN TXT "v=spf1 include:_spf.google.com ~all"',
    'pass.test. 300 IN TXT "google-site-verification=abc"',
    "pass.test. 300 IN MX 1 aspmx.l.google.com.",
    "pass.test. 300 IN MX 5 alt1.aspmx.l.google.com.",
    f'google._domainkey.pass.test. 300 IN TXT "v=DKIM1; k=rsa; p={KEY}"',
    '_dmarc.pass.test. 300 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@pass.test"',
    '_spf.google.com. 300 IN TXT "v=spf1 include:_netblocks.google.com ~all"',
    '_netblocks.google.com. 300 IN TXT "v=spf1 ip4:35.190.247.0/24 ~all"',
    # nospf.test: no SPF, no DKIM, DMARC p=none
    'nospf.test. 300 IN TXT "hello"',
    "nospf.test. 300 IN MX 10 mx.nospf.test.",
    '_dmarc.nospf.test. 300 IN TXT "v=DMARC1; p=none"',
    # open.test: +all, no DMARC
    'open.test. 300 IN TXT "v=spf1 +all"',
    "open.test. 300 IN MX 10 mx.open.test.",
    # ms.test: Microsoft 365, DKIM CNAMEs to the tenant's keys, DMARC quarantine
    'ms.test. 300 IN TXT "v=spf1 include:spf.protection.outlook.com -all"',
    "ms.test. 300 IN MX 0 ms-test.mail.protection.outlook.com.",
    "selector1._domainkey.ms.test. 300 IN CNAME selector1-ms-test._domainkey.contoso.onmicrosoft.com.",  # noqa: E501
    f'selector1-ms-test._domainkey.contoso.onmicrosoft.com. 300 IN TXT "v=DKIM1; p={KEY}"',
    '_dmarc.ms.test. 300 IN TXT "v=DMARC1; p=quarantine; rua=mailto:d@ms.test"',
    'spf.protection.outlook.com. 300 IN TXT "v=spf1 ip4:40.92.0.0/15 -all"',
    # relay.test: its own SMTP server by address; a revoked DKIM key; DMARC on the parent
    'relay.test. 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"',
    "relay.test. 300 IN MX 10 mail.relay.test.",
    "mail.relay.test. 300 IN A 192.0.2.10",
    'default._domainkey.relay.test. 300 IN TXT "v=DKIM1; p="',
    # auth.example: an SES domain (API-created mailboxes need a non-reserved name)
    f'google._domainkey.auth.example. 300 IN TXT "v=DKIM1; p={KEY}"',
    # two SPF records
    'twice.test. 300 IN TXT "v=spf1 include:_spf.google.com ~all"',
    'twice.test. 300 IN TXT "v=spf1 -all"',
]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch, aws: Any) -> Iterator[DnsServer]:
    """Given the zone served on 127.0.0.1 and the API pointed at it."""
    from functions.enqueue import wiring

    server = DnsServer(ZONE, servfail=["broken.test"], silent=["slow.test"]).start()
    monkeypatch.setenv("SENDRAIL_DNS_NAMESERVER", "127.0.0.1")
    monkeypatch.setenv("SENDRAIL_DNS_PORT", str(server.port))
    monkeypatch.setenv("SENDRAIL_DNS_TIMEOUT", "1.5")
    monkeypatch.setenv("SENDRAIL_DNS_BUDGET", "4")
    wiring.reset()
    yield server
    server.stop()
    wiring.reset()


def mailbox(deps: Deps, tenant_id: str, email: str, provider: Provider, **extra: Any) -> str:
    """A mailbox stored as the API would store it (no connection made to any provider)."""
    now = datetime.now(UTC)
    box = Mailbox(
        id=f"mbx_{email.replace('@', '_').replace('.', '_')}",
        tenant_id=tenant_id,
        provider=provider,
        email=email,
        status=MailboxStatus.ACTIVE,
        created_at=now,
        updated_at=now,
        **extra,
    )
    deps.mailboxes.create(box)
    return box.id


def auth(api: Api, mailbox_id: str) -> dict[str, Any]:
    reply = api.get(f"/api/mailboxes/{mailbox_id}/authentication")
    assert reply.status == 200, reply.raw
    return dict(reply.body)


def codes(body: dict[str, Any]) -> set[str]:
    return {a["code"] for a in body["advice"]}


def test_given_a_domain_done_right_then_everything_passes(api: Api, tenant, deps, dns):
    box = mailbox(deps, tenant["id"], "me@pass.test", Provider.GMAIL)
    body = auth(api, box)
    assert body["domain"] == "pass.test"
    assert body["spf"] == {
        "status": "ok",
        "record": "v=spf1 include:_spf.google.com ~all",
        "lookups": 2,
    }
    assert body["dkim"] == {
        "status": "ok",
        "selectors": [{"selector": "google", "status": "found"}],
    }
    assert body["dmarc"]["status"] == "ok" and body["dmarc"]["policy"] == "reject"
    assert body["dmarc"]["aligned"] is True
    assert body["dmarc"]["alignment"] == {"dkim": True, "spf": True}
    assert body["mx"] == {
        "status": "ok",
        "hosts": [
            {"preference": 1, "host": "aspmx.l.google.com"},
            {"preference": 5, "host": "alt1.aspmx.l.google.com"},
        ],
    }
    assert body["advice"] == [] and body["cached"] is False


def test_given_no_spf_no_dkim_and_p_none_then_each_says_so_with_advice(api: Api, tenant, deps, dns):
    box = mailbox(deps, tenant["id"], "me@nospf.test", Provider.OUTLOOK)
    body = auth(api, box)
    assert body["spf"] == {"status": "missing", "record": None, "lookups": None}
    assert body["dkim"]["status"] == "missing"
    assert [s["selector"] for s in body["dkim"]["selectors"]] == ["selector1", "selector2"]
    assert body["dmarc"]["status"] == "monitoring" and body["dmarc"]["policy"] == "none"
    assert body["dmarc"]["aligned"] is False
    assert {"spf_missing", "dkim_missing", "dmarc_monitoring", "dmarc_not_aligned"} <= codes(body)
    spf_advice = next(a for a in body["advice"] if a["code"] == "spf_missing")
    assert "include:spf.protection.outlook.com" in spf_advice["message"]


def test_given_plus_all_and_no_dmarc_then_too_permissive_and_missing(api: Api, tenant, deps, dns):
    box = mailbox(deps, tenant["id"], "me@open.test", Provider.GMAIL)
    body = auth(api, box)
    assert body["spf"]["status"] == "too_permissive"
    assert body["dmarc"]["status"] == "missing" and body["dmarc"]["policy"] is None
    assert {"spf_too_permissive", "spf_provider_missing", "dmarc_missing"} <= codes(body)


def test_given_microsoft_365_then_dkim_found_through_the_selector_cname(
    api: Api, tenant, deps, dns
):
    box = mailbox(deps, tenant["id"], "me@ms.test", Provider.OUTLOOK)
    body = auth(api, box)
    assert body["spf"]["status"] == "ok"
    assert body["dkim"]["selectors"] == [
        {"selector": "selector1", "status": "found"},
        {"selector": "selector2", "status": "missing"},
    ]
    assert body["dkim"]["status"] == "ok"
    assert body["dmarc"]["status"] == "ok" and body["dmarc"]["policy"] == "quarantine"


def test_given_an_own_smtp_server_then_its_address_and_configured_selectors_are_checked(
    api: Api, tenant, deps, dns
):
    smtp = SmtpSettings(host="mail.relay.test", port=587)
    box = mailbox(
        deps, tenant["id"], "me@relay.test", Provider.SMTP, smtp=smtp, dkim_selectors=["sel9"]
    )
    body = auth(api, box)
    assert body["spf"]["status"] == "ok"  # ip4:192.0.2.10 is mail.relay.test's address
    assert body["dkim"]["selectors"][0] == {"selector": "sel9", "status": "missing"}
    assert {"selector": "default", "status": "revoked"} in body["dkim"]["selectors"]
    assert body["dkim"]["status"] == "revoked"
    # SPF aligned (the envelope sender is the mailbox's own address), DMARC record missing
    assert body["dmarc"]["alignment"] == {"dkim": False, "spf": True}
    assert body["dmarc"]["status"] == "missing"


def test_given_two_spf_records_then_multiple_records(api: Api, tenant, deps, dns):
    box = mailbox(deps, tenant["id"], "me@twice.test", Provider.GMAIL)
    assert auth(api, box)["spf"]["status"] == "multiple_records"


def test_given_servfail_and_silence_then_statuses_not_errors(
    api: Api, tenant, deps, dns, caplog: pytest.LogCaptureFixture
):
    # With INFO logged (a failed lookup is logged at INFO, as it is in AWS)
    caplog.set_level(logging.INFO, logger="sendrail.dns")
    broken = mailbox(deps, tenant["id"], "me@broken.test", Provider.GMAIL)
    body = auth(api, broken)
    assert body["spf"]["status"] == "dns_error"
    assert body["dkim"]["status"] == "dns_error"
    assert body["dmarc"]["status"] == "dns_error"
    assert body["mx"]["status"] == "dns_error"
    slow = mailbox(deps, tenant["id"], "me@slow.test", Provider.GMAIL)
    body = auth(api, slow)
    assert (body["spf"]["status"], body["dkim"]["status"]) == ("timeout", "timeout")
    assert (body["dmarc"]["status"], body["mx"]["status"]) == ("timeout", "timeout")
    assert any(r.getMessage() == "DNS lookup failed" for r in caplog.records)


def test_given_a_check_then_it_is_cached_and_queue_servers_flag_it_without_dns(
    api: Api, tenant, deps, dns
):
    with time_machine.travel("2026-11-20T08:00:00Z", tick=False) as clock:
        # Given a mailbox whose domain fails DMARC alignment, checked once
        bad = mailbox(deps, tenant["id"], "me@nospf.test", Provider.GMAIL)
        good = mailbox(deps, tenant["id"], "me@pass.test", Provider.GMAIL)
        servers = {s["id"]: s for s in api.get("/api/queue/servers").body["items"]}
        assert servers[bad]["authentication"] is None  # never checked: nothing asked
        assert dns.queries == []
        first = auth(api, bad)
        assert first["cached"] is False and first["dmarc"]["aligned"] is False
        asked = len(dns.queries)
        # When the zone is fixed and the check is read again within the hour
        fixed = [r for r in ZONE if not r.startswith("_dmarc.nospf.test.")]
        dns.set_zone([*fixed, '_dmarc.nospf.test. 300 IN TXT "v=DMARC1; p=reject"'])
        again = auth(api, bad)
        # Then the cache answers: DNS is not asked
        assert again["cached"] is True and again["dmarc"]["status"] == "monitoring"
        assert len(dns.queries) == asked
        # And the queue servers show the flag from the cache, without any DNS query
        servers = {s["id"]: s for s in api.get("/api/queue/servers").body["items"]}
        assert servers[bad]["authentication"] == {
            "dmarc_aligned": False,
            "dmarc_status": "monitoring",
            "checked_at": "2026-11-20T08:00:00Z",
        }
        assert servers[good]["authentication"] is None
        assert len(dns.queries) == asked
        # After an hour DNS is read again
        clock.shift(3601)
        fresh = auth(api, bad)
        assert fresh["cached"] is False and fresh["dmarc"]["status"] == "ok"
        assert len(dns.queries) > asked


def test_given_another_tenants_mailbox_or_bad_selectors_then_404_and_422(
    api: Api, tenant, deps, dns
):
    other = mailbox(deps, "someone-else", "me@pass.test", Provider.GMAIL)
    assert api.get(f"/api/mailboxes/{other}/authentication").status == 404
    created = api.post(
        "/api/mailboxes",
        {"provider": "ses", "email": "news@auth.example", "dkim_selectors": ["bad selector"]},
    )
    assert created.status == 422, created.raw
    assert created.body["error"]["details"][0]["field"].startswith("dkim_selectors")
    # Good selectors (SES Easy DKIM's tokens) are kept, changed by PATCH, and probed first
    created = api.post(
        "/api/mailboxes",
        {"provider": "ses", "email": "news@auth.example", "dkim_selectors": ["abc123tok"]},
    )
    assert created.status == 201, created.raw
    assert created.body["dkim_selectors"] == ["abc123tok"]
    box = created.body["id"]
    patched = api.patch(f"/api/mailboxes/{box}", {"dkim_selectors": ["google", "t2"]})
    assert patched.status == 200 and patched.body["dkim_selectors"] == ["google", "t2"]
    assert dns.queries == []
    selectors = auth(api, box)["dkim"]["selectors"]
    assert selectors == [
        {"selector": "google", "status": "found"},
        {"selector": "t2", "status": "missing"},
    ]
    cleared = api.patch(f"/api/mailboxes/{box}", {"dkim_selectors": None})
    assert cleared.body["dkim_selectors"] == []
