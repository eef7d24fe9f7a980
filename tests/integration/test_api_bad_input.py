"""Bad input gets a 4xx in the contract's error shape, and the store is left unchanged."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import boto3
import pytest

from tests.conftest import Api, smtp_mailbox


def snapshot(aws) -> dict[str, Any]:
    """Every item of every table and the depth of every queue."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    items = {}
    for logical, name in aws.tables.items():
        rows = dynamodb.scan(TableName=name)["Items"]
        items[logical] = sorted(json.dumps(r, sort_keys=True) for r in rows)
    depth = {
        q: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        for q, url in aws.queues.items()
    }
    return {"items": items, "queues": depth}


@pytest.fixture
def setup(api: Api, tenant, aws) -> dict[str, Any]:
    cid = api.post("/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}).body["id"]
    mid = api.post("/api/mailboxes", smtp_mailbox(2525)).body["id"]
    return {"c": cid, "m": mid}


CRLF = "Hello\r\nBcc: victim@example.com"
BAD = [
    # (method, path, raw body, content type, expected status)
    ("POST", "/api/campaigns", b"{not json", "application/json", 400),
    ("POST", "/api/campaigns", b"[]", "application/json", 422),
    (
        "POST",
        "/api/campaigns",
        json.dumps({"name": "n", "subject": "s"}).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/campaigns",
        json.dumps({"name": 5, "subject": "s", "html": "h"}).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/campaigns",
        json.dumps({"name": "n", "subject": CRLF, "html": "h"}).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/campaigns",
        json.dumps({"name": "n", "subject": "s", "html": "h", "from_name": "A\nB"}).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/campaigns",
        json.dumps(
            {"name": "n", "subject": "s", "html": "h", "reply_to": "a@b.com\r\nX: y"}
        ).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/campaigns",
        json.dumps(
            {"name": "n", "subject": "s", "html": "h", "headers": {"X-Ok": "a\nb"}}
        ).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/campaigns",
        json.dumps(
            {"name": "n", "subject": "s", "html": "h", "headers": {"Bcc": "x@y.com"}}
        ).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/campaigns",
        json.dumps({"name": "n", "subject": "{{ broken", "html": "h"}).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/campaigns",
        json.dumps({"name": "n", "subject": "s", "html": "{% for %}"}).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/campaigns",
        json.dumps({"name": "n", "subject": "s", "html": "h", "priority": 11}).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/campaigns",
        json.dumps({"name": "n", "subject": "s", "html": "h", "unknown": 1}).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/campaigns",
        json.dumps(
            {"name": "n", "subject": "s", "html": "h", "window": {"start": "9", "end": "10:00"}}
        ).encode(),
        "application/json",
        422,
    ),
    (
        "PATCH",
        "/api/campaigns/{c}",
        json.dumps({"subject": "{{ nope"}).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/mailboxes",
        json.dumps(
            {
                "provider": "smtp",
                "email": "x@example.com",
                "daily_limit": -1,
                "smtp": {"host": "h", "port": 25},
            }
        ).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/mailboxes",
        json.dumps(
            {"provider": "smtp", "email": "not-an-email", "smtp": {"host": "h", "port": 25}}
        ).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/mailboxes",
        json.dumps({"provider": "carrier-pigeon", "email": "x@example.com"}).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/mailboxes",
        json.dumps({"provider": "smtp", "email": "x@example.com"}).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/mailboxes",
        json.dumps(
            {
                "provider": "smtp",
                "email": "x@example.com",
                "from_name": "a\r\nb",
                "smtp": {"host": "h", "port": 25},
            }
        ).encode(),
        "application/json",
        422,
    ),
    (
        "PATCH",
        "/api/mailboxes/{m}",
        json.dumps({"hourly_limit": -5}).encode(),
        "application/json",
        422,
    ),
    (
        "PATCH",
        "/api/mailboxes/{m}",
        json.dumps({"rate_limit": {"count": 0, "per_seconds": 10}}).encode(),
        "application/json",
        422,
    ),
    (
        "PUT",
        "/api/settings/sending",
        json.dumps({"max_per_hour": -1}).encode(),
        "application/json",
        422,
    ),
    (
        "PUT",
        "/api/settings/sending",
        json.dumps({"timezone": "Nowhere/City"}).encode(),
        "application/json",
        422,
    ),
    (
        "PUT",
        "/api/domain-throttles/gmail.com",
        json.dumps({"max_per_day": "lots"}).encode(),
        "application/json",
        422,
    ),
    (
        "PUT",
        "/api/domain-throttles/google",
        json.dumps({"max_per_day": 5}).encode(),
        "application/json",
        422,
    ),
    ("POST", "/api/campaigns/{c}/recipients", b"{bad", "application/json", 400),
    (
        "POST",
        "/api/campaigns/{c}/recipients",
        json.dumps({"people": []}).encode(),
        "application/json",
        422,
    ),
    ("POST", "/api/campaigns/{c}/recipients", b"name\nann\n", "text/csv", 422),
    ("POST", "/api/campaigns/{c}/recipients", b"<xml/>", "application/xml", 415),
    (
        "POST",
        "/api/queue/enqueue",
        json.dumps({"to": "x", "subject": "s", "html": "h"}).encode(),
        "application/json",
        422,
    ),
    (
        "POST",
        "/api/queue/enqueue",
        json.dumps({"to": "a@example.com", "subject": CRLF, "html": "h"}).encode(),
        "application/json",
        422,
    ),
    ("POST", "/api/suppressions", json.dumps({"email": "nope"}).encode(), "application/json", 422),
    (
        "POST",
        "/api/keys",
        json.dumps({"name": "x", "role": "emperor"}).encode(),
        "application/json",
        422,
    ),
    ("POST", "/api/campaigns/{c}/start", b"", "application/json", 409),  # no recipients yet
    ("GET", "/api/campaigns?limit=0", b"", "application/json", 422),
    ("GET", "/api/campaigns?limit=501", b"", "application/json", 422),
    ("GET", "/api/campaigns?cursor=%%%", b"", "application/json", 400),
    ("GET", "/api/campaigns/{c}/recipients?status=lost", b"", "application/json", 422),
]


@pytest.mark.parametrize(("method", "path", "raw", "content_type", "status"), BAD)
def test_given_bad_input_then_4xx_with_the_error_shape_and_nothing_written(
    api, setup, aws, method, path, raw, content_type, status
):
    before = snapshot(aws)
    reply = api.call(method, path.format(**setup), raw=raw, content_type=content_type)
    assert reply.status == status, reply.raw
    error = reply.body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] and error["message"]
    assert snapshot(aws) == before


