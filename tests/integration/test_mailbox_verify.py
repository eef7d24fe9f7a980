"""``POST /api/mailboxes/{id}/verify`` (issue 19, item 2): SMTP against real aiosmtpd
servers (connect, STARTTLS, AUTH, MAIL FROM then RSET, never a send), SES against moto,
Gmail and Outlook against the local provider fakes; run on create and on credential
changes, the outcome kept on the mailbox; details never carry secrets or remote text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import time_machine

from tests.conftest import _reset_function_caches, smtp_mailbox
from tests.fakes.smtp import ScriptedSmtp
from tests.integration.test_egress import SECRET, secret_server  # noqa: F401 - a fixture
from tests.integration.test_oauth_mailboxes import PROVIDERS, connect, fakes  # noqa: F401

START = "2026-11-23T08:00:00Z"
PASSWORD = "hunter2-very-secret-password"


def _authed(port: int, **extra: Any) -> dict[str, Any]:
    body = smtp_mailbox(port, **extra)
    body["smtp"].update(username="sender", password=PASSWORD)
    return body


@pytest.fixture
def auth_server() -> Iterator[ScriptedSmtp]:
    server = ScriptedSmtp(auth_ok=True).start()
    yield server
    server.stop()


@pytest.fixture
def refusing_auth_server() -> Iterator[ScriptedSmtp]:
    server = ScriptedSmtp(auth_ok=False).start()
    yield server
    server.stop()


def _steps(reply: Any) -> dict[str, tuple[bool, str]]:
    return {s["step"]: (s["ok"], s["detail"]) for s in reply.body["steps"]}


def test_given_a_good_password_then_every_step_passes_and_nothing_is_sent(api, tenant, auth_server):
    with time_machine.travel(START, tick=False):
        created = api.post("/api/mailboxes", _authed(auth_server.port))
        assert created.status == 201, created.raw
        # Then: the check ran on create and passed.
        assert created.body["last_verified_at"] == "2026-11-23T08:00:00Z"
        assert created.body["verify_error"] is None
        reply = api.post(f"/api/mailboxes/{created.body['id']}/verify")
    assert reply.status == 200, reply.raw
    assert reply.body["ok"] is True
    assert [s["step"] for s in reply.body["steps"]] == ["connect", "tls", "auth", "mail_from"]
    assert all(s["ok"] for s in reply.body["steps"])
    assert auth_server.delivered == [] and not auth_server.attempts  # never a RCPT nor DATA
    assert PASSWORD not in json.dumps(reply.body) + created.raw


def test_given_a_wrong_password_then_the_auth_step_fails_and_the_mailbox_still_exists(
    api, tenant, refusing_auth_server
):
    with time_machine.travel(START, tick=False):
        created = api.post("/api/mailboxes", _authed(refusing_auth_server.port))
        # Then: created anyway, and verify_error says why.
        assert created.status == 201, created.raw
        assert created.body["verify_error"].startswith("auth: authentication refused (535")
        reply = api.post(f"/api/mailboxes/{created.body['id']}/verify")
    assert reply.body["ok"] is False
    steps = _steps(reply)
    assert steps["connect"][0] is True
    assert steps["auth"][0] is False and "535" in steps["auth"][1]
    assert "mail_from" not in steps
    assert PASSWORD not in reply.raw


def test_given_starttls_required_but_not_offered_then_the_tls_step_fails(api, tenant, auth_server):
    body = _authed(auth_server.port)
    body["smtp"]["security"] = "starttls"
    with time_machine.travel(START, tick=False):
        created = api.post("/api/mailboxes", body)
        assert created.status == 201
        reply = api.post(f"/api/mailboxes/{created.body['id']}/verify")
    steps = _steps(reply)
    assert reply.body["ok"] is False
    assert steps["tls"] == (False, "the server does not offer STARTTLS")
    assert "auth" not in steps  # the password never went over a plain connection
    assert created.body["verify_error"] == "tls: the server does not offer STARTTLS"


def test_given_a_wrong_port_then_the_connect_step_fails(api, tenant):
    with time_machine.travel(START, tick=False):
        created = api.post("/api/mailboxes", smtp_mailbox(9))  # nothing listens there
        reply = api.post(f"/api/mailboxes/{created.body['id']}/verify")
    assert _steps(reply)["connect"] == (False, "connection failed (ConnectionRefusedError)")


def test_given_new_credentials_then_the_check_runs_again(
    api, tenant, refusing_auth_server, auth_server
):
    with time_machine.travel(START, tick=False) as clock:
        created = api.post("/api/mailboxes", _authed(refusing_auth_server.port)).body
        assert created["verify_error"] is not None
        clock.shift(60)
        fixed = api.patch(
            f"/api/mailboxes/{created['id']}",
            {"smtp": _authed(auth_server.port)["smtp"]},
        )
    assert fixed.status == 200, fixed.raw
    assert fixed.body["verify_error"] is None
    assert fixed.body["last_verified_at"] == "2026-11-23T08:01:00Z"


def test_given_replies_with_secrets_then_details_carry_only_codes(api, tenant, secret_server):  # noqa: F811
    with time_machine.travel(START, tick=False):
        created = api.post("/api/mailboxes", smtp_mailbox(secret_server, email="blocked@x.example"))
        reply = api.post(f"/api/mailboxes/{created.body['id']}/verify")
        mailbox = api.get(f"/api/mailboxes/{created.body['id']}")
    assert _steps(reply)["mail_from"] == (False, "sender refused by server: 553 5.7.1")
    for text in (reply.raw, created.raw, mailbox.raw):
        assert SECRET not in text


def test_given_the_default_deployment_then_verify_goes_through_the_guard(
    api, tenant, auth_server, monkeypatch
):
    with time_machine.travel(START, tick=False):
        created = api.post("/api/mailboxes", _authed(auth_server.port)).body
        monkeypatch.setenv("SENDRAIL_ALLOW_PRIVATE_HOSTS", "false")
        _reset_function_caches()
        reply = api.post(f"/api/mailboxes/{created['id']}/verify")
    assert _steps(reply)["connect"] == (False, "SMTP host refused: a loopback address")


def test_given_an_archived_or_foreign_mailbox_then_verify_is_refused(api, tenant, auth_server):
    created = api.post("/api/mailboxes", _authed(auth_server.port)).body
    assert api.post("/api/mailboxes/mbx_missing/verify").status == 404
    api.delete(f"/api/mailboxes/{created['id']}")
    assert api.post(f"/api/mailboxes/{created['id']}/verify").status == 409


def test_given_the_openapi_document_then_verify_is_documented(api, tenant):
    document = api.get("/openapi.json").body
    operation = document["paths"]["/api/mailboxes/{mailbox_id}/verify"]["post"]
    assert operation["summary"] == "Check that a mailbox can send, without sending"


# --- SES (moto) ------------------------------------------------------------------------------


def test_given_a_verified_ses_identity_then_verify_passes(api, tenant):
    boto3.client("ses", region_name="us-east-1").verify_email_identity(
        EmailAddress="news@ses.example"
    )
    created = api.post("/api/mailboxes", {"provider": "ses", "email": "news@ses.example"})
    assert created.status == 201, created.raw
    assert created.body["verify_error"] is None
    reply = api.post(f"/api/mailboxes/{created.body['id']}/verify")
    assert reply.body["ok"] is True
    assert [s["step"] for s in reply.body["steps"]] == ["identity", "sending"]


def test_given_a_verified_ses_domain_then_its_addresses_pass(api, tenant):
    boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="brand.example")
    created = api.post("/api/mailboxes", {"provider": "ses", "email": "hello@brand.example"})
    reply = api.post(f"/api/mailboxes/{created.body['id']}/verify")
    assert _steps(reply)["identity"] == (True, "brand.example is verified")


def test_given_an_unverified_ses_identity_then_the_identity_step_fails(api, tenant):
    created = api.post("/api/mailboxes", {"provider": "ses", "email": "news@nowhere.example"})
    assert created.status == 201
    assert created.body["verify_error"].startswith("identity: neither news@nowhere.example")
    reply = api.post(f"/api/mailboxes/{created.body['id']}/verify")
    assert reply.body["ok"] is False and list(_steps(reply)) == ["identity"]


# --- Gmail and Outlook (the local fakes) -----------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_given_a_connected_oauth_mailbox_then_token_and_profile_pass(
    api,
    tenant,
    fakes,  # noqa: F811
    provider,
):
    running, _ = fakes
    with time_machine.travel(START, tick=False):
        mailbox = connect(api, running, provider, f"sales@{provider}.example")
        # The consent gave credentials: the check ran then.
        after_consent = api.get(f"/api/mailboxes/{mailbox}").body
        assert after_consent["last_verified_at"] is not None
        assert after_consent["verify_error"] is None
        reply = api.post(f"/api/mailboxes/{mailbox}/verify")
    assert reply.body == {
        "ok": True,
        "steps": [
            {"step": "token", "ok": True, "detail": "access token valid"},
            {"step": "profile", "ok": True, "detail": "the grant is for this address"},
        ],
    }


@pytest.mark.parametrize("provider", PROVIDERS)
def test_given_an_expired_token_then_verify_refreshes_it(
    api,
    tenant,
    fakes,  # noqa: F811
    provider,
):
    running, _ = fakes
    with time_machine.travel(START, tick=False) as clock:
        mailbox = connect(api, running, provider, f"ops@{provider}.example")
        before = running.refreshes[provider]
        clock.shift(2 * 3600)  # the access token has expired
        reply = api.post(f"/api/mailboxes/{mailbox}/verify")
    assert reply.body["ok"] is True, reply.raw
    assert running.refreshes[provider] == before + 1
    assert running.expired_uses == 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_given_an_oauth_mailbox_waiting_for_consent_then_the_token_step_says_so(
    api,
    tenant,
    fakes,  # noqa: F811
    provider,
):
    created = api.post("/api/mailboxes", {"provider": provider, "email": f"x@{provider}.example"})
    reply = api.post(f"/api/mailboxes/{created.body['id']}/verify")
    assert reply.body["steps"] == [
        {"step": "token", "ok": False, "detail": "not connected yet: open the consent link"}
    ]
