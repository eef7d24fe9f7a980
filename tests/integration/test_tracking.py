"""Opens, clicks, unsubscribes and the analytics built on them, through the real handlers:
mail is sent by dispatch to the SMTP sink, and the links in what arrived are followed."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import time_machine
from moto.core import models as moto_models
from sendrail_local.aws import LocalResources
from sendrail_local.event_sources import drain_once
from sendrail_local.lambdas import LocalContext

from functions.tracking.handler import handler as tracking_handler
from tests.conftest import Api, smtp_mailbox

PIXEL = "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/133.0"}
HTML = (
    "<html><body><p>Hi {{ first_name }}</p>"
    '<a href="https://shop.example/sale?a=1&amp;b=2">sale</a> '
    '<a href="mailto:help@acme.example">help</a> '
    '<a href="{{ unsubscribe_url }}">unsubscribe</a></body></html>'
)


def _token(html: str, kind: str) -> str:
    match = re.search(rf"/track/{kind}/([A-Za-z0-9_.\-]+)", html)
    assert match, html
    return match.group(1)


def _campaign(api: Api, name: str, emails: list[str], **extra: Any) -> str:
    body = {"name": name, "subject": "Hello", "html": HTML, **extra}
    reply = api.post("/api/campaigns", body)
    assert reply.status == 201, reply.raw
    cid = str(reply.body["id"])
    rows = [{"email": e, "data": {"first_name": e.split("@")[0]}} for e in emails]
    assert api.post(f"/api/campaigns/{cid}/recipients", {"recipients": rows}).status == 200
    return cid


@pytest.fixture
def sent(api: Api, tenant: dict[str, Any], sink: Any, dispatch: Any) -> Any:
    """Given a tracked campaign sent to ann and bob."""
    server, outbox = sink
    with time_machine.travel("2026-11-23T09:00:00Z", tick=False):
        assert api.post("/api/mailboxes", smtp_mailbox(server.port)).status == 201
        cid = _campaign(
            api,
            "Sale",
            ["ann@x.example", "bob@x.example"],
            track_opens=True,
            track_clicks=True,
        )
        assert api.post(f"/api/campaigns/{cid}/start").status == 202
        dispatch()
        mail = {m.to: m for m in outbox.items()}
        assert set(mail) == {"ann@x.example", "bob@x.example"}
        yield cid, mail, outbox


def test_given_sent_mail_then_links_are_rewritten_and_it_carries_one_click_unsubscribe(sent):
    _, mail, _ = sent
    ann = mail["ann@x.example"]
    assert "https://shop.example/sale" not in ann.html  # rewritten to the click endpoint
    assert "mailto:help@acme.example" in ann.html  # left alone
    assert "/track/open/" in ann.html
    unsubscribe = re.search(r'href="([^"]*/unsubscribe/[^"]+)"', ann.html)
    assert unsubscribe and "/track/click/" not in unsubscribe.group(1)
    assert ann.headers["List-Unsubscribe"] == f"<{unsubscribe.group(1)}>"
    assert ann.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_given_opens_then_people_count_once_each_and_machines_apart(api, sent):
    cid, mail, _ = sent
    track = Api("tracking")
    token = _token(mail["ann@x.example"].html, "open")
    for _ in range(2):
        reply = track.get(f"/track/open/{token}", headers=BROWSER)
        assert reply.status == 200 and reply.headers["Content-Type"] == "image/gif"
        assert reply.raw == PIXEL and "no-store" in reply.headers["Cache-Control"]
    # Apple Mail Privacy Protection fetches every image from Apple's relays.
    track.get(
        f"/track/open/{_token(mail['bob@x.example'].html, 'open')}",
        headers={"User-Agent": "Mozilla/5.0"},
        source_ip="17.58.0.1",
    )
    stats = api.get(f"/api/campaigns/{cid}/stats").body
    assert (stats["opened"], stats["unique_opens"], stats["machine_opens"]) == (2, 1, 1)
    recipient = api.get(f"/api/campaigns/{cid}/recipients?status=sent").body["items"]
    opened = {r["email"]: r["opened_at"] for r in recipient}
    assert opened["ann@x.example"] and opened["bob@x.example"] is None


def test_given_a_repeat_open_then_only_counters_are_written_not_the_recipient(
    api, sent, monkeypatch
):
    from sendrail.storage.tables import RecipientItem

    cid, mail, _ = sent
    track = Api("tracking")
    token = _token(mail["ann@x.example"].html, "open")
    # What reaches DynamoDB is seen where AWS answers, in front of moto.
    writes: list[str] = []
    stubber = moto_models.botocore_stubber
    original = stubber.process_request

    def process_request(request: Any) -> Any:
        if request.headers.get("X-Amz-Target", b"").endswith(b".UpdateItem"):
            writes.append(json.loads(request.body)["TableName"])
        return original(request)

    monkeypatch.setattr(stubber, "process_request", process_request)
    for _ in range(3):
        assert track.get(f"/track/open/{token}", headers=BROWSER).status == 200
    # The first open sets opened_at; the two after it read the recipient and see it set.
    assert writes.count(RecipientItem.Meta.table_name) == 1
    assert len(writes) > 3  # ... and every open still counts
    stats = api.get(f"/api/campaigns/{cid}/stats").body
    assert (stats["opened"], stats["unique_opens"]) == (3, 1)


def test_given_a_bad_open_token_then_the_pixel_is_still_served_and_nothing_counted(api, sent):
    cid, mail, _ = sent
    token = _token(mail["ann@x.example"].html, "open")
    reply = Api("tracking").get(f"/track/open/{token[:-2]}xx", headers=BROWSER)
    assert reply.status == 200 and reply.raw == PIXEL
    assert api.get(f"/api/campaigns/{cid}/stats").body["opened"] == 0


def test_given_clicks_then_the_browser_goes_to_the_link_and_unique_clicks_count_once(api, sent):
    cid, mail, _ = sent
    track = Api("tracking")
    token = _token(mail["ann@x.example"].html, "click")
    for _ in range(2):
        reply = track.get(f"/track/click/{token}", headers=BROWSER)
        assert reply.status == 302
        assert reply.headers["Location"] == "https://shop.example/sale?a=1&b=2"
    track.get(f"/track/click/{_token(mail['bob@x.example'].html, 'click')}", headers=BROWSER)
    stats = api.get(f"/api/campaigns/{cid}/stats").body
    assert (stats["clicked"], stats["unique_clicks"]) == (3, 2)
    rates = api.get(f"/api/analytics/campaigns/{cid}").body
    assert rates["links"] == [
        {"url": "https://shop.example/sale?a=1&b=2", "clicks": 3, "unique_clicks": 2}
    ]
    assert rates["click_rate"] == 1.0 and rates["sent"] == 2


def test_given_a_tampered_click_token_then_it_is_a_404_and_never_a_redirect(api, sent):
    cid, mail, _ = sent
    token = _token(mail["ann@x.example"].html, "click")
    head, _, signature = token.rpartition(".")
    forged = head[:-4] + ("AAAA" if head[-4:] != "AAAA" else "BBBB") + "." + signature
    for bad in (forged, token[:-3] + "abc", "nonsense", token + "x"):
        reply = Api("tracking").get(f"/track/click/{bad}", headers=BROWSER)
        assert reply.status == 404 and "Location" not in reply.headers
    assert api.get(f"/api/campaigns/{cid}/stats").body["clicked"] == 0


def test_given_an_unsubscribe_link_then_a_get_asks_and_only_a_post_unsubscribes(
    api, sent, dispatch
):
    cid, mail, outbox = sent
    link = mail["ann@x.example"].headers["List-Unsubscribe"].strip("<>")
    path = link[link.index("/unsubscribe/") :]
    # A second campaign, not yet sent, also has ann.
    with time_machine.travel("2026-11-23T10:00:00Z", tick=False):
        later = _campaign(api, "Later", ["ann@x.example", "cy@x.example"])
        assert api.post(f"/api/campaigns/{later}/start").status == 202

        page = Api("tracking").get(path)  # link scanners and previews follow GETs
        assert page.status == 200 and "<form" in page.raw and 'method="post"' in page.raw
        assert api.get("/api/suppressions").body["items"] == []

        done = Api("tracking").post(
            path,
            raw=b"List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert done.status == 200
        again = Api("tracking").post(path, raw=b"", content_type="text/plain")
        assert again.status == 200  # idempotent
        suppressed = api.get("/api/suppressions").body["items"]
        assert [(s["email"], s["reason"]) for s in suppressed] == [
            ("ann@x.example", "unsubscribed")
        ]
        assert api.get(f"/api/campaigns/{cid}/stats").body["unsubscribed"] == 1

        outbox.clear()
        dispatch()
        assert [m.to for m in outbox.items()] == ["cy@x.example"]
        stats = api.get(f"/api/campaigns/{later}/stats").body
        assert (stats["sent"], stats["suppressed"]) == (1, 1)


def test_given_a_tampered_unsubscribe_token_then_nothing_is_suppressed(api, sent):
    _, mail, _ = sent
    link = mail["ann@x.example"].headers["List-Unsubscribe"].strip("<>")
    path = link[link.index("/unsubscribe/") :]
    assert Api("tracking").post(path[:-2] + "zz").status == 404
    assert Api("tracking").get("/unsubscribe/x.y").status == 404
    assert api.get("/api/suppressions").body["items"] == []


def test_given_activity_then_timeline_overview_and_report_agree(api, sent):
    cid, mail, _ = sent
    with time_machine.travel("2026-11-23T11:30:00Z", tick=False):
        Api("tracking").get(
            f"/track/open/{_token(mail['ann@x.example'].html, 'open')}", headers=BROWSER
        )
        timeline = api.get(f"/api/campaigns/{cid}/timeline?bucket=hour").body
        rows = {r["start"]: r for r in timeline["items"]}
        assert rows["2026-11-23T09:00:00Z"]["sent"] == 2
        assert rows["2026-11-23T11:00:00Z"]["unique_opens"] == 1
        days = api.get(f"/api/campaigns/{cid}/timeline?bucket=day").body["items"]
        assert [(d["start"], d["sent"], d["opened"]) for d in days] == [
            ("2026-11-23T00:00:00Z", 2, 1)
        ]
        overview = api.get("/api/analytics/overview?from=2026-11-20T00:00:00Z").body
        assert (overview["sent"], overview["unique_opens"], overview["open_rate"]) == (2, 1, 0.5)
        assert api.get("/api/analytics/overview?from=yesterday").status == 422
        assert api.get(f"/api/campaigns/{cid}/timeline?bucket=week").status == 422

        first = api.get(f"/api/campaigns/{cid}/report?format=csv&limit=1")
        assert first.status == 200 and first.headers["Content-Type"].startswith("text/csv")
        header, row = first.raw.strip().split("\n")
        assert header.startswith("email,status,mailbox_id") and header.endswith("first_name")
        cursor = first.headers["X-Next-Cursor"]
        assert 'rel="next"' in first.headers["Link"]
        second = api.get(f"/api/campaigns/{cid}/report?format=csv&limit=1&cursor={cursor}")
        assert len(second.raw.strip().split("\n")) == 1  # no header on later pages
        emails = {row.split(",")[0], second.raw.split(",")[0]}
        assert emails == {"ann@x.example", "bob@x.example"}
        as_json = api.get(f"/api/campaigns/{cid}/report?limit=10").body
        assert as_json["next_cursor"] is None
        ann = next(r for r in as_json["items"] if r["email"] == "ann@x.example")
        assert ann["status"] == "sent" and ann["opened_at"] == "2026-11-23T11:30:00Z"


def test_given_events_over_several_hours_and_days_then_the_totals_add_them_all(api, sent):
    """A campaign's totals are the sum of its hours: opens and clicks spread over three
    hours on two days all count, and a link's URL is labelled by the click's own write."""
    cid, mail, _ = sent
    track = Api("tracking")
    ann, bob = mail["ann@x.example"].html, mail["bob@x.example"].html
    for when, html in (
        ("2026-11-23T10:05:00Z", ann),
        ("2026-11-23T14:40:00Z", bob),
        ("2026-11-24T08:15:00Z", ann),
    ):
        with time_machine.travel(when, tick=False):
            assert track.get(f"/track/open/{_token(html, 'open')}", headers=BROWSER).status == 200
            click = track.get(f"/track/click/{_token(html, 'click')}", headers=BROWSER)
            assert click.status == 302
    stats = api.get(f"/api/campaigns/{cid}/stats").body
    assert (stats["opened"], stats["unique_opens"]) == (3, 2)
    assert (stats["clicked"], stats["unique_clicks"]) == (3, 2)
    analytics = api.get(f"/api/analytics/campaigns/{cid}").body
    assert analytics["links"] == [
        {"url": "https://shop.example/sale?a=1&b=2", "clicks": 3, "unique_clicks": 2}
    ]


def test_given_a_formula_in_recipient_data_then_the_csv_report_defuses_it(api, tenant, sink):
    server, _ = sink
    api.post("/api/mailboxes", smtp_mailbox(server.port))
    cid = api.post("/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}).body["id"]
    rows = [{"email": "eve@x.example", "data": {"company": '=HYPERLINK("http://evil")'}}]
    api.post(f"/api/campaigns/{cid}/recipients", {"recipients": rows})
    csv_text = api.get(f"/api/campaigns/{cid}/report?format=csv").raw
    assert "'=HYPERLINK" in csv_text


def test_given_another_tenants_campaign_then_its_analytics_are_not_found(api, sent, admin):
    cid, _, _ = sent
    other = api.post(
        "/api/admin/tenants", {"name": "Other", "owner_email": "o@o.example"}, token=admin
    ).body["owner_key"]
    for path in (
        f"/api/campaigns/{cid}/timeline",
        f"/api/campaigns/{cid}/report",
        f"/api/analytics/campaigns/{cid}",
    ):
        assert api.get(path, token=other).status == 404


# --- DynamoDB failing: tracking never fails a reader ----------------------------------------
# While DynamoDB errors or throttles, the pixel is served and the click redirected from the
# signed token alone; the hit waits in the ``events`` queue and is counted once, when DynamoDB
# is back and the queue's worker records it. The failure is injected where AWS answers, in
# front of moto, for DynamoDB's endpoint only (SQS keeps working, as in a DynamoDB incident).

ERRORS = {
    "failing": (500, "InternalServerError", "internal error"),
    "refusing": (400, "AccessDeniedException", "not now"),
    "throttling": (400, "ThrottlingException", "rate of requests exceeds the allowed"),
}


class DynamoDbOutage:
    """Answers every DynamoDB request with an error while ``down`` is set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.down: tuple[int, str, str] | None = None
        self.refused = 0
        stubber = moto_models.botocore_stubber
        original = stubber.process_request

        def process_request(request: Any) -> Any:
            if self.down is not None and "://dynamodb." in request.url:
                self.refused += 1
                status, code, message = self.down
                body = json.dumps(
                    {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
                )
                return status, {"x-amzn-ErrorType": code}, body
            return original(request)

        monkeypatch.setattr(stubber, "process_request", process_request)


@pytest.fixture
def outage(monkeypatch: pytest.MonkeyPatch) -> DynamoDbOutage:
    return DynamoDbOutage(monkeypatch)


def _drain(resources: LocalResources) -> int:
    return drain_once(
        resources.queues["events"],
        lambda event: tracking_handler(event, LocalContext("tracking", 10)),
        batch_size=10,
        visibility=0,  # what a failed batch leaves is visible again at once (no waiting here)
    )


@pytest.mark.parametrize("error", sorted(ERRORS))
def test_given_dynamodb_down_then_clicks_redirect_opens_answer_and_both_count_once_it_is_back(
    api, aws, sent, outage, error
):
    cid, mail, _ = sent
    track = Api("tracking")
    ann = mail["ann@x.example"].html
    click, opened = _token(ann, "click"), _token(ann, "open")

    outage.down = ERRORS[error]
    reply = track.get(f"/track/click/{click}", headers=BROWSER)
    assert reply.status == 302
    assert reply.headers["Location"] == "https://shop.example/sale?a=1&b=2"
    reply = track.get(f"/track/open/{opened}", headers=BROWSER)
    assert reply.status == 200 and reply.raw == PIXEL
    assert outage.refused > 0
    # While it is down, the worker cannot record them either: they stay queued.
    assert _drain(aws) == 0

    outage.down = None
    assert api.get(f"/api/campaigns/{cid}/stats").body["clicked"] == 0
    assert _drain(aws) == 2
    stats = api.get(f"/api/campaigns/{cid}/stats").body
    assert (stats["clicked"], stats["opened"]) == (1, 1)
    assert _drain(aws) == 0  # nothing left, nothing counted twice
    assert api.get(f"/api/campaigns/{cid}/stats").body["clicked"] == 1


def test_given_a_tampered_click_token_then_404_and_nothing_queued(aws, sent, outage):
    _, mail, _ = sent
    click = _token(mail["ann@x.example"].html, "click")
    outage.down = ERRORS["failing"]
    reply = Api("tracking").get(f"/track/click/{click[:-2]}xx", headers=BROWSER)
    assert reply.status == 404
    outage.down = None
    assert _drain(aws) == 0
