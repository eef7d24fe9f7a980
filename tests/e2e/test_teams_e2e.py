"""Users and webhooks through the local stack (``make run``, issue 17): an invited user sets
a password on the invitation page and logs in; a webhook to 127.0.0.1 receives a signed
test event, delivered by the stack's own webhooks queue worker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from sendrail.domain import webhooks as rules

from tests.e2e.conftest import Stack
from tests.integration.test_webhooks import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-teams")]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_given_an_invitation_then_the_page_sets_the_password_and_login_works(
    stack: Stack,
) -> None:
    api = stack.http
    status, created, _ = api.post("/api/users", {"email": "new@team.example", "role": "viewer"})
    assert status == 201, created
    link = urlsplit(created["invite_url"])
    token = parse_qs(link.query)["token"][0]
    status, page, _ = api.get(f"{link.path}?{link.query}", token="")
    assert status == 200 and "Set your password" in page
    body = {"token": token, "password": "a long enough passphrase"}
    status, session, _ = api.post("/api/auth/invite", body, token="")
    assert status == 200, session
    status, me, _ = api.get("/api/me", token=session["token"])
    assert status == 200 and me["role"] == "viewer" and me["user"] == "new@team.example"
    assert api.post("/api/auth/logout", token=session["token"])[0] == 204
    assert api.get("/api/me", token=session["token"])[0] == 401


def test_given_a_webhook_to_127_0_0_1_then_the_stack_delivers_a_signed_test_event(
    stack: Stack, receiver: Receiver
) -> None:
    api = stack.http
    status, hook, _ = api.post("/api/webhooks", {"url": receiver.url, "events": ["bounced"]})
    assert status == 201, hook
    status, queued, _ = api.post(f"/api/webhooks/{hook['id']}/test")
    assert status == 202, queued
    for _ in range(100):  # bounded: the event source polls every 0.2 s
        if receiver.got:
            break
        time.sleep(0.2)
    headers, body = receiver.got[0]
    signed_at = int(headers[rules.HEADER].split(",")[0].removeprefix("t="))
    assert rules.verify(hook["secret"], headers[rules.HEADER], body, signed_at)
    for _ in range(100):  # the attempt is recorded just after the receiver answered
        deliveries = api.get(f"/api/webhooks/{hook['id']}/deliveries")[1]
        if deliveries["items"]:
            break
        time.sleep(0.1)
    assert deliveries["items"][0]["outcome"] == "delivered"
    assert deliveries["items"][0]["event_id"] == queued["event_id"]
