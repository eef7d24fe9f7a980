"""Applying inbox messages: DSNs, replies, auto-replies and unsubscribe replies read from
a sending mailbox, seen through the API (stats, report, suppressions, ``/api/replies``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from sendrail.domain.inbox_classify import InboxKind
from sendrail.services import inbox
from sendrail.storage.tables import MODELS

from tests.conftest import Api, smtp_mailbox
from tests.integration.test_bounces import dsn


def answer(
    message_id: str, sender: str, body: str, subject: str = "Re: s", **headers: str
) -> bytes:
    """A reply as a mail client writes it: In-Reply-To and References name our message."""
    extra = "".join(f"{name.replace('_', '-')}: {value}\r\n" for name, value in headers.items())
    return (
        f"From: Someone <{sender}>\r\nTo: sender@example.com\r\nSubject: {subject}\r\n"
        f"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        f"Message-ID: <{abs(hash((message_id, sender, body)))}@client.example>\r\n"
        f"In-Reply-To: {message_id}\r\nReferences: {message_id}\r\n{extra}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n\r\n"
        f"On Mon, Nov 23, 2026 Sender <sender@example.com> wrote:\r\n> hello\r\n"
    ).encode()


@pytest.fixture
def sent(api: Api, tenant: dict[str, Any], sink: Any, dispatch: Any, deps: Any) -> Iterator[Any]:
    """Given a campaign sent to ann, bob and cat from one SMTP mailbox."""
    server, outbox = sink
    with time_machine.travel("2026-11-23T09:00:00Z", tick=False):
        mailbox_id = api.post("/api/mailboxes", smtp_mailbox(server.port)).body["id"]
        cid = api.post("/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}).body[
            "id"
        ]
        rows = [{"email": f"{n}@x.example"} for n in ("ann", "bob", "cat")]
        api.post(f"/api/campaigns/{cid}/recipients", {"recipients": rows})
        api.post(f"/api/campaigns/{cid}/start")
        dispatch()
        ids = {m.to: m.message_id for m in outbox.items()}
        mailbox, _ = deps.mailboxes.require(tenant["id"], mailbox_id)
        yield cid, mailbox, ids


class DynamoCalls:
    """Counts the DynamoDB calls of every table's client (botocore's event hooks)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        for model in MODELS.values():
            client = model._get_connection().connection.client
            client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any = None, **_: Any) -> None:
        self.calls[model.name] += 1

    def writes(self) -> int:
        return sum(
            n
            for op, n in self.calls.items()
            if not op.startswith(("Get", "Query", "Batch", "Scan"))
        )


def test_given_a_reply_then_the_recipient_has_replied_at_and_it_is_listed(api, deps, sent):
    cid, mailbox, ids = sent
    with time_machine.travel("2026-11-23T10:05:00Z", tick=False):
        raw = answer(ids["ann@x.example"], "Ann@X.example", "Yes, interested!")
        assert inbox.handle(deps, mailbox, raw) is InboxKind.REPLY
        # Read again (a reset checkpoint): nothing moves twice.
        assert inbox.handle(deps, mailbox, raw) is InboxKind.REPLY
    assert api.get(f"/api/campaigns/{cid}/stats").body["replied"] == 1
    rows = api.get(f"/api/campaigns/{cid}/report?format=json").body["items"]
    replied = {r["email"]: r["replied_at"] for r in rows}
    assert replied["ann@x.example"] is not None and replied["bob@x.example"] is None
    items = api.get(f"/api/replies?campaign_id={cid}").body["items"]
    assert items == [
        {
            "campaign_id": cid,
            "email": "ann@x.example",
            "mailbox_id": mailbox.id,
            "received_at": "2026-11-23T10:00:00Z",
            "subject": "Re: s",
            "snippet": "Yes, interested!",
            "kind": "reply",
        }
    ]
    assert api.get(f"/api/replies?mailbox_id={mailbox.id}").body["items"] == items
    assert api.get("/api/replies?mailbox_id=mbx_other").body["items"] == []
    assert api.get(f"/api/analytics/campaigns/{cid}").body["reply_rate"] == round(1 / 3, 4)


