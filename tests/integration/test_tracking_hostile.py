"""The public tracking endpoints against hostile links and framing (issue 12): a click
never answers with a line break in a header, and the HTML pages are served with a content
security policy, no framing, no sniffing and no referrer."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sendrail.domain import tracking
from sendrail.domain.tracking import Target

from tests.conftest import TEST_SIGNING_KEY, Api, Reply, smtp_mailbox

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/133.0"}
INJECTION = "https://shop.example/a&#13;&#10;Set-Cookie: sid=evil&#13;&#10;&#13;&#10;<script>"


def _header_values(reply: Reply) -> list[str]:
    return [f"{name}: {value}" for name, value in reply.headers.items()]


def _assert_no_control_characters(reply: Reply) -> None:
    for line in _header_values(reply):
        assert line.isascii() and line.isprintable(), repr(line)
    assert "set-cookie" not in {name.lower() for name in reply.headers}


@pytest.fixture
def sent(api: Api, tenant: dict[str, Any], sink: Any, dispatch: Any) -> Any:
    """Given a campaign whose author hid encoded line breaks in a link, sent to ann."""
    server, outbox = sink
    html = (
        f'<html><body><a href="{INJECTION}">sale</a>'
        '<a href="{{ unsubscribe_url }}">unsubscribe</a></body></html>'
    )
    with time_machine.travel("2026-11-23T09:00:00Z", tick=False):
        assert api.post("/api/mailboxes", smtp_mailbox(server.port)).status == 201
        reply = api.post(
            "/api/campaigns", {"name": "c", "subject": "s", "html": html, "track_clicks": True}
        )
        cid = str(reply.body["id"])
        rows = [{"email": "ann@x.example"}]
        assert api.post(f"/api/campaigns/{cid}/recipients", {"recipients": rows}).status == 200
        assert api.post(f"/api/campaigns/{cid}/start").status == 202
        dispatch()
    mail = {m.to: m for m in outbox.items()}
    return tenant["id"], cid, mail["ann@x.example"]


def test_given_encoded_line_breaks_in_a_link_then_the_redirect_has_none(api, sent):
    _, cid, mail = sent
    token = re.search(r"/track/click/([A-Za-z0-9_.\-]+)", mail.html)
    assert token, mail.html
    reply = Api("tracking").get(f"/track/click/{token.group(1)}", headers=BROWSER)
    assert reply.status == 302
    _assert_no_control_characters(reply)
    assert reply.headers["Location"] == "https://shop.example/aSet-Cookie:%20sid=evil<script>"
    assert api.get(f"/api/campaigns/{cid}/stats").body["clicked"] == 1


def test_given_a_signed_token_carrying_a_line_break_then_it_is_a_404(api, sent):
    """A token signed before the rewriter was fixed verifies, but never redirects."""
    tenant_id, cid, _ = sent
    url = "https://shop.example/a\r\nSet-Cookie:sid=evil"  # no space: only the break
    value = tracking.token(
        TEST_SIGNING_KEY.encode(), tracking.CLICK, Target(tenant_id, cid, "ann@x.example", url)
    )
    reply = Api("tracking").get(f"/track/click/{value}", headers=BROWSER)
    assert reply.status == 404
    _assert_no_control_characters(reply)
    assert api.get(f"/api/campaigns/{cid}/stats").body["clicked"] == 0


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=30))
def test_given_any_signed_url_then_a_click_never_puts_a_control_character_in_a_header(sent, tail):
    tenant_id, cid, _ = sent
    target = Target(tenant_id, cid, "ann@x.example", "https://shop.example/" + tail)
    value = tracking.token(TEST_SIGNING_KEY.encode(), tracking.CLICK, target)
    reply = Api("tracking").get(f"/track/click/{value}", headers=BROWSER)
    assert reply.status in (302, 404)
    _assert_no_control_characters(reply)
    if reply.status == 302:
        assert reply.headers["Location"] == target.url


def _unsubscribe_token(mail: Any) -> str:
    match = re.search(r"/unsubscribe/([A-Za-z0-9_.\-]+)", mail.html)
    assert match, mail.html
    return match.group(1)


@pytest.mark.parametrize(
    ("method", "good"), [("GET", True), ("POST", True), ("GET", False), ("POST", False)]
)
def test_given_the_public_pages_then_they_cannot_be_framed_sniffed_or_leak_the_token(
    sent, method, good
):
    _, _, mail = sent
    token = _unsubscribe_token(mail) if good else "not-a-token"
    reply = Api("tracking").call(method, f"/unsubscribe/{token}", headers=BROWSER)
    assert reply.status == (200 if good else 404)
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    policy = dict(
        part.strip().split(" ", 1) for part in reply.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    # The page's one style block is what the policy allows, and there is no script.
    style = re.search(r"<style>(.*?)</style>", reply.raw, re.DOTALL)
    assert style is not None and "<script" not in reply.raw
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert policy["style-src"] == f"'sha256-{digest}'"
