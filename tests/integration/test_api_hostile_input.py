"""Hostile input (issue 12, items 4 and 5 and the 5xx list): every case gets a clear 4xx in
the contract's error shape, never a 500, and no tenant reads another's or the platform's
figures."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.conftest import Api, smtp_mailbox
from tests.integration.test_api_bad_input import snapshot

HUGE = 10**39


def assert_error(reply: Any, status: int | tuple[int, ...], code: str | None = None) -> None:
    statuses = status if isinstance(status, tuple) else (status,)
    assert reply.status in statuses, reply.raw
    error = reply.body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] and error["message"]
    if code is not None:
        assert error["code"] == code, reply.raw


def b64(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def other_tenant(api: Api, admin: str) -> str:
    """Given a second tenant; returns its owner key."""
    reply = api.post(
        "/api/admin/tenants", {"name": "Other", "owner_email": "o@other.example"}, token=admin
    )
    assert reply.status == 201, reply.raw
    return str(reply.body["owner_key"])


@pytest.fixture
def ids(api: Api, tenant) -> dict[str, str]:
    cid = api.post("/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}).body["id"]
    mid = api.post("/api/mailboxes", smtp_mailbox(2525)).body["id"]
    return {"c": cid, "m": mid}


# --- item 4: /api/queue/status shows only the tenant's own figures ---------------------------

PLATFORM_ONLY = {"last_run", "last_error", "last_error_at", "queues", "dead_letters"}


def test_given_a_platform_error_then_tenant_status_hides_it_and_admin_status_shows_it(
    api: Api, tenant, admin, deps
):
    # Given: the dispatcher recorded a run and an error that names another tenant's server.
    secret = "554 internal-relay.corp banner of another tenant"
    deps.system.record_dispatch(deps.clock.now(), {"sent": 41, "failed": 3}, secret)
    cid = api.post("/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}).body["id"]
    api.post("/api/mailboxes", smtp_mailbox(2525))
    api.post(f"/api/campaigns/{cid}/recipients", {"recipients": [{"email": "a@example.com"}]})
    assert api.post(f"/api/campaigns/{cid}/start").status == 202
    viewer = api.post("/api/keys", {"name": "v", "role": "viewer"}).body["key"]
    # When: a viewer of the tenant asks for the processor status.
    reply = api.get("/api/queue/status", token=viewer)
    # Then: its own figures and window, nothing platform-wide.
    assert reply.status == 200, reply.raw
    assert secret not in reply.raw and "41" not in json.dumps(reply.body.get("last_run"))
    assert not PLATFORM_ONLY & set(reply.body)
    assert reply.body["queued"] == 1 and reply.body["sending"] == 0
    assert reply.body["in_window"] is True
    # And the platform admin sees the whole picture under /api/admin.
    platform = api.get("/api/admin/queue/status", token=admin)
    assert platform.status == 200, platform.raw
    assert platform.body["last_error"] == secret
    assert platform.body["last_run"]["sent"] == 41
    assert "send-normal" in platform.body["queues"]
    # And a tenant key cannot read it.
    assert_error(api.get("/api/admin/queue/status"), 403)
    assert_error(api.get("/api/admin/queue/status", token=viewer), 403)


def test_given_two_tenants_then_each_status_counts_only_its_own_campaigns(api: Api, tenant, admin):
    other = other_tenant(api, admin)
    cid = api.post(
        "/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}, token=other
    ).body["id"]
    api.post("/api/mailboxes", smtp_mailbox(2525), token=other)
    api.post(
        f"/api/campaigns/{cid}/recipients",
        {"recipients": [{"email": f"r{i}@example.com"} for i in range(3)]},
        token=other,
    )
    assert api.post(f"/api/campaigns/{cid}/start", token=other).status == 202
    assert api.get("/api/queue/status", token=other).body["queued"] == 3
    assert api.get("/api/queue/status").body["queued"] == 0


# --- item 5: numbers are bounded ------------------------------------------------------------

UNBOUNDED = [
    ("POST", "/api/mailboxes", smtp_mailbox(25, daily_limit=HUGE)),
    (
        "POST",
        "/api/mailboxes",
        smtp_mailbox(25, warmup={"start_per_day": 10, "increase_percent": 10, "max_per_day": HUGE}),
    ),
    (
        "POST",
        "/api/mailboxes",
        smtp_mailbox(
            25, warmup={"start_per_day": HUGE, "increase_percent": 10, "max_per_day": 100}
        ),
    ),
    ("PATCH", "/api/mailboxes/{m}", {"hourly_limit": HUGE}),
    (
        "PATCH",
        "/api/mailboxes/{m}",
        {"warmup": {"start_per_day": 10, "increase_percent": 10, "max_per_day": 10**7 + 1}},
    ),
    ("PATCH", "/api/mailboxes/{m}", {"rate_limit": {"count": HUGE, "per_seconds": 60}}),
    ("PUT", "/api/settings/sending", {"max_per_day": HUGE}),
    ("PUT", "/api/settings/sending", {"max_per_day": 10**7 + 1}),
    ("PUT", "/api/settings/sending", {"max_per_hour": HUGE}),
    ("PUT", "/api/settings/sending", {"rate_min_sent": HUGE}),
    ("PUT", "/api/settings/sending", {"batch_delay_seconds": HUGE}),
    ("PUT", "/api/domain-throttles/gmail.com", {"max_per_day": HUGE}),
    ("PUT", "/api/domain-throttles/gmail.com", {"max_per_minute": HUGE}),
    ("POST", "/api/campaigns", {"name": "n", "subject": "s", "html": "h", "priority": HUGE}),
    ("GET", "/api/campaigns?limit=" + str(HUGE), None),
    ("GET", "/api/campaigns/{c}/report?limit=" + str(HUGE), None),
    ("GET", "/api/mailboxes/{m}/stats?days=" + str(HUGE), None),
]


@pytest.mark.parametrize(("method", "path", "body"), UNBOUNDED)
def test_given_a_number_out_of_bounds_then_422_and_nothing_written(
    api: Api, ids, aws, method, path, body
):
    before = snapshot(aws)
    reply = api.call(method, path.format(**ids), body)
    assert_error(reply, 422, "validation_failed")
    assert snapshot(aws) == before


def test_given_the_documented_ceilings_then_they_are_accepted(api: Api, ids):
    assert (
        api.put("/api/settings/sending", {"max_per_day": 10**7, "max_per_hour": 10**6}).status
        == 200
    )
    warm = {"start_per_day": 10**7, "increase_percent": 10, "max_per_day": 10**7}
    assert api.patch(f"/api/mailboxes/{ids['m']}", {"warmup": warm}).status == 200


# --- item 5: mailbox_ids name the tenant's own, existing mailboxes --------------------------


def test_given_another_tenants_or_a_missing_mailbox_then_create_and_patch_answer_422(
    api: Api, ids, admin
):
    other = other_tenant(api, admin)
    theirs = api.post("/api/mailboxes", smtp_mailbox(2525), token=other).body["id"]
    base = {"name": "n", "subject": "s", "html": "<p>h</p>"}
    for bad in ([theirs], ["mbx_missing"], [ids["m"], theirs]):
        created = api.post("/api/campaigns", {**base, "mailbox_ids": bad})
        assert_error(created, 422, "validation_failed")
        assert created.body["error"]["details"][0]["field"] == "mailbox_ids"
        assert theirs not in created.raw or bad != [theirs] or "no such" in created.raw
        patched = api.patch(f"/api/campaigns/{ids['c']}", {"mailbox_ids": bad})
        assert_error(patched, 422, "validation_failed")
        assert patched.body["error"]["details"][0]["field"] == "mailbox_ids"
    # The tenant's own mailbox is fine.
    assert api.post("/api/campaigns", {**base, "mailbox_ids": [ids["m"]]}).status == 201
    assert api.patch(f"/api/campaigns/{ids['c']}", {"mailbox_ids": [ids["m"]]}).status == 200


def test_given_the_campaigns_mailbox_was_archived_then_start_answers_422(api: Api, ids):
    c = ids["c"]
    assert api.patch(f"/api/campaigns/{c}", {"mailbox_ids": [ids["m"]]}).status == 200
    api.post(f"/api/campaigns/{c}/recipients", {"recipients": [{"email": "a@example.com"}]})
    assert api.delete(f"/api/mailboxes/{ids['m']}").status in (200, 204)
    reply = api.post(f"/api/campaigns/{c}/start")
    assert_error(reply, 422, "validation_failed")
    assert reply.body["error"]["details"][0]["field"] == "mailbox_ids"
    assert api.get(f"/api/campaigns/{c}").body["status"] == "draft"


# --- item 5: /api/queue/clear never reads a non-id as "the whole tenant" ---------------------


@pytest.mark.parametrize(
    "raw",
    [b"[null,null]", b"[]", b'"x"', b"5", b'{"campaign_id": null}', b'{"campaign_id": ""}'],
)
@pytest.mark.parametrize("route", ["/api/queue/clear", "/api/queue/retry-failed"])
def test_given_a_scope_that_is_not_a_campaign_id_then_422(api: Api, ids, aws, route, raw):
    before = snapshot(aws)
    reply = api.call("POST", route, raw=raw)
    assert_error(reply, 422)
    assert snapshot(aws) == before


def test_given_no_body_or_an_empty_object_then_clear_scopes_the_whole_tenant(api: Api, ids):
    assert api.post("/api/queue/clear").body == {"cleared": 0}
    assert api.post("/api/queue/clear", {}).body == {"cleared": 0}
    assert api.post("/api/queue/clear", {"campaign_id": ids["c"]}).body == {"cleared": 0}


# --- item 5: campaign headers cannot take over delivery -------------------------------------

OWNED = [
    "Resent-Bcc",
    "resent-to",
    "Resent-From",
    "Content-Disposition",
    "Content-ID",
    "content-type",
    "MIME-Version",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Message-ID",
    "Date",
    "Return-Path",
    "DKIM-Signature",
    "ARC-Seal",
    "Received",
    "X-Sendrail-Tenant",
    "Bcc",
    "Cc",
    "To",
    "From",
    "Sender",
    "Reply-To",
    "Disposition-Notification-To",
    "Errors-To",
    "Authentication-Results",
]


@pytest.mark.parametrize("name", OWNED)
def test_given_a_header_we_own_then_create_and_patch_answer_422_naming_it(api: Api, ids, name):
    body = {"name": "n", "subject": "s", "html": "h", "headers": {name: "x@example.com"}}
    for reply in (
        api.post("/api/campaigns", body),
        api.patch(f"/api/campaigns/{ids['c']}", {"headers": {name: "v"}}),
    ):
        assert_error(reply, 422, "validation_failed")
        assert name in reply.body["error"]["message"] or name in json.dumps(
            reply.body["error"]["details"]
        )


def test_given_a_custom_header_of_its_own_then_it_is_kept(api: Api, ids):
    headers = {"X-Campaign-Ref": "spring-2027", "Precedence": "bulk", "List-Id": "<news.example>"}
    reply = api.patch(f"/api/campaigns/{ids['c']}", {"headers": headers})
    assert reply.status == 200, reply.raw
    assert reply.body["headers"] == headers


# --- 5xx list: PATCH mailbox timezone null --------------------------------------------------


def test_given_a_null_timezone_then_patch_answers_422(api: Api, ids, aws):
    before = snapshot(aws)
    reply = api.patch(f"/api/mailboxes/{ids['m']}", {"timezone": None})
    assert_error(reply, 422, "validation_failed")
    assert reply.body["error"]["details"][0]["field"] == "timezone"
    assert snapshot(aws) == before


# --- 5xx list: POST /api/bounces with hostile bodies ----------------------------------------

DSN_NO_FROM = (
    b"Subject: Undelivered Mail Returned to Sender\r\n"
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
    b"--B\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
    b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
    b"Reporting-MTA: dns; mx.example.com\r\n\r\n"
    b"Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
    b"--B--\r\n"
)


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"From: \r\nSubject: x\r\n\r\nbody\r\n", "message/rfc822"),
        (b"From: <>\r\nSubject: x\r\n\r\nbody\r\n", "message/rfc822"),
        (b"From: ,,,\r\nSubject: x\r\n\r\nbody\r\n", "message/rfc822"),
        (b"From: =?utf-8?q??=\r\nSubject: Returned mail\r\n\r\nbody\r\n", "message/rfc822"),
        (DSN_NO_FROM, "multipart/report"),
        (bytes(range(256)) * 8, "application/octet-stream"),
        (b"\x00\xff\xfe" * 100, "message/rfc822"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image/png"),
    ],
)
def test_given_a_bounce_without_usable_from_or_binary_then_4xx_or_a_clean_result(
    api: Api, tenant, raw, content_type
):
    reply = api.call("POST", "/api/bounces", raw=raw, content_type=content_type)
    assert reply.status < 500, reply.raw
    if reply.status >= 400:
        assert_error(reply, (400, 415, 422))
    else:
        assert set(reply.body) >= {"hard", "soft", "events"}


# --- 5xx list: recipient data depth and size ------------------------------------------------


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


def test_given_recipient_data_nested_300_deep_then_import_refuses_it(api: Api, ids, aws):
    before = snapshot(aws)
    rows = [{"email": "ok@example.com"}, {"email": "a@example.com", "data": nested(300)}]
    # So deep a body is refused by the JSON reader itself (at most 64 levels) ...
    reply = api.post(f"/api/campaigns/{ids['c']}/recipients", {"recipients": rows})
    assert_error(reply, 400, "malformed_json")
    # ... and data within that but over the data bound (8 levels) by the import.
    rows[1]["data"] = nested(40)
    reply = api.post(f"/api/campaigns/{ids['c']}/recipients", {"recipients": rows})
    assert_error(reply, 422, "validation_failed")
    assert reply.body["error"]["details"][0] == {
        "field": "data",
        "row": 2,
        "email": "a@example.com",
        "reason": "data is nested deeper than 8 levels",
    }
    assert snapshot(aws) == before


def test_given_a_single_message_with_deep_or_large_data_then_422(api: Api, ids, aws):
    before = snapshot(aws)
    base = {"to": "a@example.com", "subject": "s", "html": "h"}
    for data in (nested(9), {"big": "x" * 9000}):
        reply = api.post("/api/queue/enqueue", {**base, "data": data})
        assert_error(reply, 422, "validation_failed")
    assert snapshot(aws) == before


def test_given_data_at_the_depth_bound_then_it_is_accepted_and_read_back(api: Api, ids):
    c = ids["c"]
    reply = api.post(
        f"/api/campaigns/{c}/recipients",
        {"recipients": [{"email": "a@example.com", "data": nested(8)}]},
    )
    assert reply.status == 200 and reply.body["added"] == 1, reply.raw
    assert api.get(f"/api/campaigns/{c}/recipients").status == 200
    assert api.get(f"/api/campaigns/{c}/report").status == 200


def test_given_deep_data_already_stored_then_the_readers_still_answer(api: Api, ids, tenant, deps):
    # Given: a recipient written before the bound existed (straight into the store).
    from sendrail.domain.models import Recipient

    c = ids["c"]
    now = deps.clock.now()
    deps.recipients.put_many(
        [
            Recipient(
                campaign_id=c,
                email="deep@example.com",
                tenant_id=tenant["id"],
                data=nested(300),
                created_at=now,
                updated_at=now,
            )
        ]
    )
    # Then: both readers answer 200 and show the row.
    listed = api.get(f"/api/campaigns/{c}/recipients")
    assert listed.status == 200, listed.raw
    assert listed.body["items"][0]["email"] == "deep@example.com"
    for fmt in ("json", "csv"):
        report = api.get(f"/api/campaigns/{c}/report?format={fmt}")
        assert report.status == 200, report.raw
        assert "deep@example.com" in report.raw


def test_given_recipient_data_over_the_size_bound_then_import_answers_422(api: Api, ids, aws):
    before = snapshot(aws)
    big = {f"f{i}": "x" * 1000 for i in range(17)}
    reply = api.post(
        f"/api/campaigns/{ids['c']}/recipients",
        {"recipients": [{"email": "a@example.com", "data": big}]},
    )
    assert_error(reply, 422, "validation_failed")
    assert snapshot(aws) == before
    csv_body = "email," + ",".join(big) + "\na@example.com," + ",".join(big.values()) + "\n"
    reply = api.call(
        "POST",
        f"/api/campaigns/{ids['c']}/recipients",
        raw=csv_body.encode(),
        content_type="text/csv",
    )
    assert_error(reply, 422, "validation_failed")
    assert snapshot(aws) == before


def test_given_a_csv_cell_over_the_field_limit_then_413_or_422(api: Api, ids, aws):
    before = snapshot(aws)
    body = b"email,note\na@example.com," + b"y" * 131_073 + b"\n"
    reply = api.call(
        "POST", f"/api/campaigns/{ids['c']}/recipients", raw=body, content_type="text/csv"
    )
    assert_error(reply, (413, 422))
    assert snapshot(aws) == before


# --- 5xx list: forged cursors ---------------------------------------------------------------

LISTS = [
    "/api/campaigns",
    "/api/campaigns/{c}/recipients",
    "/api/campaigns/{c}/report",
    "/api/campaigns/{c}/report?format=csv",
    "/api/mailboxes",
    "/api/suppressions",
    "/api/domain-throttles",
    "/api/keys",
]

FORGED = [
    "eyJwayI6MX0",  # {"pk":1}
    b64({"pk": "x"}),
    b64({"pk": {"S": 1}}),
    b64({"pk": {"N": "1"}, "sk": {"S": "x"}}),
    b64({"pk": {"S": "x"}, "sk": {"S": "y"}, "a": {"S": "b"}, "c": {"S": "d"}, "e": {"S": "f"}}),
    b64({"pk": {"S": "T#someone-else"}, "sk": {"S": "CAMP#1"}}),
    b64({"campaign_id": {"S": "cmp_other"}, "email": {"S": "a@example.com"}}),
    b64({"tenant_id": {"S": "someone-else"}, "email": {"S": "a@example.com"}}),
    b64({"gsi1pk": {"S": "T#someone-else#KEYS"}, "gsi1sk": {"S": "k"}}),
    b64({}),
    b64([1, 2]),
    b64({"pk": {"S": "x" * 5000}, "sk": {"S": "y"}}),
]


@pytest.mark.parametrize("cursor", FORGED)
@pytest.mark.parametrize("path", LISTS)
def test_given_a_forged_cursor_then_every_list_answers_invalid_cursor(api: Api, ids, path, cursor):
    sep = "&" if "?" in path else "?"
    reply = api.get(f"{path.format(**ids)}{sep}cursor={cursor}")
    assert_error(reply, (400, 422), "invalid_cursor")


def test_given_another_tenants_real_cursor_then_invalid_cursor(api: Api, ids, admin):
    # Given: the other tenant pages through its campaigns and gets a real cursor.
    other = other_tenant(api, admin)
    for i in range(3):
        api.post("/api/campaigns", {"name": f"o{i}", "subject": "s", "html": "h"}, token=other)
    cursor = api.get("/api/campaigns?limit=1", token=other).body["next_cursor"]
    assert cursor
    assert api.get(f"/api/campaigns?limit=1&cursor={cursor}", token=other).status == 200
    # When: this tenant replays it.
    assert_error(api.get(f"/api/campaigns?limit=1&cursor={cursor}"), (400, 422), "invalid_cursor")


def test_given_a_real_cursor_then_every_list_pages_on(api: Api, ids, admin):
    c = ids["c"]
    other_tenant(api, admin)
    api.post(
        f"/api/campaigns/{c}/recipients",
        {"recipients": [{"email": f"r{i}@example.com"} for i in range(3)]},
    )
    for i in range(2):
        api.post("/api/campaigns", {"name": f"n{i}", "subject": "s", "html": "h"})
        api.post("/api/suppressions", {"email": f"s{i}@example.com"})
        api.post("/api/keys", {"name": f"k{i}", "role": "viewer"})
        api.put(f"/api/domain-throttles/d{i}.example", {"max_per_day": 5})
        api.post("/api/mailboxes", smtp_mailbox(2525, email=f"m{i}@example.com"))
    for path in [*LISTS, "/api/admin/tenants"]:
        token = admin if path.startswith("/api/admin") else None
        sep = "&" if "?" in path else "?"
        first = api.get(f"{path.format(c=c)}{sep}limit=1", token=token)
        assert first.status == 200, (path, first.raw)
        cursor = (
            first.headers.get("X-Next-Cursor")
            if "format=csv" in path
            else first.body["next_cursor"]
        )
        assert cursor, path
        second = api.get(f"{path.format(c=c)}{sep}limit=1&cursor={cursor}", token=token)
        assert second.status == 200, (path, second.raw)


# --- 5xx list: scheduled_at out of range ----------------------------------------------------


@pytest.mark.parametrize(
    "when",
    ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "1999-12-31T23:59:59Z"],
)
def test_given_scheduled_at_out_of_range_then_create_and_patch_answer_422(api: Api, ids, when):
    body = {"name": "n", "subject": "s", "html": "h", "scheduled_at": when}
    created = api.post("/api/campaigns", body)
    assert_error(created, 422, "validation_failed")
    assert "scheduled_at" in json.dumps(created.body["error"]["details"])
    patched = api.patch(f"/api/campaigns/{ids['c']}", {"scheduled_at": when})
    assert_error(patched, 422, "validation_failed")


def test_given_scheduled_at_more_than_a_year_ahead_then_422_and_within_a_year_accepted(
    api: Api, ids
):
    now = datetime.now(UTC)
    late = (now + timedelta(days=367)).isoformat()
    soon = (now + timedelta(days=300)).isoformat()
    assert_error(api.patch(f"/api/campaigns/{ids['c']}", {"scheduled_at": late}), 422)
    assert api.patch(f"/api/campaigns/{ids['c']}", {"scheduled_at": soon}).status == 200
    api.post(f"/api/campaigns/{ids['c']}/recipients", {"recipients": [{"email": "a@example.com"}]})
    started = api.post(f"/api/campaigns/{ids['c']}/start")
    assert started.status == 202, started.raw
    assert started.body["status"] == "scheduled"


def test_given_a_campaign_stored_with_a_far_scheduled_at_then_start_does_not_500(
    api: Api, ids, tenant, deps
):
    # Given: a draft written before the bound existed.
    c = ids["c"]
    api.post(f"/api/campaigns/{c}/recipients", {"recipients": [{"email": "a@example.com"}]})
    campaign = deps.campaigns.get(tenant["id"], c)
    far = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14)))
    deps.campaigns.replace(campaign.model_copy(update={"scheduled_at": far}))
    reply = api.post(f"/api/campaigns/{c}/start")
    assert_error(reply, 422, "validation_failed")
    assert reply.body["error"]["details"][0]["field"] == "scheduled_at"
