"""End to end through the local stack's HTTP front, with the virtual clock: one campaign
travels API -> DynamoDB + SQS -> scheduled dispatch -> SMTP -> the sink."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Stack, start_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-skeleton")]


def test_given_the_stack_when_a_campaign_runs_then_it_completes_within_the_daily_limit(
    stack: Stack,
):
    http = stack.http
    assert http.get("/health", token="")[1] == {"status": "ok"}
    assert http.get("/api/me")[1]["tenant_id"] == "ten_default"
    status, mailbox, _ = http.post(
        "/api/mailboxes",
        {
            "provider": "smtp",
            "email": "news@example.com",
            "from_name": "News",
            "daily_limit": 2,
            "smtp": {"host": "127.0.0.1", "port": stack.smtp_port, "security": "none"},
        },
    )
    assert status == 201, mailbox
    status, campaign, _ = http.post(
        "/api/campaigns",
        {
            "name": "Launch",
            "subject": "Hello {{ first_name }}",
            "html": "<h1>Hi {{ first_name }}</h1>",
        },
    )
    assert status == 201
    cid = campaign["id"]
    status, added, _ = http.post(
        f"/api/campaigns/{cid}/recipients",
        {
            "recipients": [
                {"email": "ann@example.org", "data": {"first_name": "Ann"}},
                {"email": "bo@example.org", "data": {"first_name": "Bo"}},
                {"email": "cy@example.org", "data": {"first_name": "Cy"}},
            ]
        },
    )
    assert added["added"] == 3
    status, started, _ = http.post(f"/api/campaigns/{cid}/start")
    assert status == 202 and started["status"] == "running"

    fired = http.advance(90)
    assert fired["fired"]["dispatch"] >= 1
    stats = http.get(f"/api/campaigns/{cid}/stats")[1]
    assert stats["sent"] == 2 and stats["queued"] == 1
    outbox = http.get("/_local/outbox", token="")[1]["items"]
    assert len(outbox) == 2
    assert all(item["from"] == "news@example.com" for item in outbox)
    assert {item["mailbox_id"] for item in outbox} == {mailbox["id"]}  # who sent it
    first = http.get("/_local/outbox?to=ann@example.org", token="")[1]["items"]
    assert [i["subject"] for i in first] in ([], ["Hello Ann"])

    http.advance(24 * 3600)  # the next day, the limit has reset
    final = http.get(f"/api/campaigns/{cid}")[1]
    assert final["status"] == "completed"
    assert final["counts"]["sent"] == 3
    received = http.get("/_local/outbox", token="")[1]["items"]
    assert sorted(i["to"] for i in received) == [
        "ann@example.org",
        "bo@example.org",
        "cy@example.org",
    ]
    assert {i["subject"] for i in received} == {"Hello Ann", "Hello Bo", "Hello Cy"}


def test_given_bad_keys_then_401_and_unknown_campaign_404(stack: Stack):
    http = stack.http
    assert http.get("/api/campaigns", token="")[0] == 401
    assert http.get("/api/campaigns", token="sr_wrong")[0] == 401
    status, body, _ = http.get("/api/campaigns/cmp_doesnotexist")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_given_the_clock_endpoints_then_they_report_virtual_time(stack: Stack):
    status, clock, _ = stack.http.get("/_local/clock", token="")
    assert status == 200 and clock["virtual"] is True


def test_given_a_running_stack_when_interrupted_then_it_stops_cleanly(tmp_path):
    running = start_stack(tmp_path, virtual_clock=None)
    assert running.http.get("/_local/clock", token="")[1]["virtual"] is False
    assert stop_stack(running) == 0


def test_given_a_large_csv_then_the_stack_imports_it_in_the_background(stack: Stack):
    import time

    http = stack.http
    status, campaign, _ = http.post(
        "/api/campaigns", {"name": "Import", "subject": "s", "html": "<p>h</p>"}
    )
    cid = campaign["id"]
    csv = "email,first_name\n" + "".join(f"person{i}@example.org,P{i}\n" for i in range(7_000))
    status, accepted, _ = http.call(
        "POST", f"/api/campaigns/{cid}/recipients", raw=csv.encode(), content_type="text/csv"
    )
    assert status == 202 and accepted["job"]["rows"] == 7_000
    job = accepted["job"]["id"]
    deadline = time.monotonic() + 120
    progress = {}
    while time.monotonic() < deadline:  # the local event source mapping runs in real time
        progress = http.get(f"/api/campaigns/{cid}/imports/{job}")[1]
        if progress["status"] == "done":
            break
        time.sleep(0.5)
    assert progress["status"] == "done" and progress["added"] == 7_000
    assert http.get(f"/api/campaigns/{cid}")[1]["counts"]["queued"] == 7_000
