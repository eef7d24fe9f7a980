"""The inbox watcher reading an SMTP mailbox's inbox over IMAP, from a real IMAP server
(pymap) on 127.0.0.1: DSNs pause the mailbox, replies are listed, nothing is marked read,
nothing is read twice or skipped (checkpoints, UIDVALIDITY changes, bounded runs)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from imapclient import IMAPClient
from sendrail.providers.base import ProviderConfig
from sendrail.providers.inbox_base import MAX_MESSAGE_BYTES, InboxUnavailable
from sendrail.providers.inboxes import readable
from sendrail.services import inbox
from sendrail_local.events import scheduled_event
from sendrail_local.imap_server import LocalImapServer
from sendrail_local.lambdas import LocalContext

from tests.conftest import Api, free_port, smtp_mailbox
from tests.integration.test_bounces import dsn
from tests.integration.test_inbox_apply import answer

SENDER = "sender@example.com"


@pytest.fixture
def imap() -> Iterator[LocalImapServer]:
    with LocalImapServer(free_port()) as server:
        yield server


def imap_settings(server: LocalImapServer, **extra: Any) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": server.port, "security": "none", "password": "pw", **extra}


@pytest.fixture
def sent(
    api: Api, tenant: dict[str, Any], sink: Any, dispatch: Any, imap: LocalImapServer
) -> Iterator[Any]:
    """Given an SMTP mailbox with IMAP settings that sent a campaign to ann, bob and cat."""
    server, outbox = sink
    with time_machine.travel("2026-11-23T09:00:00Z", tick=False):
        body = smtp_mailbox(server.port, imap=imap_settings(imap))
        created = api.post("/api/mailboxes", body)
        assert created.status == 201, created.raw
        assert (
            created.body["imap"]["host"] == "127.0.0.1" and "password" not in created.body["imap"]
        )
        mailbox_id = created.body["id"]
        cid = api.post("/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}).body[
            "id"
        ]
        rows = [{"email": f"{n}@x.example"} for n in ("ann", "bob", "cat")]
        api.post(f"/api/campaigns/{cid}/recipients", {"recipients": rows})
        api.post(f"/api/campaigns/{cid}/start")
        dispatch()
        ids = {m.to: m.message_id for m in outbox.items()}
        yield cid, mailbox_id, ids


def watch(deps: Any, tenant_id: str, mailbox_id: str, **kw: Any) -> inbox.InboxReport:
    mailbox, _ = deps.mailboxes.require(tenant_id, mailbox_id)
    assert readable(mailbox)
    reader = inbox.open_reader(
        deps, mailbox, ProviderConfig(smtp_timeout=10, allow_private_hosts=True)
    )
    try:
        return inbox.watch(deps, mailbox, reader, **kw)
    finally:
        reader.close()


def flags(server: LocalImapServer, user: str) -> dict[int, tuple[bytes, ...]]:
    with IMAPClient("127.0.0.1", server.port, ssl=False) as client:
        client.login(user, "x")
        client.select_folder("INBOX", readonly=True)
        return dict(client.get_flags(client.search(["ALL"])))


def test_given_dsns_and_replies_in_the_inbox_then_they_are_applied_once_and_left_unread(
    api, deps, tenant, sent, imap
):
    cid, mailbox_id, ids = sent
    settings = api.get("/api/settings/sending").body
    settings.update(rate_min_sent=2, bounce_rate_pause=0.5)
    api.put("/api/settings/sending", settings)
    imap.deliver(SENDER, b"From: friend@personal.example\r\nSubject: lunch?\r\n\r\nhi\r\n")
    imap.deliver(SENDER, dsn(ids["ann@x.example"], {"ann@x.example": "5.1.1"}))
    imap.deliver(SENDER, dsn(ids["bob@x.example"], {"bob@x.example": "5.1.1"}))
    imap.deliver(SENDER, answer(ids["cat@x.example"], "cat@x.example", "Tell me more"))
    before = flags(imap, SENDER)

    report = watch(deps, tenant["id"], mailbox_id)

    assert (report.read, report.hard, report.replies, report.ignored) == (4, 2, 1, 1)
    assert report.paused_mailboxes == [mailbox_id]
    assert api.get(f"/api/mailboxes/{mailbox_id}").body["status"] == "paused"
    stats = api.get(f"/api/campaigns/{cid}/stats").body
    assert (stats["bounced"], stats["replied"]) == (2, 1)
    assert [r["email"] for r in api.get("/api/replies").body["items"]] == ["cat@x.example"]
    assert flags(imap, SENDER) == before  # nothing marked \Seen
    # Then a second run reads nothing; a new message is read alone.
    assert watch(deps, tenant["id"], mailbox_id).read == 0
    imap.deliver(SENDER, answer(ids["ann@x.example"], "ann@x.example", "Wrong address, sorry"))
    again = watch(deps, tenant["id"], mailbox_id)
    assert (again.read, again.replies) == (1, 1)
    assert api.get(f"/api/campaigns/{cid}/stats").body["replied"] == 2


def test_given_a_bounded_run_then_the_rest_is_read_next_time_without_skipping(
    api, deps, tenant, sent, imap
):
    cid, mailbox_id, ids = sent
    for n in range(5):
        imap.deliver(SENDER, f"From: n{n}@news.example\r\nSubject: {n}\r\n\r\nx\r\n".encode())
    imap.deliver(SENDER, answer(ids["ann@x.example"], "ann@x.example", "Yes"))
    runs = [watch(deps, tenant["id"], mailbox_id, limit=2).read for _ in range(4)]
    assert runs == [2, 2, 2, 0]
    assert api.get(f"/api/campaigns/{cid}/stats").body["replied"] == 1


def test_given_the_uidvalidity_changes_then_reading_restarts_and_counts_once(
    api, deps, tenant, sent, imap
):
    cid, mailbox_id, ids = sent
    api.patch(f"/api/mailboxes/{mailbox_id}", {"imap": imap_settings(imap, folder="Replies")})
    reply = answer(ids["ann@x.example"], "ann@x.example", "Yes")
    imap.deliver(SENDER, reply, folder="Replies")
    assert watch(deps, tenant["id"], mailbox_id).replies == 1
    # The folder is rebuilt: same mail, new UIDs, plus a new reply.
    with IMAPClient("127.0.0.1", imap.port, ssl=False) as client:
        client.login(SENDER, "x")
        client.delete_folder("Replies")
    imap.deliver(SENDER, reply, folder="Replies")
    imap.deliver(SENDER, answer(ids["bob@x.example"], "bob@x.example", "No"), folder="Replies")
    report = watch(deps, tenant["id"], mailbox_id)
    assert (report.read, report.duplicates, report.replies) == (2, 1, 1)
    assert api.get(f"/api/campaigns/{cid}/stats").body["replied"] == 2


def test_given_a_refused_connection_then_the_inbox_is_unavailable(api, deps, tenant, sent, imap):
    _, mailbox_id, _ = sent
    api.patch(
        f"/api/mailboxes/{mailbox_id}",
        {"imap": {"host": "127.0.0.1", "port": free_port(), "security": "none"}},
    )
    with pytest.raises(InboxUnavailable):
        watch(deps, tenant["id"], mailbox_id)


def test_given_several_mailboxes_then_one_run_reads_each_and_skips_an_unreachable_one(
    api, deps, tenant, sent, imap
):
    cid, _, ids = sent
    broken = smtp_mailbox(1, email="other@example.com")
    broken["imap"] = {"host": "127.0.0.1", "port": free_port(), "security": "none"}
    broken_id = api.post("/api/mailboxes", broken).body["id"]
    api.post("/api/mailboxes", smtp_mailbox(1, email="no-imap@example.com"))
    imap.deliver(SENDER, answer(ids["ann@x.example"], "ann@x.example", "Yes"))
    report = inbox.watch_all(deps, ProviderConfig(smtp_timeout=10, allow_private_hosts=True))
    assert (report.mailboxes, report.replies, report.unavailable) == (2, 1, [broken_id])
    assert api.get(f"/api/campaigns/{cid}/stats").body["replied"] == 1


def test_given_imap_settings_on_a_gmail_mailbox_then_422(api, tenant, imap):
    body = {"provider": "gmail", "email": "g@example.com", "imap": imap_settings(imap)}
    reply = api.post("/api/mailboxes", body)
    assert reply.status == 422 and reply.body["error"]["code"] == "validation_failed"


def test_given_the_scheduled_function_then_it_reads_the_inbox_and_pauses_the_mailbox(
    api, deps, tenant, sent, imap
):
    from functions.inbox import handler as inbox_function
    from functions.inbox.wiring import wiring as inbox_wiring

    cid, mailbox_id, ids = sent
    settings = api.get("/api/settings/sending").body
    settings.update(rate_min_sent=2, bounce_rate_pause=0.5)
    api.put("/api/settings/sending", settings)
    for who in ("ann@x.example", "bob@x.example"):
        imap.deliver(SENDER, dsn(ids[who], {who: "5.1.1"}))
    inbox_wiring.reset()
    try:
        result = inbox_function.handler(
            scheduled_event("sendrail-inbox", datetime.now(UTC)), LocalContext("inbox", 120)
        )
    finally:
        inbox_wiring.reset()
    assert (result["mailboxes"], result["hard"], result["paused_mailboxes"]) == (1, 2, [mailbox_id])
    assert api.get(f"/api/mailboxes/{mailbox_id}").body["status"] == "paused"
    assert api.get(f"/api/campaigns/{cid}/stats").body["bounced"] == 2


def test_given_a_large_reply_then_only_its_start_is_fetched_and_it_still_counts(
    api, deps, tenant, sent, imap
):
    cid, mailbox_id, ids = sent
    reply = answer(ids["ann@x.example"], "ann@x.example", "Yes!\r\n\r\n" + "x" * 80 + "\r\n")
    attachment = b"A" * (MAX_MESSAGE_BYTES + 1000)
    imap.deliver(SENDER, reply.replace(b"\r\n> hello\r\n", b"\r\n> hello\r\n" + attachment))
    report = watch(deps, tenant["id"], mailbox_id)
    assert (report.read, report.replies) == (1, 1)
    assert api.get(f"/api/campaigns/{cid}/stats").body["replied"] == 1


def test_given_imap_settings_removed_then_the_mailbox_is_no_longer_read(
    api, deps, tenant, sent, imap
):
    _, mailbox_id, _ = sent
    assert api.patch(f"/api/mailboxes/{mailbox_id}", {"imap": None}).status == 200
    mailbox, _ = deps.mailboxes.require(tenant["id"], mailbox_id)
    assert mailbox.imap is None and mailbox.imap_secret is None and not readable(mailbox)
    assert (
        inbox.watch_all(deps, ProviderConfig(smtp_timeout=10, allow_private_hosts=True)).mailboxes
        == 0
    )


def test_given_a_first_read_long_after_creation_then_only_the_last_week_is_read(
    api, deps, tenant, sent, imap
):
    _, mailbox_id, ids = sent
    old = answer(ids["ann@x.example"], "ann@x.example", "Old news")
    recent = answer(ids["bob@x.example"], "bob@x.example", "Recent")
    imap.deliver(SENDER, old, when=datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    imap.deliver(SENDER, recent, when=datetime(2026, 12, 18, 9, 0, tzinfo=UTC))
    with time_machine.travel("2026-12-20T09:00:00Z", tick=False):
        report = watch(deps, tenant["id"], mailbox_id)
    assert (report.read, report.replies) == (1, 1)
    assert [r["email"] for r in api.get("/api/replies").body["items"]] == ["bob@x.example"]
