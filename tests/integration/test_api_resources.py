"""The management API's resources: mailboxes, settings, throttles, suppressions, messages,
scheduled campaigns, pagination and the OpenAPI document."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import time_machine
from sendrail.errors import ValidationFailed
from sendrail.services import mailboxes
from sendrail.services.mailboxes import MailboxCreate
from sendrail.storage import stats

from tests.conftest import Api, run_dispatch, smtp_mailbox


def test_given_a_mailbox_then_patch_changes_limits_and_credentials_and_archive_keeps_it_listed(
    api: Api, tenant
):
    box = api.post(
        "/api/mailboxes",
        smtp_mailbox(
            2525,
            tags=["warm"],
            warmup={"start_per_day": 10, "increase_percent": 20, "max_per_day": 100},
        ),
    ).body
    assert box["status"] == "active" and box["has_credentials"] is False
    changed = api.patch(
        f"/api/mailboxes/{box['id']}",
        {
            "daily_limit": 50,
            "hourly_limit": 5,
            "rate_limit": {"count": 2, "per_seconds": 1800},
            "tags": ["a", "b"],
            "from_name": "News",
            "timezone": "Europe/Paris",
            "smtp": {"host": "127.0.0.1", "port": 2525, "username": "u", "password": "pw"},
        },
    ).body
    assert (changed["daily_limit"], changed["hourly_limit"], changed["tags"]) == (50, 5, ["a", "b"])
    assert changed["has_credentials"] is True and "password" not in changed["smtp"]
    assert (
        api.post(f"/api/mailboxes/{box['id']}/pause", {"reason": "maintenance"}).body[
            "pause_reason"
        ]
        == "maintenance"
    )
    assert api.post(f"/api/mailboxes/{box['id']}/resume").body["status"] == "active"
    assert api.delete(f"/api/mailboxes/{box['id']}").body["status"] == "archived"
    assert api.patch(f"/api/mailboxes/{box['id']}", {"daily_limit": 1}).status == 409
    assert api.post(f"/api/mailboxes/{box['id']}/resume").status == 409


def test_given_max_connections_then_smtp_and_ses_take_it_and_oauth_mailboxes_refuse_it(
    api: Api, tenant
):
    relay = api.post("/api/mailboxes", smtp_mailbox(2525, max_connections=4))
    assert relay.status == 201 and relay.body["max_connections"] == 4
    plain = api.post("/api/mailboxes", smtp_mailbox(2525, email="one@example.com")).body
    assert plain["max_connections"] is None  # the provider's default: one connection
    ses = api.post("/api/mailboxes", {"provider": "ses", "email": "s@example.com"}).body
    assert api.patch(f"/api/mailboxes/{ses['id']}", {"max_connections": 8}).status == 200
    for bad in (0, 51, "many"):
        reply = api.post("/api/mailboxes", smtp_mailbox(2525, max_connections=bad))
        assert reply.status == 422 and "max_connections" in reply.raw
    assert len(api.get("/api/mailboxes").body["items"]) == 3  # nothing half-written


def test_given_an_oauth_mailbox_then_it_keeps_to_one_connection(deps, tenant):
    with pytest.raises(ValidationFailed) as refused:
        mailboxes.create(
            deps,
            tenant["id"],
            MailboxCreate(provider="gmail", email="g@example.com", max_connections=2),
        )
    assert refused.value.details[0]["field"] == "max_connections"


def test_given_sent_and_bounced_counters_then_mailbox_stats_report_days_and_rates(
    api: Api, tenant, deps
):
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False):
        box = api.post("/api/mailboxes", smtp_mailbox(2525)).body["id"]
        deps.stats.add(stats.mailbox_key(box), "d#2026-11-22", {"sent": 100, "bounced": 3})
        deps.stats.add(
            stats.mailbox_key(box), "d#2026-11-23", {"sent": 50, "failed": 2, "complained": 1}
        )
        body = api.get(f"/api/mailboxes/{box}/stats?days=3").body
    assert [d["date"] for d in body["days"]] == ["2026-11-21", "2026-11-22", "2026-11-23"]
    assert body["today"] == {
        "date": "2026-11-23",
        "sent": 50,
        "failed": 2,
        "bounced": 0,
        "complained": 1,
    }
    assert body["totals"]["sent"] == 150
    assert body["bounce_rate"] == 0.02 and body["complaint_rate"] == 0.0067


def test_given_sending_settings_and_throttles_then_they_round_trip(api: Api, tenant):
    assert api.get("/api/settings/sending").body["max_per_hour"] is None  # no cap unless set
    window = {"start": "08:00", "end": "20:00", "timezone": "Europe/Paris", "days": ["mon", "fri"]}
    put = api.put(
        "/api/settings/sending", {"max_per_hour": 50, "max_per_day": 500, "window": window}
    )
    assert put.status == 200
    got = api.get("/api/settings/sending").body
    assert (got["max_per_hour"], got["max_per_day"], got["window"]["days"]) == (
        50,
        500,
        ["mon", "fri"],
    )
    group = api.put(
        "/api/domain-throttles/google",
        {"max_per_hour": 20, "domains": ["gmail.com", "GoogleMail.com"]},
    )
    assert group.body["domains"] == ["gmail.com", "googlemail.com"]
    sender = api.put("/api/domain-throttles/acme.com", {"max_per_day": 1000, "scope": "sender"})
    assert sender.body["scope"] == "sender" and sender.body["domains"] == ["acme.com"]
    assert {t["name"] for t in api.get("/api/domain-throttles").body["items"]} == {
        "google",
        "acme.com",
    }
    assert api.delete("/api/domain-throttles/google").status == 204
    assert api.delete("/api/domain-throttles/google").status == 404


def test_given_suppressions_then_they_list_and_lift(api: Api, tenant):
    cid = api.post("/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}).body["id"]
    api.post(f"/api/campaigns/{cid}/recipients", {"recipients": [{"email": "gone@example.com"}]})
    created = api.post("/api/suppressions", {"email": "Gone@Example.com"})
    assert (
        created.status == 201
        and created.body["stopped"] == 1
        and created.body["reason"] == "manual"
    )
    assert [s["email"] for s in api.get("/api/suppressions").body["items"]] == ["gone@example.com"]
    again = api.post(
        f"/api/campaigns/{cid}/recipients", {"recipients": [{"email": "gone@example.com"}]}
    )
    assert again.body["duplicates"] == 1
    other = api.post("/api/campaigns", {"name": "m", "subject": "s", "html": "<p>h</p>"}).body["id"]
    blocked = api.post(
        f"/api/campaigns/{other}/recipients", {"recipients": [{"email": "gone@example.com"}]}
    )
    assert (blocked.body["added"], blocked.body["suppressed"]) == (0, 1)
    assert api.delete("/api/suppressions/gone%40example.com").status == 204
    assert api.delete("/api/suppressions/gone@example.com").status == 404


def test_given_lists_then_every_one_pages_with_limit_and_cursor(api: Api, tenant):
    for i in range(5):
        api.post("/api/campaigns", {"name": f"c{i}", "subject": "s", "html": "<p>h</p>"})
        api.post("/api/mailboxes", smtp_mailbox(2525, email=f"m{i}@example.com"))
        api.post("/api/suppressions", {"email": f"s{i}@example.com"})
    for path in ("/api/campaigns", "/api/mailboxes", "/api/suppressions", "/api/keys"):
        seen: list[Any] = []
        cursor = None
        for _ in range(10):
            reply = api.get(path + "?limit=2" + (f"&cursor={cursor}" if cursor else "")).body
            assert len(reply["items"]) <= 2
            seen.extend(item.get("id") or item.get("email") for item in reply["items"])
            cursor = reply["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) and len(seen) >= (1 if path == "/api/keys" else 5)
    names = [c["name"] for c in api.get("/api/campaigns").body["items"]]
    assert names == sorted(names, reverse=True)  # newest first


def test_given_an_idempotency_key_then_concurrent_duplicates_queue_one_message(
    api: Api, tenant, deps
):
    from sendrail.services import messages

    spec = messages.MessageCreate(
        to="t@example.com", subject="s", html="<p>h</p>", idempotency_key="order-42"
    )
    ids: list[str] = []
    errors: list[BaseException] = []

    def enqueue() -> None:  # four Lambda invocations at once, racing on the same key
        try:
            ids.append(messages.enqueue(deps, tenant["id"], spec)[0].id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=enqueue) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors and len(ids) == 4 and len(set(ids)) == 1
    assert deps.queues.depth("send-high")["visible"] == 1
    again = api.post("/api/queue/enqueue", spec.model_dump())
    assert again.status == 202 and again.body["id"] == ids[0]
    message = api.get(f"/api/messages/{ids[0]}").body
    assert (message["status"], message["to"], message["priority"]) == ("queued", "t@example.com", 8)
    assert api.get("/api/queue/stats").body["total_queued"] == 1
    assert api.get("/api/messages/msg_unknown").status == 404


def test_given_scheduled_at_then_the_campaign_starts_by_itself(api: Api, tenant, sink):
    server, outbox = sink
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False) as clock:
        api.post("/api/mailboxes", smtp_mailbox(server.port))
        cid = api.post(
            "/api/campaigns",
            {
                "name": "later",
                "subject": "s",
                "html": "<p>h</p>",
                "scheduled_at": "2026-11-23T10:00:00Z",
            },
        ).body["id"]
        api.post(f"/api/campaigns/{cid}/recipients", {"recipients": [{"email": "a@example.com"}]})
        assert api.post(f"/api/campaigns/{cid}/start").body["status"] == "scheduled"
        run_dispatch()
        assert outbox.items() == []
        clock.shift(2 * 3600 + 60)
        run_dispatch()
        run_dispatch()
        assert [i.to for i in outbox.items()] == ["a@example.com"]
        body = api.get(f"/api/campaigns/{cid}").body
        assert body["status"] == "completed" and body["started_at"] == "2026-11-23T10:01:00Z"


def test_given_a_draft_then_delete_removes_it_and_a_started_one_is_cancelled(api: Api, tenant):
    draft = api.post("/api/campaigns", {"name": "d", "subject": "s", "html": "<p>h</p>"}).body["id"]
    api.post(f"/api/campaigns/{draft}/recipients", {"recipients": [{"email": "a@example.com"}]})
    assert api.delete(f"/api/campaigns/{draft}").status == 204
    assert api.get(f"/api/campaigns/{draft}").status == 404
    started = api.post("/api/campaigns", {"name": "s", "subject": "s", "html": "<p>h</p>"}).body[
        "id"
    ]
    api.post(
        f"/api/campaigns/{started}/recipients",
        {"recipients": [{"email": f"r{i}@example.com"} for i in range(3)]},
    )
    api.post(f"/api/campaigns/{started}/start")
    cancelled = api.delete(f"/api/campaigns/{started}").body
    assert cancelled["status"] == "cancelled" and cancelled["counts"]["cancelled"] == 3


def test_given_the_openapi_document_then_every_route_has_models_and_security(api: Api):
    doc = api.get("/openapi.json", token="").body
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    operations = [
        (path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()
    ]
    assert len(operations) >= 45
    for path, method, op in operations:
        assert op.get("summary"), (path, method)
        responses = op["responses"]
        ok = next((code for code in responses if code.startswith("2")), None)
        if ok not in (None, "204"):
            assert "content" in responses[ok], (path, method)
        if (
            method in ("post", "put", "patch")
            and "start" not in path
            and "pause" not in path
            and "resume" not in path
            and "cancel" not in path
            and not path.endswith("/connect")
            and not path.endswith("/verify")
            and not path.endswith("/check")
            and not path.endswith("/test")  # a webhook's test event
            and path != "/api/auth/logout"
        ):
            assert "requestBody" in op, (path, method)
    assert "/api/campaigns/{campaign_id}/estimate" in doc["paths"]
    schemas = doc["components"]["schemas"]
    assert {
        "CampaignCreate",
        "MailboxCreate",
        "CampaignView",
        "MailboxView",
        "SendingSettings",
    } <= set(schemas)
