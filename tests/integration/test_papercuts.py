"""Small things a new user meets in the first hour (issue 19)."""

from __future__ import annotations

from tests.conftest import Api


def test_given_a_window_with_days_null_then_it_means_every_day(api: Api, tenant):
    window = {"start": "08:00", "end": "20:00", "timezone": "UTC", "days": None}
    created = api.post(
        "/api/campaigns", {"name": "c", "subject": "s", "html": "<p>x</p>", "window": window}
    )
    assert created.status == 201, created.raw
    assert len(created.body["window"]["days"]) == 7
    settings = api.put(
        "/api/settings/sending", {"max_per_hour": None, "max_per_day": None, "window": window}
    )
    assert settings.status == 200, settings.raw
    assert len(settings.body["window"]["days"]) == 7


def test_given_addresses_at_test_names_then_they_are_accepted(api: Api, tenant):
    cid = api.post("/api/campaigns", {"name": "c", "subject": "s", "html": "<p>x</p>"}).body["id"]
    reply = api.post(
        f"/api/campaigns/{cid}/recipients",
        {
            "recipients": [
                {"email": "someone@shop.test"},
                {"email": "nobody@shop.invalid"},
                {"email": "me@localhost"},
            ]
        },
    )
    assert reply.status == 200, reply.raw
    assert reply.body["added"] == 1  # .test (RFC 6761) is for testing: accepted
    assert {i["email"] for i in reply.body["invalid"]} == {"nobody@shop.invalid", "me@localhost"}