def test_given_an_auto_reply_then_it_is_counted_apart_and_never_as_a_reply(api, deps, sent):
    cid, mailbox, ids = sent
    raw = answer(
        ids["bob@x.example"],
        "bob@x.example",
        "I am away.",
        "Automatic reply: s",
        Auto_Submitted="auto-replied",
    )
    assert inbox.handle(deps, mailbox, raw) is InboxKind.AUTO_REPLY
    stats = api.get(f"/api/campaigns/{cid}/stats").body
    assert (stats["replied"], stats["auto_replied"]) == (0, 1)
    (item,) = api.get("/api/replies").body["items"]
    assert (item["email"], item["kind"]) == ("bob@x.example", "auto_reply")


def test_given_an_unsubscribe_reply_then_the_address_is_suppressed(api, deps, sent):
    cid, mailbox, ids = sent
    raw = answer(ids["cat@x.example"], "cat@x.example", "Unsubscribe me please")
    assert inbox.handle(deps, mailbox, raw) is InboxKind.UNSUBSCRIBE
    suppressed = api.get("/api/suppressions").body["items"]
    assert [(s["email"], s["reason"]) for s in suppressed] == [("cat@x.example", "unsubscribed")]
    assert api.get(f"/api/campaigns/{cid}/stats").body["unsubscribed"] == 1


def test_given_hard_dsns_from_the_inbox_then_the_mailbox_is_paused(api, deps, sent):
    cid, mailbox, ids = sent
    settings = api.get("/api/settings/sending").body
    settings.update(rate_min_sent=2, bounce_rate_pause=0.5)
    assert api.put("/api/settings/sending", settings).status == 200
    report = inbox.InboxReport()
    for who in ("ann@x.example", "bob@x.example"):
        inbox.handle(deps, mailbox, dsn(ids[who], {who: "5.1.1"}), report=report)
    inbox.handle(
        deps, mailbox, dsn(ids["cat@x.example"], {"cat@x.example": "4.2.2"}), report=report
    )
    assert (report.hard, report.soft, report.paused_mailboxes) == (2, 1, [mailbox.id])
    stats = api.get(f"/api/campaigns/{cid}/stats").body
    assert (stats["bounced"], stats["soft_bounced"]) == (2, 1)
    assert api.get(f"/api/mailboxes/{mailbox.id}").body["status"] == "paused"


def test_given_mail_that_is_not_ours_then_nothing_is_written(api, deps, sent):
    _, mailbox, ids = sent
    forged = ids["ann@x.example"]  # our Message-ID, but answered from another address
    messages = [
        answer("<CAF00dinner@mail.gmail.com>", "alice@friends.example", "Dinner?"),
        answer(forged, "mallory@evil.example", "Unsubscribe"),
        answer("<x@y>", "news@pub.example", "News", Precedence="bulk"),
        dsn("<other@personal.example>", {"friend@personal.example": "5.1.1"}),
    ]
    meter = DynamoCalls()
    report = inbox.InboxReport()
    for raw in messages:
        inbox.handle(deps, mailbox, raw, report=report)
    assert report.ignored == 4
    assert meter.writes() == 0, meter.calls
    assert api.get("/api/replies").body["items"] == []
    assert api.get("/api/suppressions").body["items"] == []


def test_given_many_replies_then_they_are_paged_newest_first(api, deps, sent):
    cid, mailbox, ids = sent
    for n, who in enumerate(("ann@x.example", "bob@x.example", "cat@x.example")):
        with time_machine.travel(f"2026-11-23T1{n}:00:00Z", tick=False):
            inbox.handle(deps, mailbox, answer(ids[who], who, f"Answer {n}"), deps.clock.now())
    first = api.get(f"/api/replies?campaign_id={cid}&limit=2").body
    assert [r["email"] for r in first["items"]] == ["cat@x.example", "bob@x.example"]
    second = api.get(f"/api/replies?campaign_id={cid}&limit=2&cursor={first['next_cursor']}").body
    assert [r["email"] for r in second["items"]] == ["ann@x.example"]
    assert second["next_cursor"] is None
    bad = api.get("/api/replies?limit=0")
    assert bad.status == 422 and bad.body["error"]["code"] == "validation_failed"
