"""Outgoing webhooks (issue 17): owners manage endpoints, the secret is shown once, events
reach a real receiver on 127.0.0.1 signed, failures are retried with backoff and recorded,
and after a day a delivery is recorded as failed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from sendrail.domain import webhooks as rules
from sendrail_local.event_sources import drain_once
from sendrail_local.lambdas import LocalContext

from tests.conftest import Api, smtp_mailbox
from tests.integration.test_inbox_apply import answer
from tests.integration.test_inbox_imap import SENDER, imap, sent  # noqa: F401 - fixtures

START = "2026-11-23T08:00:00Z"


class Receiver:
    """A real HTTP server that answers from a script of statuses (then 200) and keeps
    every request it got."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.got: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.got.append((dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/sendrail"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def events(self, secret: str, now: int) -> list[dict[str, Any]]:
        out = []
        for headers, body in self.got:
            assert rules.verify(secret, headers[rules.HEADER], body, now), headers
            out.append(json.loads(body))
        return out


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def deliver_all(aws: Any, rounds: int = 5) -> int:
    """Given the webhooks queue's event source: hand what is visible to enqueue."""
    from functions.enqueue.handler import handler

    def invoke(event: dict[str, Any]) -> Any:
        return handler(event, LocalContext("enqueue", 29))

    # Opens wait as items in their own queue until gathered into events (a batch of 100).
    for _ in range(100):  # bounded
        if not drain_once(aws.queues["webhook-items"], invoke, batch_size=10):
            break
    handled = 0
    for _ in range(rounds):
        n = drain_once(aws.queues["webhooks"], invoke, batch_size=10)
        if n == 0:
            break
        handled += n
    return handled


def make_hook(api: Api, url: str, events: list[str] | None = None) -> dict[str, Any]:
    reply = api.post(
        "/api/webhooks", {"url": url, "events": events or ["bounced"], "description": "crm"}
    )
    assert reply.status == 201, reply.raw
    return dict(reply.body)


def test_given_each_role_then_webhooks_are_for_owners_only(api, tenant, admin, receiver):
    hook = make_hook(api, receiver.url)
    keys = {
        role: api.post("/api/keys", {"name": role, "role": role}).body["key"]
        for role in ("sender", "viewer")
    }
    routes = [
        ("GET", "/api/webhooks", None),
        ("POST", "/api/webhooks", {"url": receiver.url, "events": ["sent"]}),
        ("GET", f"/api/webhooks/{hook['id']}", None),
        ("PATCH", f"/api/webhooks/{hook['id']}", {"description": "x"}),
        ("GET", f"/api/webhooks/{hook['id']}/deliveries", None),
        ("POST", f"/api/webhooks/{hook['id']}/test", None),
        ("DELETE", f"/api/webhooks/{hook['id']}", None),
    ]
    for method, path, body in routes:
        for token in (*keys.values(), admin):
            assert api.call(method, path, body, token=token).status == 403, (method, path)
        assert api.call(method, path, body, token="").status == 401
        assert api.call(method, path, body).status in (200, 201, 202, 204), (method, path)


def test_given_a_webhook_then_the_secret_is_shown_once_and_stored_sealed(
    api, tenant, receiver, deps
):
    hook = make_hook(api, receiver.url)
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["bounced"]
    shown = api.get(f"/api/webhooks/{hook['id']}").body
    assert "secret" not in shown and shown["url"] == receiver.url
    assert all("secret" not in h for h in api.get("/api/webhooks").body["items"])
    stored = deps.webhooks.get(tenant["id"], hook["id"])
    assert hook["secret"] not in stored.model_dump_json()
    patched = api.patch(f"/api/webhooks/{hook['id']}", {"events": ["sent", "opened"]}).body
    assert patched["events"] == ["opened", "sent"]


def test_given_bad_targets_then_422_and_other_tenants_404(api, tenant, admin, monkeypatch):
    for body in (
        {"url": "ftp://example.com/x", "events": ["sent"]},
        {"url": "https://example.com/x", "events": ["nope"]},
        {"url": "https://example.com/x", "events": []},
        {"url": "https://user:pw@example.com/x", "events": ["sent"]},
    ):
        reply = api.post("/api/webhooks", body)
        assert reply.status == 422, (body, reply.raw)
        assert reply.body["error"]["code"] == "validation_failed"
    hook = make_hook(api, "https://hooks.example.com/in")
    other = api.post("/api/admin/tenants", {"name": "B", "owner_email": "b@b.example"}, token=admin)
    b = other.body["owner_key"]
    for method, suffix in (("GET", ""), ("DELETE", ""), ("GET", "/deliveries"), ("POST", "/test")):
        assert api.call(method, f"/api/webhooks/{hook['id']}{suffix}", token=b).status == 404


