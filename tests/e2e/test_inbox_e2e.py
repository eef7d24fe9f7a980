"""End to end through the local stack and its virtual clock: an SMTP mailbox whose inbox
is on the stack's IMAP server receives DSNs and a reply; the scheduled inbox watcher
reads them, pauses the mailbox on its bounce rate and lists the reply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from imapclient import IMAPClient

from tests.conftest import free_port
from tests.e2e.conftest import Stack, start_stack, stop_stack
from tests.integration.test_bounces import dsn
from tests.integration.test_inbox_apply import answer

SENDER = "news@example.com"


@pytest.fixture(scope="module")
def imap_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, int]]:
    port = free_port()
    running = start_stack(
        tmp_path_factory.mktemp("inbox"), extra_env={"SENDRAIL_LOCAL_IMAP_PORT": str(port)}
    )
    yield running, port
    stop_stack(running)


def deliver(port: int, raw: bytes) -> None:
    """As the recipient's MTA would: into the sender's inbox on the stack's IMAP server."""
    with IMAPClient("127.0.0.1", port, ssl=False, timeout=10) as client:
        client.login(SENDER, "any password")
        client.append("INBOX", raw)


def test_given_dsns_and_a_reply_in_the_inbox_then_the_watcher_pauses_and_lists(
    imap_stack: tuple[Stack, int], tmp_path: Path
):
    stack, imap_port = imap_stack
    http = stack.http
    status, mailbox, _ = http.post(
        "/api/mailboxes",
        {
            "provider": "smtp",
            "email": SENDER,
            "daily_limit": 100,
            "smtp": {"host": "127.0.0.1", "port": stack.smtp_port, "security": "none"},
            "imap": {"host": "127.0.0.1", "port": imap_port, "security": "none"},
        },
    )
    assert status == 201, mailbox
    status, settings, _ = http.get("/api/settings/sending")
    settings.update(rate_min_sent=2, bounce_rate_pause=0.5)
    assert http.call("PUT", "/api/settings/sending", settings)[0] == 200
    cid = http.post("/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"})[1]["id"]
    rows = [{"email": f"{n}@example.org"} for n in ("ann", "bob", "cy")]
    http.post(f"/api/campaigns/{cid}/recipients", {"recipients": rows})
    http.post(f"/api/campaigns/{cid}/start")
    http.advance(60)
    sent = {m["to"]: m["message_id"] for m in http.get("/_local/outbox", token="")[1]["items"]}
    assert set(sent) == {"ann@example.org", "bob@example.org", "cy@example.org"}

    for who in ("ann@example.org", "bob@example.org"):
        deliver(imap_port, dsn(sent[who], {who: "5.1.1"}))
    deliver(imap_port, answer(sent["cy@example.org"], "cy@example.org", "Call me tomorrow"))
    http.advance(120)  # the inbox schedule fires

    status, box, _ = http.get(f"/api/mailboxes/{mailbox['id']}")
    assert box["status"] == "paused" and "bounce rate" in box["pause_reason"]
    stats = http.get(f"/api/campaigns/{cid}/stats")[1]
    assert (stats["bounced"], stats["replied"]) == (2, 1)
    replies = http.get(f"/api/replies?campaign_id={cid}")[1]["items"]
    assert [(r["email"], r["kind"], r["snippet"]) for r in replies] == [
        ("cy@example.org", "reply", "Call me tomorrow")
    ]
    suppressed = {s["email"] for s in http.get("/api/suppressions")[1]["items"]}
    assert suppressed == {"ann@example.org", "bob@example.org"}


def test_given_recipients_that_answer_then_the_watcher_sees_each_answer_on_the_stack_clock(
    imap_stack: tuple[Stack, int],
):
    stack, imap_port = imap_stack
    http = stack.http
    sender = "hello@answers.example"
    status, mailbox, _ = http.post(
        "/api/mailboxes",
        {
            "provider": "smtp",
            "email": sender,
            "daily_limit": 100,
            "smtp": {"host": "127.0.0.1", "port": stack.smtp_port, "security": "none"},
            "imap": {"host": "127.0.0.1", "port": imap_port, "security": "none"},
        },
    )
    assert status == 201, mailbox
    cid = http.post("/api/campaigns", {"name": "a", "subject": "Hi", "html": "<p>Hi</p>"})[1]["id"]
    people = ["bounce1", "softbounce1", "reply1", "ooo1", "plain1"]
    rows = [{"email": f"{p}@answers.example"} for p in people]
    http.post(f"/api/campaigns/{cid}/recipients", {"recipients": rows})
    http.post(f"/api/campaigns/{cid}/start")
    http.advance(60)  # dispatch sends; the out-of-office answer comes at once
    kinds = [m["kind"] for m in http.get(f"/_local/outbox?to={sender}", token="")[1]["items"]]
    assert kinds == ["auto_reply"]
    http.advance(300)  # the bounces (after 1 minute) are read by the next inbox run
    stats = http.get(f"/api/campaigns/{cid}/stats")[1]
    assert (stats["bounced"], stats["soft_bounced"], stats["auto_replied"]) == (1, 1, 1)
    assert stats["replied"] == 0  # the human takes ten minutes
    http.advance(900)
    stats = http.get(f"/api/campaigns/{cid}/stats")[1]
    assert stats["replied"] == 1
    replies = http.get(f"/api/replies?mailbox_id={mailbox['id']}")[1]["items"]
    assert sorted((r["email"], r["kind"]) for r in replies) == [
        ("ooo1@answers.example", "auto_reply"),
        ("reply1@answers.example", "reply"),
    ]
    answers = http.get(f"/_local/outbox?to={sender}", token="")[1]["items"]
    assert sorted(m["kind"] for m in answers) == [
        "auto_reply",
        "hard_bounce",
        "reply",
        "soft_bounce",
    ]
