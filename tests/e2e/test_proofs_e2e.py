"""Preview and proofs end to end through the local stack's HTTP front: a draft's preview,
a proof landing in the sink's outbox at once, and the campaign's real mail, once started,
matching the preview."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Stack, start_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-proofs")]

TOKEN = re.compile(r"/(track/open|track/click|unsubscribe)/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")


@pytest.fixture(scope="module")
def proofs_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("proofs"))
    yield running
    stop_stack(running)


def untokened(text: str) -> str:
    return TOKEN.sub(lambda m: f"/{m.group(1)}/<token>", text)


def test_given_a_draft_then_preview_and_test_send_work_over_http(proofs_stack: Stack):
    api = proofs_stack.http
    smtp = {"host": "127.0.0.1", "port": proofs_stack.smtp_port, "security": "none"}
    status, mailbox, _ = api.post(
        "/api/mailboxes",
        {"provider": "smtp", "email": "news@example.com", "daily_limit": 3, "smtp": smtp},
    )
    assert status == 201, mailbox
    html = (
        "<html><body><p>Hi {{ name }}</p><a href='https://shop.example/new'>new</a></body></html>"
    )
    status, campaign, _ = api.post(
        "/api/campaigns", {"name": "News", "subject": "News for {{ name }}", "html": html}
    )
    assert status == 201, campaign
    cid = campaign["id"]
    rows = [{"email": "ann@example.org", "data": {"name": "Ann"}}]
    assert api.post(f"/api/campaigns/{cid}/recipients", {"recipients": rows})[0] == 200

    # Preview of the draft, for Ann
    status, preview, _ = api.post(f"/api/campaigns/{cid}/preview", {"email": "ann@example.org"})
    assert status == 200, preview
    assert preview["subject"] == "News for Ann" and preview["mailbox_id"] == mailbox["id"]
    assert "/track/click/" in preview["html"] and "/unsubscribe/" in preview["text"]
    assert preview["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # A proof arrives at once (no clock advance), not in the campaign
    status, sent, _ = api.post(
        f"/api/campaigns/{cid}/test", {"to": ["me@acme.example"], "email": "ann@example.org"}
    )
    assert status == 202, sent
    assert sent["subject"] == "[Test] News for Ann"
    proofs = api.get("/_local/outbox?to=me@acme.example", token="")[1]["items"]
    assert [m["subject"] for m in proofs] == ["[Test] News for Ann"]
    assert proofs[0]["from"] == "news@example.com"  # through the campaign's mailbox
    servers = {s["id"]: s for s in api.get("/api/queue/servers")[1]["items"]}
    assert servers[mailbox["id"]]["daily_used"] == 1
    assert api.get(f"/api/campaigns/{cid}/stats")[1]["sent"] == 0

    # Over the mailbox's limit: 409, nothing more sent
    status, refused, _ = api.post(
        f"/api/campaigns/{cid}/test", {"to": ["a@acme.example", "b@acme.example", "c@acme.example"]}
    )
    assert status == 409 and refused["error"]["code"] == "limit_reached", refused

    # Started, Ann's real message is the preview (its tokens aside: the preview's are marked)
    assert api.post(f"/api/campaigns/{cid}/start")[0] == 202
    api.advance(120)
    real = api.get("/_local/outbox?to=ann@example.org", token="")[1]["items"]
    assert len(real) == 1
    assert real[0]["subject"] == preview["subject"]
    assert untokened(real[0]["html"]) == untokened(preview["html"])
    assert untokened(real[0]["text"]) == untokened(preview["text"])
    assert real[0]["headers"]["Message-ID"] == preview["headers"]["Message-ID"]
    assert real[0]["headers"]["From"] == preview["headers"]["From"]