def test_given_an_oversized_upload_then_413(api, setup):
    big = b"email\n" + b"x" * (10 * 1024 * 1024 + 10)
    reply = api.call(
        "POST", f"/api/campaigns/{setup['c']}/recipients", raw=big, content_type="text/csv"
    )
    assert reply.status == 413 and reply.body["error"]["code"] == "payload_too_large"


def test_given_illegal_lifecycle_moves_then_409(api, setup):
    c = setup["c"]
    assert api.post(f"/api/campaigns/{c}/pause").status == 409
    assert api.post(f"/api/campaigns/{c}/resume").status == 409
    api.post(f"/api/campaigns/{c}/recipients", {"recipients": [{"email": "a@example.com"}]})
    assert api.post(f"/api/campaigns/{c}/start").status == 202
    assert api.patch(f"/api/campaigns/{c}", {"name": "late"}).status == 409
    assert api.post(f"/api/campaigns/{c}/cancel").status == 200
    assert api.post(f"/api/campaigns/{c}/start").status == 409
    assert api.post(f"/api/campaigns/{c}/resume").status == 409
    assert (
        api.post(
            f"/api/campaigns/{c}/recipients", {"recipients": [{"email": "b@example.com"}]}
        ).status
        == 409
    )


def test_given_an_smtp_password_then_no_response_or_log_line_contains_it(api, tenant, deps, aws):
    secret = "s3cr3t-Pa55word-do-not-leak"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.DEBUG)
    try:
        created = api.post(
            "/api/mailboxes",
            smtp_mailbox(
                2525,
                smtp={
                    "host": "127.0.0.1",
                    "port": 2525,
                    "security": "none",
                    "username": "u",
                    "password": secret,
                },
            ),
        )
        mid = created.body["id"]
        replies = [
            created.raw,
            api.get(f"/api/mailboxes/{mid}").raw,
            api.get("/api/mailboxes").raw,
            api.patch(
                f"/api/mailboxes/{mid}",
                {
                    "smtp": {
                        "host": "127.0.0.1",
                        "port": 2525,
                        "username": "u",
                        "password": secret + "2",
                    }
                },
            ).raw,
            api.get("/openapi.json").raw,
        ]
        bad = api.post(
            "/api/mailboxes",
            smtp_mailbox(2525, daily_limit=-1, smtp={"host": "h", "port": 25, "password": secret}),
        )
        replies.append(bad.raw)
        keys = api.post("/api/keys", {"name": "k", "role": "viewer"}).body["key"]
        replies.append(api.get("/api/keys").raw)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    assert created.body["has_credentials"] is True
    for text in [*replies, stream.getvalue()]:
        assert secret not in text
    assert keys not in api.get("/api/keys").raw
    # At rest: the stored mailbox holds ciphertext only; keys are stored as hashes.
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dump = json.dumps(dynamodb.scan(TableName=aws.tables["main"])["Items"])
    assert secret not in dump and keys not in dump
