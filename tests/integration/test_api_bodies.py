"""Generic body handling: every JSON route refuses other media types (415) and JSON that
Python cannot hold (huge numbers, deep nesting) is a 400, never a 500."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Api

# Routes whose body is a JSON model (a few of each router), with a body they accept.
JSON_ROUTES = [
    ("POST", "/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}),
    ("PUT", "/api/settings/sending", {"max_per_hour": 10}),
    ("POST", "/api/suppressions", {"email": "a@example.com"}),
    ("PUT", "/api/domain-throttles/gmail.com", {"max_per_hour": 10, "max_per_day": 100}),
]

OTHER_TYPES = [
    ("text/plain", b'{"email": "a@example.com"}'),
    (
        "multipart/form-data; boundary=XyZ",
        b'--XyZ\r\nContent-Disposition: form-data; name="email"'
        b"\r\n\r\na@example.com\r\n--XyZ--\r\n",
    ),
    ("application/xml", b"<email>a@example.com</email>"),
    ("application/x-www-form-urlencoded", b"email=a%40example.com"),
]


def _error(reply) -> dict:
    assert set(reply.body) == {"error"}, reply.raw
    assert set(reply.body["error"]) == {"code", "message", "details"}, reply.raw
    return dict(reply.body["error"])


@pytest.mark.parametrize(("method", "path", "body"), JSON_ROUTES)
@pytest.mark.parametrize(("content_type", "raw"), OTHER_TYPES)
def test_given_a_json_route_when_sent_another_media_type_then_415(
    api: Api, tenant, method, path, body, content_type, raw
):
    reply = api.call(method, path, raw=raw, content_type=content_type)
    assert reply.status == 415, reply.raw
    assert _error(reply)["code"] == "unsupported_media_type"
    # And the same route still takes JSON (with or without a charset).
    ok = api.call(
        method, path, raw=json.dumps(body).encode(), content_type="application/json; charset=utf-8"
    )
    assert ok.status < 300, ok.raw


def test_given_a_recipient_upload_in_xml_then_415(api: Api, tenant):
    cid = api.post("/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}).body["id"]
    reply = api.post(
        f"/api/campaigns/{cid}/recipients", raw=b"<r/>", content_type="application/xml"
    )
    assert reply.status == 415, reply.raw
    assert _error(reply)["code"] == "unsupported_media_type"


HOSTILE_JSON = [
    pytest.param(
        b'{"email": "a@example.com", "reason": ' + b"9" * 5000 + b"}", id="5000-digit-number"
    ),
    pytest.param(b'{"email": ' + b"[" * 5000 + b"]" * 5000 + b"}", id="nested-5000-deep"),
    pytest.param(b'{"email": ' + b"[" * 100 + b"]" * 100 + b"}", id="nested-100-deep"),
]


@pytest.mark.parametrize("raw", HOSTILE_JSON)
@pytest.mark.parametrize("path", ["/api/suppressions", "/api/campaigns", "/api/queue/enqueue"])
def test_given_json_python_cannot_hold_then_400_not_500(api: Api, tenant, path, raw):
    reply = api.post(path, raw=raw)
    assert reply.status == 400, reply.raw
    error = _error(reply)
    assert error["code"] == "malformed_json"
    assert error["details"][0]["field"] == "body"


@pytest.mark.parametrize("raw", HOSTILE_JSON)
def test_given_a_recipient_upload_python_cannot_hold_then_400_not_500(api: Api, tenant, raw):
    cid = api.post("/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}).body["id"]
    reply = api.post(f"/api/campaigns/{cid}/recipients", raw=b'{"recipients": [' + raw + b"]}")
    assert reply.status == 400, reply.raw
    assert _error(reply)["code"] == "malformed_json"  # as on every other JSON route


def test_given_an_ses_notification_python_cannot_hold_then_403_not_a_crash(aws):
    tracking = Api("tracking")
    for raw in HOSTILE_JSON:
        reply = tracking.post("/webhooks/ses", raw=raw.values[0], content_type="text/plain")
        assert reply.status == 403, reply.raw