def test_given_a_deployment_then_private_and_plain_http_targets_are_refused(
    api, tenant, monkeypatch
):
    from functions.enqueue import wiring

    monkeypatch.setenv("SENDRAIL_ALLOW_PRIVATE_HOSTS", "false")
    wiring.reset()
    for url in (
        "http://hooks.example.com/in",
        "https://127.0.0.1/in",
        "https://169.254.169.254/latest",
        "https://localhost/in",
        "https://10.0.0.8/in",
    ):
        reply = api.post("/api/webhooks", {"url": url, "events": ["sent"]})
        assert reply.status == 422, (url, reply.raw)
    assert (
        api.post(
            "/api/webhooks", {"url": "https://hooks.example.com/in", "events": ["sent"]}
        ).status
        == 201
    )


def test_given_a_test_event_then_the_receiver_gets_it_signed(aws, api, tenant, receiver):
    with time_machine.travel(START, tick=False):
        hook = make_hook(api, receiver.url)
        queued = api.post(f"/api/webhooks/{hook['id']}/test")
        assert queued.status == 202 and queued.body["type"] == "test"
        assert deliver_all(aws) == 1
        now = int(time.time())
        (event,) = receiver.events(hook["secret"], now)
        assert event["id"] == queued.body["event_id"] and event["type"] == "test"
        assert set(event) == {"id", "type", "created_at", "data"}
        headers, body = receiver.got[0]
        assert headers["Content-Type"] == "application/json"
        assert not rules.verify("whsec_wrong", headers[rules.HEADER], body, now)
        assert not rules.verify(hook["secret"], headers[rules.HEADER], body + b" ", now)
        assert not rules.verify(hook["secret"], headers[rules.HEADER], body, now + 3600)
        (delivery,) = api.get(f"/api/webhooks/{hook['id']}/deliveries").body["items"]
        assert delivery["status_code"] == 200 and delivery["outcome"] == "delivered"
        assert delivery["attempt"] == 1 and delivery["next_retry_at"] is None


def test_given_a_receiver_failing_twice_then_the_event_arrives_on_the_third_try(
    aws, api, tenant, receiver, deps
):
    from sendrail.services import webhooks

    receiver.statuses = [500, 500]
    with time_machine.travel(START, tick=False) as clock:
        hook = make_hook(api, receiver.url, ["bounced", "unsubscribed"])
        webhooks.emit(deps, tenant["id"], "bounced", {"email": "gone@example.com"})
        webhooks.emit(deps, tenant["id"], "sent", {"email": "ignored@example.com"})
        assert deliver_all(aws) == 1
        clock.shift(31)
        assert deliver_all(aws) == 1
        clock.shift(61)
        assert deliver_all(aws) == 1
        assert deliver_all(aws) == 0
        events = receiver.events(hook["secret"], int(time.time()))
        assert [e["type"] for e in events] == ["bounced"] * 3
        assert len({e["id"] for e in events}) == 1  # the same event: receivers de-duplicate
        assert events[0]["data"] == {"email": "gone@example.com"}
        attempts = api.get(f"/api/webhooks/{hook['id']}/deliveries").body["items"]
        assert [(a["attempt"], a["status_code"], a["outcome"]) for a in attempts] == [
            (3, 200, "delivered"),
            (2, 500, "retrying"),
            (1, 500, "retrying"),
        ]
        assert attempts[2]["next_retry_at"] == "2026-11-23T08:00:30Z"


def test_given_a_receiver_down_for_a_day_then_the_delivery_is_recorded_failed(
    aws, api, tenant, receiver, deps
):
    from sendrail.services import webhooks

    receiver.statuses = [503] * 100
    with time_machine.travel(START, tick=False) as clock:
        hook = make_hook(api, receiver.url)
        webhooks.emit(deps, tenant["id"], "bounced", {"email": "gone@example.com"})
        for _ in range(200):  # bounded: the schedule gives up after a day
            deliver_all(aws)
            last = api.get(f"/api/webhooks/{hook['id']}/deliveries?limit=1").body["items"]
            if last and last[0]["outcome"] == "failed":
                break
            clock.shift(15 * 60)
        assert last[0]["outcome"] == "failed" and last[0]["next_retry_at"] is None
        assert last[0]["status_code"] == 503 and last[0]["attempt"] > 10
        clock.shift(3 * 3600)
        assert deliver_all(aws) == 0  # nothing left in the queue


