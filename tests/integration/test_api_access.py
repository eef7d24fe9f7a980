"""Who may do what: the role matrix, tenant isolation, keys and logins."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from tests.conftest import Api, smtp_mailbox

# (method, path template, body) for each class of route; {c} a campaign, {m} a mailbox.
READS = [
    ("GET", "/api/campaigns", None),
    ("GET", "/api/campaigns/{c}", None),
    ("GET", "/api/campaigns/{c}/stats", None),
    ("GET", "/api/campaigns/{c}/recipients", None),
    ("GET", "/api/campaigns/{c}/estimate", None),
    ("GET", "/api/mailboxes", None),
    ("GET", "/api/mailboxes/{m}", None),
    ("GET", "/api/mailboxes/{m}/stats", None),
    ("GET", "/api/settings/sending", None),
    ("GET", "/api/domain-throttles", None),
    ("GET", "/api/suppressions", None),
    ("GET", "/api/queue/stats", None),
    ("GET", "/api/queue/servers", None),
    ("GET", "/api/queue/status", None),
]
WRITES = [
    ("POST", "/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}),
    ("PATCH", "/api/campaigns/{c}", {"name": "renamed"}),
    ("POST", "/api/campaigns/{c}/recipients", {"recipients": [{"email": "x@example.com"}]}),
    ("POST", "/api/mailboxes", {"provider": "ses", "email": "s@example.com"}),
    ("PATCH", "/api/mailboxes/{m}", {"daily_limit": 7}),
    ("POST", "/api/mailboxes/{m}/pause", None),
    ("PUT", "/api/settings/sending", {"max_per_hour": 100}),
    ("PUT", "/api/domain-throttles/gmail.com", {"max_per_hour": 5}),
    ("POST", "/api/suppressions", {"email": "gone@example.com"}),
    ("POST", "/api/queue/enqueue", {"to": "t@example.com", "subject": "s", "html": "<p>h</p>"}),
    ("POST", "/api/queue/retry-failed", {}),
]
OWNER_ONLY = [
    ("GET", "/api/keys", None),
    ("POST", "/api/keys", {"name": "ci", "role": "viewer"}),
]
ADMIN_ONLY = [
    ("GET", "/api/admin/tenants", None),
    ("GET", "/api/admin/stats", None),
    ("GET", "/api/admin/queue/status", None),
    ("POST", "/api/admin/tenants", {"name": "T", "owner_email": "o@example.com"}),
]


@pytest.fixture
def world(api: Api, tenant: dict[str, Any], admin: str) -> dict[str, Any]:
    keys = {"owner": api.token, "admin": admin}
    for role in ("sender", "viewer"):
        keys[role] = api.post("/api/keys", {"name": role, "role": role}).body["key"]
    campaign = api.post("/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}).body[
        "id"
    ]
    mailbox = api.post("/api/mailboxes", smtp_mailbox(2525)).body["id"]
    return {"keys": keys, "c": campaign, "m": mailbox}


def _call(api: Api, world: dict[str, Any], role: str, method: str, path: str, body: Any) -> int:
    return api.call(
        method, path.format(c=world["c"], m=world["m"]), body, token=world["keys"][role]
    ).status


@pytest.mark.parametrize(("method", "path", "body"), READS)
def test_given_each_role_then_reads_are_open_to_tenant_roles_only(api, world, method, path, body):
    for role in ("owner", "sender", "viewer"):
        assert _call(api, world, role, method, path, body) == 200, (role, path)
    assert _call(api, world, "admin", method, path, body) == 403


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_given_each_role_then_writes_are_for_owners_and_senders(api, world, method, path, body):
    assert _call(api, world, "viewer", method, path, body) == 403
    assert _call(api, world, "admin", method, path, body) == 403
    for role in ("sender", "owner"):
        assert _call(api, world, role, method, path, body) in (200, 201, 202), (role, path)


@pytest.mark.parametrize(("method", "path", "body"), OWNER_ONLY)
def test_given_each_role_then_keys_are_for_owners(api, world, method, path, body):
    for role in ("sender", "viewer", "admin"):
        assert _call(api, world, role, method, path, body) == 403, role
    assert _call(api, world, "owner", method, path, body) in (200, 201)


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ONLY)
def test_given_each_role_then_tenants_are_for_the_platform_admin(api, world, method, path, body):
    for role in ("owner", "sender", "viewer"):
        assert _call(api, world, role, method, path, body) == 403, role
    assert _call(api, world, "admin", method, path, body) in (200, 201)


def test_given_another_tenant_then_every_object_of_tenant_a_is_404(api, world, admin):
    other = api.post(
        "/api/admin/tenants", {"name": "B", "owner_email": "b@example.com"}, token=admin
    )
    b = other.body["owner_key"]
    key_id = api.get("/api/keys").body["items"][0]["id"]
    paths = [
        (m, p.format(c=world["c"], m=world["m"]), body)
        for m, p, body in READS + WRITES
        if "{c}" in p or "{m}" in p
    ]
    paths += [
        ("DELETE", f"/api/keys/{key_id}", None),
        ("DELETE", f"/api/campaigns/{world['c']}", None),
        ("POST", f"/api/campaigns/{world['c']}/start", None),
        ("DELETE", f"/api/mailboxes/{world['m']}", None),
    ]
    for method, path, body in paths:
        reply = api.call(method, path, body, token=b)
        assert reply.status == 404, (method, path, reply.status)
        assert reply.body["error"]["code"] == "not_found"
    # Tenant A's objects are untouched.
    assert api.get(f"/api/campaigns/{world['c']}").body["name"] == "n"
    assert api.get(f"/api/mailboxes/{world['m']}").body["status"] == "active"


def test_given_a_revoked_key_then_it_stops_working_at_once(api, world):
    created = api.post("/api/keys", {"name": "temp", "role": "sender"}).body
    assert api.get("/api/campaigns", token=created["key"]).status == 200
    assert "key" not in api.get("/api/keys").body["items"][0]
    assert api.delete(f"/api/keys/{created['id']}").status == 204
    assert api.get("/api/campaigns", token=created["key"]).status == 401
    assert api.delete(f"/api/keys/{created['id']}").status == 404


def test_given_a_user_with_a_password_then_login_works_and_failures_are_throttled(api, admin):
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False) as clock:
        created = api.post(
            "/api/admin/tenants",
            {
                "name": "L",
                "owner_email": "login@example.com",
                "owner_password": "correct horse battery",
            },
            token=admin,
        )
        assert created.status == 201
        session = api.post(
            "/api/auth/login",
            {"email": "Login@Example.com", "password": "correct horse battery"},
            token="",
        )
        assert session.status == 200 and session.body["expires_at"] == "2026-11-23T20:00:00Z"
        me = api.get("/api/me", token=session.body["token"]).body
        assert me == {"tenant_id": created.body["id"], "role": "owner", "user": "login@example.com"}
        for _ in range(5):
            assert (
                api.post(
                    "/api/auth/login", {"email": "login@example.com", "password": "wrong"}, token=""
                ).status
                == 401
            )
        throttled = api.post(
            "/api/auth/login",
            {"email": "login@example.com", "password": "correct horse battery"},
            token="",
        )
        assert throttled.status == 429 and int(throttled.headers["Retry-After"]) > 0
        assert (
            api.post(
                "/api/auth/login", {"email": "nobody@example.com", "password": "x"}, token=""
            ).status
            == 401
        )
        clock.shift(16 * 60)
        assert (
            api.post(
                "/api/auth/login",
                {"email": "login@example.com", "password": "correct horse battery"},
                token="",
            ).status
            == 200
        )
        clock.shift(13 * 3600)
        assert api.get("/api/me", token=session.body["token"]).status == 401  # expired
