"""The dashboard (issue 14) at the handler: its static files under a strict CSP and no path
escapes; cookie sign-in (password or API key) with CSRF on writes, Bearer unaffected."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import pytest

from tests.conftest import Api, Reply

PASSWORD = "correct horse battery"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
)
CAMPAIGN = {"name": "n", "subject": "s", "html": "<p>h</p>"}


def set_cookie(reply: Reply) -> str:
    return next(v for k, v in reply.headers.items() if k.lower() == "set-cookie")


def cookie_value(reply: Reply) -> str:
    jar: SimpleCookie = SimpleCookie()
    jar.load(set_cookie(reply))
    return jar["sendrail_session"].value


def as_browser(cookie: str, csrf: str | None = None) -> dict[str, str]:
    headers = {"Cookie": f"other=1; sendrail_session={cookie}"}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return headers


@pytest.fixture
def people(api: Api, tenant: dict[str, Any]) -> dict[str, Any]:
    """Given a tenant with a sender who has a password and a viewer API key."""
    sender = {"email": "s@acme.example", "role": "sender", "password": PASSWORD}
    reply = api.post("/api/users", sender)
    assert reply.status == 201, reply.raw
    viewer = api.post("/api/keys", {"name": "v", "role": "viewer"}).body["key"]
    return {"viewer_key": viewer}


def sign_in(api: Api, body: dict[str, Any]) -> Reply:
    return api.post("/api/auth/session", body, token="")


# --- static files ---------------------------------------------------------------------------


def test_given_app_then_the_index_is_served_with_the_csp_and_no_auth(api, deps):
    reply = api.get("/app/", token="")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert reply.headers["Content-Security-Policy"] == CSP
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert '<script type="module" src="app.js">' in reply.raw
    script_src = next(
        d for d in reply.headers["Content-Security-Policy"].split(";") if "script-src" in d
    )
    assert script_src.strip() == "script-src 'self'"  # no inline script, no eval


def test_given_app_without_its_slash_then_a_relative_redirect_keeps_the_stage(api, deps):
    reply = api.get("/app", token="")
    assert reply.status == 301
    assert reply.headers["Location"] == "app/"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/app/app.js", "text/javascript"),
        ("/app/app.css", "text/css"),
        ("/app/pages/login.js", "text/javascript"),
    ],
)
def test_given_an_asset_then_its_type_and_the_csp(api, deps, path, kind):
    reply = api.get(path, token="")
    assert reply.status == 200, reply.raw
    assert reply.headers["Content-Type"].startswith(kind)
    assert reply.headers["Content-Security-Policy"] == CSP
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/app/../api/me",
        "/app/..",
        "/app/pages/..",
        "/app/%2e%2e/__init__.py",
        "/app/../__init__.py",
        "/app/pages/../../__init__.py",
        "/app/.hidden.js",
        "/app/__init__.py",
        "/app/missing.js",
        "/app/a/b/c/d.js",
    ],
)
def test_given_a_path_that_escapes_or_is_unknown_then_404_and_no_file(api, deps, path):
    reply = api.get(path, token="")
    assert reply.status == 404, (path, reply.raw)
    assert reply.body["error"]["code"] == "not_found"
    assert "import" not in reply.raw


def test_dashboard_asset_refuses_what_is_not_a_plain_static_path():
    from sendrail import dashboard

    assert dashboard.asset("")[1].startswith("text/html")  # type: ignore[index]
    for bad in ("../__init__.py", "..", "pages/../app.js", "/etc/passwd", "app.js/", "a\\b.js"):
        assert dashboard.asset(bad) is None, bad


# --- cookie sign-in -------------------------------------------------------------------------


def test_given_a_password_sign_in_then_an_httponly_lax_cookie_and_a_csrf_token(api, people):
    reply = sign_in(api, {"email": "s@acme.example", "password": PASSWORD})
    assert reply.status == 200, reply.raw
    assert reply.body["role"] == "sender"
    assert reply.body["user"] == "s@acme.example"
    assert reply.body["csrf_token"]
    cookie = set_cookie(reply)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # the local stack runs on http://127.0.0.1
    me = api.get("/api/me", token="", headers=as_browser(cookie_value(reply)))
    assert me.status == 200, me.raw
    assert me.body["csrf_token"] == reply.body["csrf_token"]


def test_given_a_deployed_stage_then_the_cookie_is_secure(api, people, monkeypatch):
    from functions.enqueue import wiring

    monkeypatch.setenv("SENDRAIL_STAGE", "aws")
    wiring.settings.cache_clear()
    try:
        reply = sign_in(api, {"email": "s@acme.example", "password": PASSWORD})
    finally:
        monkeypatch.setenv("SENDRAIL_STAGE", "local")
        wiring.settings.cache_clear()
    assert reply.status == 200, reply.raw
    assert "Secure" in set_cookie(reply)


def test_given_a_wrong_password_or_key_then_401_and_no_cookie(api, people):
    wrong = sign_in(api, {"email": "s@acme.example", "password": "not the password"})
    assert wrong.status == 401
    assert not any(k.lower() == "set-cookie" for k in wrong.headers)
    assert sign_in(api, {"api_key": "sr_nope"}).status == 401
    assert sign_in(api, {"email": "s@acme.example"}).status == 422
    assert sign_in(api, {"api_key": "k", "email": "a@b.c", "password": "p"}).status == 422


def test_given_a_cookie_then_writes_need_the_csrf_header(api, people):
    reply = sign_in(api, {"email": "s@acme.example", "password": PASSWORD})
    cookie, csrf = cookie_value(reply), reply.body["csrf_token"]
    # Reads need no token.
    assert api.get("/api/campaigns", token="", headers=as_browser(cookie)).status == 200
    missing = api.post("/api/campaigns", CAMPAIGN, token="", headers=as_browser(cookie))
    assert missing.status == 403
    assert missing.body["error"]["code"] == "csrf_failed"
    forged = api.post("/api/campaigns", CAMPAIGN, token="", headers=as_browser(cookie, "x.y"))
    assert forged.status == 403
    assert forged.body["error"]["code"] == "csrf_failed"
    made = api.post("/api/campaigns", CAMPAIGN, token="", headers=as_browser(cookie, csrf))
    assert made.status == 201, made.raw


def test_given_a_bearer_token_then_a_cookie_beside_it_changes_nothing(api, people):
    reply = sign_in(api, {"email": "s@acme.example", "password": PASSWORD})
    # A Bearer caller needs no CSRF token, even with a (stale or other) cookie present.
    made = api.post("/api/campaigns", CAMPAIGN, headers=as_browser(cookie_value(reply)))
    assert made.status == 201, made.raw
    viewer = api.post(
        "/api/campaigns", CAMPAIGN, token=people["viewer_key"], headers=as_browser("junk")
    )
    assert viewer.status == 403
    assert viewer.body["error"]["code"] == "forbidden"


def test_given_a_viewer_key_sign_in_then_the_cookie_reads_but_cannot_write(api, people):
    reply = sign_in(api, {"api_key": people["viewer_key"]})
    assert reply.status == 200, reply.raw
    assert reply.body["role"] == "viewer"
    cookie, csrf = cookie_value(reply), reply.body["csrf_token"]
    assert people["viewer_key"] not in set_cookie(reply)  # a signed reference, not the key
    assert api.get("/api/campaigns", token="", headers=as_browser(cookie)).status == 200
    refused = api.post("/api/campaigns", CAMPAIGN, token="", headers=as_browser(cookie, csrf))
    assert refused.status == 403
    assert refused.body["error"]["code"] == "forbidden"


def test_given_a_deleted_key_then_its_cookie_stops_at_once(api, people):
    key = api.post("/api/keys", {"name": "tmp", "role": "sender"}).body
    cookie = cookie_value(sign_in(api, {"api_key": key["key"]}))
    assert api.get("/api/me", token="", headers=as_browser(cookie)).status == 200
    assert api.delete(f"/api/keys/{key['id']}").status == 204
    assert api.get("/api/me", token="", headers=as_browser(cookie)).status == 401


def test_given_sign_out_then_the_cookie_is_cleared_and_the_session_ended(api, people):
    reply = sign_in(api, {"email": "s@acme.example", "password": PASSWORD})
    cookie, csrf = cookie_value(reply), reply.body["csrf_token"]
    assert api.delete("/api/auth/session", token="", headers=as_browser(cookie)).status == 403
    out = api.delete("/api/auth/session", token="", headers=as_browser(cookie, csrf))
    assert out.status == 204, out.raw
    cleared = set_cookie(out)
    assert "Max-Age=0" in cleared
    assert "sendrail_session=;" in cleared
    # The session token itself is dead, cookie or Bearer.
    assert api.get("/api/me", token="", headers=as_browser(cookie)).status == 401
    assert api.get("/api/me", token=cookie).status == 401