def test_given_many_sends_then_they_travel_a_hundred_to_an_event(aws, api, tenant, receiver, deps):
    from sendrail.services import webhooks

    with time_machine.travel(START, tick=False):
        hook = make_hook(api, receiver.url, ["sent"])
        items = [{"email": f"r{n}@example.com"} for n in range(250)]
        webhooks.emit_many(deps, tenant["id"], "sent", items)
        assert deliver_all(aws) == 3
        events = receiver.events(hook["secret"], int(time.time()))
        assert sorted(len(e["data"]["items"]) for e in events) == [50, 100, 100]


def test_given_a_deleted_webhook_then_queued_events_are_dropped(aws, api, tenant, receiver, deps):
    from sendrail.services import webhooks

    hook = make_hook(api, receiver.url)
    webhooks.emit(deps, tenant["id"], "bounced", {"email": "gone@example.com"})
    assert api.delete(f"/api/webhooks/{hook['id']}").status == 204
    assert deliver_all(aws) == 1 and receiver.got == []
    assert api.get(f"/api/webhooks/{hook['id']}").status == 404


ALL = [
    "sent",
    "opened",
    "bounced",
    "unsubscribed",
    "campaign_completed",
    "mailbox_paused",
    "mailbox_needs_reauth",
]


def test_given_a_campaign_then_its_events_reach_the_receiver_signed(
    aws, api, tenant, receiver, sink, dispatch
):
    from tests.integration.test_bounces import dsn
    from tests.integration.test_tracking import BROWSER, _token

    server, outbox = sink
    with time_machine.travel(START, tick=False):
        hook = make_hook(api, receiver.url, ALL)
        mailbox = api.post("/api/mailboxes", smtp_mailbox(server.port)).body["id"]
        html = '<p>h <a href="{{ unsubscribe_url }}">unsubscribe</a></p>'
        cid = api.post("/api/campaigns", {"name": "n", "subject": "s", "html": html}).body["id"]
        rows = [{"email": "ann@x.example"}, {"email": "bob@x.example"}]
        api.post(f"/api/campaigns/{cid}/recipients", {"recipients": rows})
        assert api.post(f"/api/campaigns/{cid}/start").status == 202
        dispatch()
        dispatch()
        assert api.get(f"/api/campaigns/{cid}").body["status"] == "completed"
        mail = {m.to: m for m in outbox.items()}
        # ann bounces; bob unsubscribes with one click; the owner pauses the mailbox.
        raw = dsn(mail["ann@x.example"].message_id, {"ann@x.example": "5.1.1"})
        assert api.post("/api/bounces", raw=raw, content_type="message/rfc822").status == 200
        link = mail["bob@x.example"].headers["List-Unsubscribe"].strip("<>")
        one_click = Api("tracking").post(
            link[link.index("/unsubscribe/") :],
            raw=b"List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert one_click.status == 200
        assert api.post(f"/api/mailboxes/{mailbox}/pause").status == 200
        # bob's mail is opened twice: one `opened` event (the first open).
        pixel = f"/track/open/{_token(mail['bob@x.example'].html, 'open')}"
        for _ in range(2):
            assert Api("tracking").get(pixel, headers=BROWSER).status == 200
        hostile = {"url": "http://[::1/x", "events": ["sent"]}
        assert api.post("/api/webhooks", hostile).status == 422
        deliver_all(aws, rounds=10)
        events = receiver.events(hook["secret"], int(time.time()))
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    assert set(by_type) == {
        "sent",
        "opened",
        "campaign_completed",
        "bounced",
        "unsubscribed",
        "mailbox_paused",
    }
    (sends,) = by_type["sent"]  # one event for both sends
    assert sorted(i["email"] for i in sends["data"]["items"]) == ["ann@x.example", "bob@x.example"]
    assert by_type["campaign_completed"][0]["data"] == {"campaign_id": cid}
    assert by_type["bounced"][0]["data"]["email"] == "ann@x.example"
    assert by_type["unsubscribed"][0]["data"] == {"email": "bob@x.example", "campaign_id": cid}
    assert by_type["mailbox_paused"][0]["data"]["mailbox_id"] == mailbox
    (opened,) = by_type["opened"]
    assert opened["data"]["items"] == [{"email": "bob@x.example", "campaign_id": cid}]


def test_given_a_mailbox_losing_its_grant_then_needs_reauth_is_delivered(
    aws, api, tenant, receiver, deps
):
    from sendrail.services import oauth

    with time_machine.travel(START, tick=False):
        hook = make_hook(api, receiver.url, ["mailbox_needs_reauth"])
        created = api.post("/api/mailboxes", smtp_mailbox(2525)).body
        mailbox, _ = deps.mailboxes.get(tenant["id"], created["id"])
        oauth.needs_reauth(deps, mailbox, "invalid_grant")
        oauth.needs_reauth(deps, mailbox, "invalid_grant")  # already flagged: no second event
        assert deliver_all(aws) == 1
        (event,) = receiver.events(hook["secret"], int(time.time()))
    assert event["type"] == "mailbox_needs_reauth"
    assert event["data"]["mailbox_id"] == created["id"]


def test_given_a_reply_read_from_the_inbox_then_replied_is_delivered(
    aws,
    api,
    tenant,
    receiver,
    deps,
    sent,  # noqa: F811
    imap,  # noqa: F811
):
    from sendrail.providers.base import ProviderConfig
    from sendrail.services import inbox

    # The inbox tests' setup (fixtures imported above): a campaign sent from an SMTP
    # mailbox whose inbox is read over IMAP.
    cid, mailbox_id, ids = sent
    hook = make_hook(api, receiver.url, ["replied"])
    imap.deliver(SENDER, answer(ids["cat@x.example"], "cat@x.example", "Tell me more"))
    mailbox, _ = deps.mailboxes.require(tenant["id"], mailbox_id)
    config = ProviderConfig(smtp_timeout=10, allow_private_hosts=True)  # IMAP on 127.0.0.1
    reader = inbox.open_reader(deps, mailbox, config)
    try:
        assert inbox.watch(deps, mailbox, reader).replies == 1
    finally:
        reader.close()
    assert deliver_all(aws) == 1
    (event,) = receiver.events(hook["secret"], int(time.time()))
    assert event["type"] == "replied"
    assert event["data"]["email"] == "cat@x.example" and event["data"]["campaign_id"] == cid


def test_given_opens_one_at_a_time_then_a_batch_of_them_is_one_event(
    aws, api, tenant, receiver, deps
):
    from sendrail.services import webhooks

    hook = make_hook(api, receiver.url, ["opened"])
    for n in range(10):
        webhooks.collect(deps, tenant["id"], "opened", {"email": f"r{n}@example.com"})
    assert deps.queues.depth("webhook-items")["visible"] == 10
    assert deliver_all(aws) == 1  # ten items in one batch: one event, one POST
    (event,) = receiver.events(hook["secret"], int(time.time()))
    assert event["type"] == "opened" and len(event["data"]["items"]) == 10
    # No endpoint listening: nothing is queued at all.
    webhooks.collect(deps, tenant["id"], "sent", {"email": "x@example.com"})
    assert deps.queues.depth("webhook-items")["visible"] == 0


def test_given_dispatch_pausing_a_mailbox_then_mailbox_paused_is_delivered(
    aws, api, tenant, receiver
):
    from tests.conftest import run_dispatch
    from tests.fakes.smtp import ScriptedSmtp
    from tests.integration.test_dispatch import campaign

    refusing = ScriptedSmtp(auth_ok=False).start()
    try:
        with time_machine.travel(START, tick=False):
            hook = make_hook(api, receiver.url, ["mailbox_paused", "mailbox_needs_reauth"])
            smtp = {
                "host": "127.0.0.1",
                "port": refusing.port,
                "security": "none",
                "username": "u",
                "password": "wrong-password",
            }
            bad = api.post("/api/mailboxes", smtp_mailbox(refusing.port, smtp=smtp)).body
            campaign(api, ["r@example.com"])
            run_dispatch()
            assert api.get(f"/api/mailboxes/{bad['id']}").body["status"] == "paused"
            assert deliver_all(aws) == 1
            (event,) = receiver.events(hook["secret"], int(time.time()))
    finally:
        refusing.stop()
    assert event["type"] == "mailbox_paused"
    assert event["data"]["mailbox_id"] == bad["id"]
    assert "authentication" in event["data"]["reason"]
