"""Tracking end to end through the local stack: mail lands in the sink, and its pixel,
rewritten link and List-Unsubscribe header are followed over HTTP as a mail client and a
reader would, with the virtual clock."""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Stack, start_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-tracking")]

READER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/18.1"


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("tracking"))
    yield running
    stop_stack(running)


def fetch(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, bytes, Any]:
    """One request, redirects not followed (a 302 must not leave 127.0.0.1)."""
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1", url
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"User-Agent": READER}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(
        method, parts.path + (f"?{parts.query}" if parts.query else ""), body, headers
    )
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data, response.headers


def test_given_a_tracked_campaign_then_opens_clicks_and_one_click_unsubscribe_work(
    tracked: Stack,
):
    api = tracked.http
    smtp = {"host": "127.0.0.1", "port": tracked.smtp_port, "security": "none"}
    mailbox = {"provider": "smtp", "email": "news@example.com", "daily_limit": 100, "smtp": smtp}
    assert api.post("/api/mailboxes", mailbox)[0] == 201
    html = (
        "<html><body><p>Hi</p><a href='https://shop.example/new'>new</a>"
        "<a href='{{ unsubscribe_url }}'>unsubscribe</a></body></html>"
    )
    first = api.post(
        "/api/campaigns",
        {
            "name": "News",
            "subject": "News",
            "html": html,
            "track_opens": True,
            "track_clicks": True,
        },
    )[1]["id"]
    second = api.post("/api/campaigns", {"name": "Later", "subject": "Later", "html": html})[1][
        "id"
    ]
    for cid in (first, second):
        rows = [{"email": "ann@example.org"}, {"email": "bo@example.org"}]
        assert api.post(f"/api/campaigns/{cid}/recipients", {"recipients": rows})[0] == 200
    assert api.post(f"/api/campaigns/{first}/start")[0] == 202
    api.advance(120)

    received = api.get("/_local/outbox?to=ann@example.org", token="")[1]["items"]
    assert [m["subject"] for m in received] == ["News"]
    ann = received[0]
    pixel = re.search(r'src="([^"]*/track/open/[^"]+)"', ann["html"]).group(1)
    link = re.search(r"href='([^']*/track/click/[^']+)'", ann["html"]).group(1)
    assert pixel.startswith(api.base) and link.startswith(api.base)

    status, gif, headers = fetch(pixel)
    assert status == 200 and gif.startswith(b"GIF89a") and headers["Content-Type"] == "image/gif"
    status, _, headers = fetch(link)
    assert status == 302 and headers["Location"] == "https://shop.example/new"
    status, _, headers = fetch(link[:-6] + "AAAAAA")  # tampered: never a redirect
    assert status == 404 and headers["Location"] is None

    stats = api.get(f"/api/campaigns/{first}/stats")[1]
    assert (stats["sent"], stats["unique_opens"], stats["unique_clicks"]) == (2, 1, 1)

    # The mail client's one-click unsubscribe (RFC 8058): a POST to the header's URL.
    assert ann["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = ann["headers"]["List-Unsubscribe"].strip("<>")
    status, page, _ = fetch(unsubscribe)
    assert status == 200 and b"<form" in page
    assert api.get("/api/suppressions")[1]["items"] == []
    status, _, _ = fetch(unsubscribe, "POST", b"List-Unsubscribe=One-Click")
    assert status == 200

    assert api.post(f"/api/campaigns/{second}/start")[0] == 202
    api.advance(120)
    later = api.get("/_local/outbox", token="")[1]["items"]
    assert sorted((m["to"], m["subject"]) for m in later) == [
        ("ann@example.org", "News"),
        ("bo@example.org", "Later"),
        ("bo@example.org", "News"),
    ]
    assert api.get(f"/api/campaigns/{second}/stats")[1]["suppressed"] == 1
    overview = api.get("/api/analytics/overview")[1]
    assert (overview["sent"], overview["unsubscribed"]) == (3, 1)
