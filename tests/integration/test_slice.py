"""The walking skeleton through the real handlers: API -> DynamoDB + SQS -> dispatch ->
SMTP -> the sink, with auth as the contract says."""

from __future__ import annotations

import time_machine

from tests.conftest import smtp_mailbox


def test_given_a_campaign_when_started_and_dispatched_then_it_is_sent_within_the_daily_limit(
    api, tenant, sink, dispatch
):
    server, outbox = sink
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False) as clock:
        mailbox = api.post(
            "/api/mailboxes", smtp_mailbox(server.port, daily_limit=2, from_name="Acme")
        )
        assert mailbox.status == 201, mailbox.raw
        campaign = api.post(
            "/api/campaigns",
            {
                "name": "Hello",
                "subject": "Hi {{ first_name }}",
                "html": "<p>Hello {{ first_name }}</p>",
            },
        )
        assert campaign.status == 201
        cid = campaign.body["id"]
        added = api.post(
            f"/api/campaigns/{cid}/recipients",
            {
                "recipients": [
                    {"email": "ann@x.example", "data": {"first_name": "Ann"}},
                    {"email": "bob@x.example"},
                    {"email": "BOB@x.example"},
                    {"email": "cy@x.example"},
                ]
            },
        )
        assert added.status == 200
        assert added.body == {
            "added": 3,
            "duplicates": 1,
            "invalid": [],
            "suppressed": 0,
            "job": None,
        }

        started = api.post(f"/api/campaigns/{cid}/start")
        assert started.status == 202
        assert started.body["status"] == "running" and started.body["queued"] == 3

        dispatch()
        stats = api.get(f"/api/campaigns/{cid}/stats").body
        assert (stats["sent"], stats["queued"]) == (2, 1)
        assert len(outbox.items()) == 2
        assert {i.subject for i in outbox.items()} <= {"Hi Ann", "Hi"}

        clock.shift(86400)  # the daily limit resets at midnight
        dispatch()
        dispatch()
        campaign = api.get(f"/api/campaigns/{cid}").body
        assert campaign["status"] == "completed"
        assert campaign["counts"]["sent"] == 3
        assert sorted(i.to for i in outbox.items()) == [
            "ann@x.example",
            "bob@x.example",
            "cy@x.example",
        ]


def test_given_starting_twice_then_nothing_is_queued_twice(api, tenant, sink, dispatch):
    server, outbox = sink
    api.post("/api/mailboxes", smtp_mailbox(server.port))
    cid = api.post("/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}).body["id"]
    api.post(
        f"/api/campaigns/{cid}/recipients",
        {"recipients": [{"email": f"u{i}@x.example"} for i in range(5)]},
    )
    assert api.post(f"/api/campaigns/{cid}/start").status == 202
    assert api.post(f"/api/campaigns/{cid}/start").status == 202
    dispatch()
    dispatch()
    assert len(outbox.items()) == 5
    assert api.get(f"/api/campaigns/{cid}").body["status"] == "completed"


def test_given_no_or_bad_key_then_401_and_another_tenants_campaign_is_404(api, tenant, admin):
    cid = api.post("/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}).body["id"]
    assert api.get("/api/campaigns", token="").status == 401
    assert api.get("/api/campaigns", token="sr_nope").status == 401
    other = api.post(
        "/api/admin/tenants", {"name": "Other", "owner_email": "o@other.example"}, token=admin
    )
    other_key = other.body["owner_key"]
    reply = api.get(f"/api/campaigns/{cid}", token=other_key)
    assert reply.status == 404
    assert reply.body["error"]["code"] == "not_found"
    assert api.get(f"/api/campaigns/{cid}").status == 200


def test_given_health_and_openapi_then_both_answer_without_auth(api):
    assert api.get("/health", token="").body == {"status": "ok"}
    document = api.get("/openapi.json", token="").body
    assert document["openapi"].startswith("3.")
    assert "/api/campaigns/{campaign_id}/start" in document["paths"]
