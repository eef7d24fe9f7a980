"""Users of a tenant (issue 17): roles on every route, invitations (expiry, single use),
sign-out, password changes, removal, the last owner, and login throttling per client."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from tests.conftest import Api

PASSWORD = "correct horse battery"
START = "2026-11-23T08:00:00Z"


def login(api: Api, email: str, password: str = PASSWORD, ip: str = "127.0.0.1") -> Any:
    return api.post(
        "/api/auth/login", {"email": email, "password": password}, token="", source_ip=ip
    )


def add_user(api: Api, email: str, role: str, password: str | None = PASSWORD) -> dict[str, Any]:
    body: dict[str, Any] = {"email": email, "role": role}
    if password is not None:
        body["password"] = password
    reply = api.post("/api/users", body)
    assert reply.status == 201, reply.raw
    return dict(reply.body)


@pytest.fixture
def team(api: Api, tenant: dict[str, Any]) -> dict[str, Any]:
    """Given an owner, a sender and a viewer, each signed in with a session."""
    people: dict[str, Any] = {}
    for role in ("owner", "sender", "viewer"):
        user = add_user(api, f"{role}@acme.example", role)
        session = login(api, user["email"])
        assert session.status == 200, session.raw
        people[role] = {**user, "token": session.body["token"]}
    return people


USER_ROUTES = [
    ("GET", "/api/users", None),
    ("POST", "/api/users", {"email": "new@acme.example", "role": "viewer"}),
    ("PATCH", "/api/users/{id}", {"role": "sender"}),
    ("DELETE", "/api/users/{id}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), USER_ROUTES)
def test_given_each_role_then_users_are_managed_by_owners_only(
    api, team, admin, method, path, body
):
    path = path.format(id=team["viewer"]["id"])
    for role in ("sender", "viewer"):
        assert api.call(method, path, body, token=team[role]["token"]).status == 403, role
    assert api.call(method, path, body, token=admin).status == 403
    assert api.call(method, path, body, token="").status == 401
    assert api.call(method, path, body, token=team["owner"]["token"]).status in (200, 201, 204)


def test_given_a_new_user_with_a_password_then_the_list_shows_them_without_secrets(api, team):
    listed = api.get("/api/users").body["items"]
    assert [(u["email"], u["role"], u["status"]) for u in listed] == [
        ("owner@acme.example", "owner", "active"),
        ("sender@acme.example", "sender", "active"),
        ("viewer@acme.example", "viewer", "active"),
    ]
    assert all(set(u) == {"id", "email", "role", "status", "created_at"} for u in listed)
    assert add_user(api, "x@acme.example", "viewer")["invite_url"] is None
    me = api.get("/api/me", token=team["sender"]["token"]).body
    assert me["role"] == "sender" and me["user"] == "sender@acme.example"


def test_given_a_duplicate_or_admin_role_then_409_and_422(api, team):
    again = api.post("/api/users", {"email": "Sender@Acme.example", "role": "viewer"})
    assert again.status == 409
    assert api.post("/api/users", {"email": "a@acme.example", "role": "admin"}).status == 422
    assert (
        api.post(
            "/api/users", {"email": "a@acme.example", "role": "viewer", "password": "short"}
        ).status
        == 422
    )


def test_given_another_tenant_then_its_users_are_404(api, team, admin):
    other = api.post("/api/admin/tenants", {"name": "B", "owner_email": "b@b.example"}, token=admin)
    b = other.body["owner_key"]
    target = team["viewer"]["id"]
    assert api.patch(f"/api/users/{target}", {"role": "owner"}, token=b).status == 404
    assert api.delete(f"/api/users/{target}", token=b).status == 404
    assert api.get("/api/users", token=b).body["items"] == []


def test_given_a_role_change_then_it_applies_to_live_sessions_at_once(api, team):
    viewer = team["viewer"]
    assert (
        api.post("/api/suppressions", {"email": "z@x.example"}, token=viewer["token"]).status == 403
    )
    changed = api.patch(f"/api/users/{viewer['id']}", {"role": "sender"})
    assert changed.status == 200 and changed.body["role"] == "sender"
    assert api.post(
        "/api/suppressions", {"email": "z@x.example"}, token=viewer["token"]
    ).status in (200, 201)


def test_given_a_removed_user_then_their_sessions_stop_at_once(api, team):
    sender = team["sender"]
    second = login(api, sender["email"]).body["token"]
    assert api.get("/api/me", token=sender["token"]).status == 200
    assert api.delete(f"/api/users/{sender['id']}").status == 204
    for token in (sender["token"], second):
        reply = api.get("/api/me", token=token)
        assert reply.status == 401 and reply.body["error"]["code"] == "unauthorized"
    assert login(api, sender["email"]).status == 401
    assert api.delete(f"/api/users/{sender['id']}").status == 404
    # Re-adding the address makes a new user: the old sessions stay dead.
    add_user(api, sender["email"], "sender")
    assert api.get("/api/me", token=sender["token"]).status == 401


def test_given_the_last_owner_then_they_cannot_be_demoted_or_removed(api, team):
    owner = team["owner"]
    demote = api.patch(f"/api/users/{owner['id']}", {"role": "viewer"})
    assert demote.status == 409 and demote.body["error"]["code"] == "conflict"
    assert api.delete(f"/api/users/{owner['id']}").status == 409
    # An invited owner who has not set a password yet does not count.
    add_user(api, "pending@acme.example", "owner", password=None)
    assert api.delete(f"/api/users/{owner['id']}").status == 409
    # With a second active owner, the first may step down (even by themselves).
    second = add_user(api, "second@acme.example", "owner")
    reply = api.patch(f"/api/users/{owner['id']}", {"role": "viewer"}, token=owner["token"])
    assert reply.status == 200
    assert api.delete(f"/api/users/{second['id']}").status == 409  # now the last one
    assert api.patch(f"/api/users/{owner['id']}", {"role": "owner"}).status == 200
    assert api.delete(f"/api/users/{second['id']}").status == 204


def test_given_logout_then_only_that_session_ends(api, team):
    owner = team["owner"]
    other = login(api, owner["email"]).body["token"]
    assert api.post("/api/auth/logout", token=owner["token"]).status == 204
    assert api.get("/api/me", token=owner["token"]).status == 401
    assert api.post("/api/auth/logout", token=owner["token"]).status == 401
    assert api.get("/api/me", token=other).status == 200
    # An API key has no session to end.
    key_logout = api.post("/api/auth/logout")
    assert key_logout.status == 400 and api.get("/api/me").status == 200


def test_given_a_password_change_then_other_sessions_end_and_the_new_password_works(api, team):
    viewer = team["viewer"]
    other = login(api, viewer["email"]).body["token"]
    wrong = api.post(
        "/api/auth/password",
        {"current_password": "not it at all", "new_password": "a brand new passphrase"},
        token=viewer["token"],
    )
    assert wrong.status == 403
    changed = api.post(
        "/api/auth/password",
        {"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        token=viewer["token"],
    )
    assert changed.status == 204, changed.raw
    assert api.get("/api/me", token=viewer["token"]).status == 200  # the caller stays in
    assert api.get("/api/me", token=other).status == 401
    assert login(api, viewer["email"]).status == 401
    assert login(api, viewer["email"], "a brand new passphrase").status == 200
    by_key = api.post(
        "/api/auth/password", {"current_password": PASSWORD, "new_password": "x" * 12}
    )
    assert by_key.status == 400


def _invite_token(created: dict[str, Any]) -> str:
    return parse_qs(urlsplit(created["invite_url"]).query)["token"][0]


def test_given_an_invitation_then_the_link_sets_the_password_once(api, team):
    created = add_user(api, "invited@acme.example", "sender", password=None)
    assert created["status"] == "invited"
    assert created["invite_url"].startswith("http://127.0.0.1:9/api/auth/invite?token=")
    token = _invite_token(created)
    assert login(api, "invited@acme.example", "").status in (401, 422)
    page = api.get(f"/api/auth/invite?token={token}", token="")
    assert page.status == 200 and "Set your password" in page.raw
    assert page.headers["Cache-Control"] == "no-store"
    accepted = api.post(
        "/api/auth/invite", {"token": token, "password": "my own passphrase"}, token=""
    )
    assert accepted.status == 200, accepted.raw
    me = api.get("/api/me", token=accepted.body["token"]).body
    assert me["role"] == "sender" and me["user"] == "invited@acme.example"
    assert login(api, "invited@acme.example", "my own passphrase").status == 200
    again = api.post(
        "/api/auth/invite", {"token": token, "password": "someone elses pass"}, token=""
    )
    assert again.status == 400
    assert login(api, "invited@acme.example", "someone elses pass").status == 401
    forged = api.post(
        "/api/auth/invite", {"token": token[:-2] + "xx", "password": "p" * 12}, token=""
    )
    assert forged.status == 400
    listed = {u["email"]: u["status"] for u in api.get("/api/users").body["items"]}
    assert listed["invited@acme.example"] == "active"


def test_given_an_expired_invitation_then_it_sets_nothing(api, tenant):
    with time_machine.travel(START, tick=False) as clock:
        created = add_user(api, "late@acme.example", "viewer", password=None)
        assert created["invite_expires_at"] == "2026-11-26T08:00:00Z"
        clock.shift(72 * 3600 + 1)
        reply = api.post(
            "/api/auth/invite",
            {"token": _invite_token(created), "password": "my own passphrase"},
            token="",
        )
        assert reply.status == 400 and "expired" in reply.body["error"]["message"]
        assert login(api, "late@acme.example", "my own passphrase").status == 401


def test_given_an_attacker_failing_five_times_then_the_real_user_elsewhere_still_logs_in(api, team):
    with time_machine.travel(START, tick=False) as clock:
        email = team["sender"]["email"]
        for _ in range(5):
            assert login(api, email, "guess guess guess", ip="203.0.113.9").status == 401
        throttled = login(api, email, PASSWORD, ip="203.0.113.9")
        assert throttled.status == 429 and int(throttled.headers["Retry-After"]) > 0
        # The real user, from their own address, is not locked out.
        assert login(api, email, PASSWORD, ip="198.51.100.7").status == 200
        # The attacker moving on to other addresses is stopped per client too.
        for n in range(15):
            assert login(api, f"u{n}@acme.example", "guess", ip="203.0.113.9").status == 401
        assert login(api, team["viewer"]["email"], PASSWORD, ip="203.0.113.9").status == 429
        assert login(api, team["viewer"]["email"], PASSWORD, ip="198.51.100.7").status == 200
        clock.shift(16 * 60)
        assert login(api, email, PASSWORD, ip="203.0.113.9").status == 200


def test_given_a_stolen_session_then_guessing_the_current_password_is_throttled(api, team):
    with time_machine.travel(START, tick=False):
        token = team["viewer"]["token"]
        guess = {"current_password": "guess guess guess", "new_password": "x" * 12}
        for _ in range(5):
            assert api.post("/api/auth/password", guess, token=token).status == 403
        right = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
        assert api.post("/api/auth/password", right, token=token).status == 429
        # The real user, elsewhere, still logs in.
        assert login(api, team["viewer"]["email"], ip="198.51.100.7").status == 200
