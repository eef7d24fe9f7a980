"""Per-key API rate limits: each key (or session) may make its tenant's ``api_rate_limit``
requests per second (default 50); the next is a 429 ``rate_limited`` with Retry-After.
The clock is frozen with time-machine (the process clock sendrail.clock reads), so one
"second" lasts as long as the test needs, and moving it on opens the next window."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from tests.conftest import Api

START = "2026-11-23T08:00:00Z"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, aws: Any) -> Iterator[time_machine.Coordinates]:
    """Given the platform default of 50 requests per second and a frozen clock."""
    from functions.enqueue import wiring

    monkeypatch.setenv("SENDRAIL_API_RATE_LIMIT", "50")
    wiring.reset()
    with time_machine.travel(START, tick=False) as coordinates:
        yield coordinates
    wiring.reset()


def burst(api: Api, n: int, token: str | None = None) -> list[Any]:
    return [api.get("/api/me", token=token) for _ in range(n)]


def _second_tenant(api: Api, admin: str) -> str:
    reply = api.post(
        "/api/admin/tenants", {"name": "Other", "owner_email": "o@other.example"}, token=admin
    )
    assert reply.status == 201, reply.raw
    return str(reply.body["owner_key"])


def test_given_60_requests_in_one_second_then_the_last_10_are_429_with_retry_after(
    clock, api, tenant
):
    replies = burst(api, 60)
    assert [r.status for r in replies] == [200] * 50 + [429] * 10
    refused = replies[-1]
    assert refused.headers["Retry-After"] == "1"
    assert set(refused.body["error"]) == {"code", "message", "details"}
    assert refused.body["error"]["code"] == "rate_limited"


def test_given_one_key_over_its_rate_then_other_keys_and_tenants_are_unaffected(
    clock, api, tenant, admin
):
    # Given a second key of the same tenant and another tenant's key
    sender = api.post("/api/keys", {"name": "ci", "role": "sender"})
    assert sender.status == 201, sender.raw
    other = _second_tenant(api, admin)
    # When the owner key spends its second
    assert burst(api, 51)[-1].status == 429
    # Then the others still get their full 50 in that same second
    assert all(r.status == 200 for r in burst(api, 50, token=sender.body["key"]))
    assert all(r.status == 200 for r in burst(api, 50, token=other))
    assert api.get("/api/me").status == 429


def test_given_the_next_second_then_the_key_is_admitted_again(clock, api, tenant):
    assert burst(api, 51)[-1].status == 429
    clock.shift(1)
    replies = burst(api, 51)
    assert [r.status for r in replies] == [200] * 50 + [429]


def test_given_the_tenant_setting_then_it_replaces_the_default(clock, api, tenant, admin):
    # Given a tenant that lowers its limit to 5 per second
    reply = api.put("/api/settings/api", {"api_rate_limit": 5})
    assert reply.status == 200, reply.raw
    assert reply.body == {"api_rate_limit": 5, "effective_api_rate_limit": 5}
    other = _second_tenant(api, admin)
    clock.shift(1)
    # Then its keys get 5 per second, another tenant still 50
    assert [r.status for r in burst(api, 6)] == [200] * 5 + [429]
    assert all(r.status == 200 for r in burst(api, 50, token=other))
    # When it raises the limit to 100
    clock.shift(1)
    assert api.put("/api/settings/api", {"api_rate_limit": 100}).status == 200
    # Then 100 requests pass in a second (the PUT was the first)
    assert [r.status for r in burst(api, 100)] == [200] * 99 + [429]
    clock.shift(1)
    # And back to the platform default with null
    reply = api.put("/api/settings/api", {"api_rate_limit": None})
    assert reply.body == {"api_rate_limit": None, "effective_api_rate_limit": 50}
    assert api.get("/api/settings/api").body["effective_api_rate_limit"] == 50
    assert [r.status for r in burst(api, 49)] == [200] * 48 + [429]  # after the PUT and GET


@pytest.mark.parametrize("bad", [0, -1, 10_001, "fast", 1.5])
def test_given_a_bad_rate_setting_then_422(clock, api, tenant, bad):
    reply = api.put("/api/settings/api", {"api_rate_limit": bad})
    assert reply.status == 422, reply.raw
    assert reply.body["error"]["code"] == "validation_failed"


def test_given_a_viewer_key_then_it_reads_but_cannot_change_the_setting(clock, api, tenant):
    viewer = api.post("/api/keys", {"name": "v", "role": "viewer"}).body["key"]
    assert api.get("/api/settings/api", token=viewer).status == 200
    assert api.put("/api/settings/api", {"api_rate_limit": 9}, token=viewer).status == 403


def test_given_sessions_then_each_user_is_counted_apart_from_the_keys(clock, api, admin):
    # Given a tenant whose owner has a password, logged in
    created = api.post(
        "/api/admin/tenants",
        {"name": "S", "owner_email": "s@acme.example", "owner_password": "correct horse battery"},
        token=admin,
    )
    assert created.status == 201, created.raw
    key = created.body["owner_key"]
    login = api.post(
        "/api/auth/login",
        {"email": "s@acme.example", "password": "correct horse battery"},
        token="",
    )
    assert login.status == 200, login.raw
    session = login.body["token"]
    # When the owner key spends its second
    assert burst(api, 51, token=key)[-1].status == 429
    # Then the session has its own 50
    assert [r.status for r in burst(api, 51, token=session)] == [200] * 50 + [429]


def test_given_the_platform_switch_off_then_nothing_is_counted(aws, api, tenant):
    # The test suites' setting (conftest): 0 turns every limit off, even a tenant's own
    with time_machine.travel(START, tick=False):
        reply = api.put("/api/settings/api", {"api_rate_limit": 1})
        assert reply.body == {"api_rate_limit": 1, "effective_api_rate_limit": 0}
        assert all(r.status == 200 for r in burst(api, 120))
