"""The readers' routes through the tracking HTTP API (payload format 2.0 events, where the
links dispatch writes now point), served by the same route functions as the REST API's:
the pixel, click redirects, unsubscribe page and one-click POST, and the reader's agent and
address read from ``requestContext.http``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from sendrail_local.events import api_gateway_event, http_api_event
from sendrail_local.lambdas import Functions

from tests.conftest import Api, _reset_function_caches, smtp_mailbox
from tests.integration.test_tracking import BROWSER, PIXEL, _campaign, _token

SCANNER = {"User-Agent": "Mozilla/5.0 (compatible; Barracuda Link Scanner)"}


@pytest.fixture
def track() -> Api:
    return Api("tracking", http_api=True)


@pytest.fixture
def sent(api: Api, tenant: dict[str, Any], sink: Any, dispatch: Any) -> Any:
    """Given a tracked campaign sent to ann and bob."""
    server, outbox = sink
    with time_machine.travel("2026-11-23T09:00:00Z", tick=False):
        assert api.post("/api/mailboxes", smtp_mailbox(server.port)).status == 201
        emails = ["ann@x.example", "bob@x.example"]
        cid = _campaign(api, "Sale", emails, track_opens=True, track_clicks=True)
        assert api.post(f"/api/campaigns/{cid}/start").status == 202
        dispatch()
        mail = {m.to: m for m in outbox.items()}
        assert set(mail) == set(emails)
        yield cid, mail, outbox


def test_given_v2_opens_then_people_count_once_and_scanners_and_apple_relays_apart(
    api, sent, track
):
    cid, mail, _ = sent
    ann = _token(mail["ann@x.example"].html, "open")
    bob = _token(mail["bob@x.example"].html, "open")
    for _ in range(2):
        reply = track.get(f"/track/open/{ann}", headers=BROWSER, source_ip="198.51.100.7")
        assert reply.status == 200 and reply.headers["Content-Type"] == "image/gif"
        assert reply.raw == PIXEL and "no-store" in reply.headers["Cache-Control"]
    # A security gateway fetching images (its agent), then a browser agent from one of
    # Apple's relays (its address, read from requestContext.http.sourceIp).
    assert track.get(f"/track/open/{bob}", headers=SCANNER, source_ip="198.51.100.8").status == 200
    assert track.get(f"/track/open/{bob}", headers=BROWSER, source_ip="17.58.0.1").status == 200
    stats = api.get(f"/api/campaigns/{cid}/stats").body
    assert (stats["opened"], stats["unique_opens"], stats["machine_opens"]) == (2, 1, 2)


def test_given_a_bad_v2_open_token_then_the_gif_and_nothing_counted(api, sent, track):
    cid, mail, _ = sent
    token = _token(mail["ann@x.example"].html, "open")
    reply = track.get(f"/track/open/{token[:-2]}xx", headers=BROWSER)
    assert reply.status == 200 and reply.raw == PIXEL
    assert api.get(f"/api/campaigns/{cid}/stats").body["opened"] == 0


def test_given_a_v2_click_then_302_to_the_link_and_counted(api, sent, track):
    cid, mail, _ = sent
    token = _token(mail["ann@x.example"].html, "click")
    reply = track.get(f"/track/click/{token}?utm=x", headers=BROWSER)
    assert reply.status == 302
    assert reply.headers["Location"] == "https://shop.example/sale?a=1&b=2"
    stats = api.get(f"/api/campaigns/{cid}/stats").body
    assert (stats["clicked"], stats["unique_clicks"]) == (1, 1)


def test_given_a_tampered_v2_click_token_then_404_and_never_a_redirect(api, sent, track):
    cid, mail, _ = sent
    token = _token(mail["ann@x.example"].html, "click")
    for bad in (token[:-3] + "abc", "nonsense", token + "x"):
        reply = track.get(f"/track/click/{bad}", headers=BROWSER)
        assert reply.status == 404 and "Location" not in reply.headers
        assert reply.headers["Content-Type"].startswith("text/html")
    assert api.get(f"/api/campaigns/{cid}/stats").body["clicked"] == 0


def test_given_a_v2_unsubscribe_then_a_get_asks_and_the_one_click_post_suppresses(api, sent, track):
    cid, mail, _ = sent
    link = mail["ann@x.example"].headers["List-Unsubscribe"].strip("<>")
    path = link[link.index("/unsubscribe/") :]
    with time_machine.travel("2026-11-23T10:00:00Z", tick=False):
        page = track.get(path, headers=BROWSER)
        assert page.status == 200 and 'method="post"' in page.raw
        assert api.get("/api/suppressions").body["items"] == []
        assert track.post(path[:-2] + "zz").status == 404
        done = track.post(
            path,
            raw=b"List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert done.status == 200
    suppressed = api.get("/api/suppressions").body["items"]
    assert [(s["email"], s["reason"]) for s in suppressed] == [("ann@x.example", "unsubscribed")]
    assert api.get(f"/api/campaigns/{cid}/stats").body["unsubscribed"] == 1


def test_given_the_same_link_then_the_rest_api_still_serves_it(api, sent, track):
    """Links already sent point at the REST API: both shapes reach the same functions."""
    cid, mail, _ = sent
    token = _token(mail["ann@x.example"].html, "click")
    rest = Api("tracking").get(f"/track/click/{token}", headers=BROWSER)
    http = track.get(f"/track/click/{token}", headers=BROWSER)
    assert rest.status == http.status == 302
    assert rest.headers["Location"] == http.headers["Location"]
    assert api.get(f"/api/campaigns/{cid}/stats").body["clicked"] == 2


# --- where the links point -----------------------------------------------------------------


def test_given_a_tracking_base_url_then_sent_mail_and_previews_link_there(
    api, tenant, sink, dispatch, monkeypatch: pytest.MonkeyPatch
):
    # Given a deployment whose tracking links go to a branded domain (the HTTP API's)
    monkeypatch.setenv("SENDRAIL_TRACKING_BASE_URL", "https://t.example.com/")
    _reset_function_caches()
    server, outbox = sink
    with time_machine.travel("2026-11-23T09:00:00Z", tick=False):
        assert api.post("/api/mailboxes", smtp_mailbox(server.port)).status == 201
        cid = _campaign(api, "Sale", ["ann@x.example"], track_opens=True, track_clicks=True)
        # When it is previewed, then sent
        preview = api.post(f"/api/campaigns/{cid}/preview", {"email": "ann@x.example"}).body
        assert api.post(f"/api/campaigns/{cid}/start").status == 202
        dispatch()
    (ann,) = outbox.items("ann@x.example")
    # Then every link a reader follows points at the tracking domain, none at the API
    for html in (preview["html"], ann.html):
        assert 'src="https://t.example.com/track/open/' in html
        assert 'href="https://t.example.com/track/click/' in html
        assert 'href="https://t.example.com/unsubscribe/' in html
        assert "127.0.0.1:9" not in html
    for headers in (preview["headers"], ann.headers):
        assert headers["List-Unsubscribe"].startswith("<https://t.example.com/unsubscribe/")
    # And the API's own links (invitations here) keep the public base URL
    invited = api.post("/api/users", {"email": "vi@acme.example", "role": "viewer"})
    assert invited.status == 201, invited.raw
    assert invited.body["invite_url"].startswith("http://127.0.0.1:9/api/auth/invite?token=")


def test_given_the_local_stacks_threads_then_each_shape_reads_its_own_readers_address(api, sent):
    """The local stack keeps Powertools' request state per thread and per resolver
    (``sendrail_local.lambdas``): a REST event after an HTTP API one on the same thread
    must read its own client, not the other resolver's last event."""
    cid, mail, _ = sent
    functions = Functions()
    now = datetime.now(UTC)
    ann = _token(mail["ann@x.example"].html, "open")
    bob = _token(mail["bob@x.example"].html, "open")
    person = http_api_event(
        "GET /track/{proxy+}",
        f"/track/open/{ann}",
        "",
        BROWSER,
        b"",
        source_ip="198.51.100.7",
        now=now,
    )
    relay = api_gateway_event(
        "GET", f"/track/open/{bob}", "", BROWSER, b"", source_ip="17.58.0.1", now=now
    )
    for event in (person, relay, person):
        assert functions.invoke("tracking", event)["statusCode"] == 200
    stats = api.get(f"/api/campaigns/{cid}/stats").body
    assert (stats["opened"], stats["unique_opens"], stats["machine_opens"]) == (2, 1, 1)
