"""A campaign's preview and proofs through the API (``POST /api/campaigns/{id}/preview`` and
``/test``), against moto and a real SMTP sink: the preview is what dispatch then really
sends (tokens aside: a preview's are marked as tests), proofs arrive, count on the mailbox
and its limits, never in the campaign's stats, and refuse what they must."""

from __future__ import annotations

import re
from typing import Any

from sendrail.domain import tracking

from tests.conftest import TEST_SIGNING_KEY, Api, smtp_mailbox

HTML = (
    "<html><body><p>Hello {{ first_name }}, your code is {{ code }}.</p>"
    '<p><a href="https://shop.example/offer?id=7&amp;x=1">See the offer</a></p>'
    "</body></html>"
)
PEOPLE = [
    {"email": "ann@x.example", "data": {"first_name": "Ann", "code": "A-1"}},
    {"email": "bob@y.example", "data": {"first_name": "Bob", "code": "B-2"}},
]
TOKEN = re.compile(r"/(track/open|track/click|unsubscribe)/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")
PURPOSES = {
    "track/open": tracking.OPEN,
    "track/click": tracking.CLICK,
    "unsubscribe": tracking.UNSUBSCRIBE,
}


def _campaign(api: Api, html: str = HTML, people: list[Any] | None = None, **extra: Any) -> str:
    body = {
        "name": "Nov",
        "subject": "News for {{ first_name }}",
        "html": html,
        "from_name": "Acme News",
        "reply_to": "help@acme.example",
        "headers": {"X-Campaign": "nov"},
        **extra,
    }
    reply = api.post("/api/campaigns", body)
    assert reply.status == 201, reply.raw
    cid = str(reply.body["id"])
    if people is None:
        people = PEOPLE
    if people:
        added = api.post(f"/api/campaigns/{cid}/recipients", {"recipients": people})
        assert added.status == 200 and added.body["added"] == len(people), added.raw
    return cid


def _mailbox(api: Api, port: int, **extra: Any) -> str:
    reply = api.post("/api/mailboxes", smtp_mailbox(port, **extra))
    assert reply.status == 201, reply.raw
    return str(reply.body["id"])


def _targets(text: str) -> tuple[str, list[tracking.Target]]:
    """``text`` with each token replaced by a marker, and the tokens' targets (read with
    the signing key), so two renderings compare equal whatever their tokens' marks."""
    found: list[tracking.Target] = []

    def swap(match: re.Match[str]) -> str:
        target = tracking.read(TEST_SIGNING_KEY.encode(), PURPOSES[match.group(1)], match.group(2))
        assert target is not None, match.group(0)
        found.append(target)
        return f"/{match.group(1)}/<token>"

    return TOKEN.sub(swap, text), found


def _same_but_marked(preview: str, sent: str) -> None:
    preview_text, preview_targets = _targets(preview)
    sent_text, sent_targets = _targets(sent)
    assert preview_text == sent_text
    assert preview_targets, "no token to compare"
    assert all(t.test for t in preview_targets)  # a preview's links record nothing
    assert not any(t.test for t in sent_targets)
    unmarked = [
        tracking.Target(t.tenant_id, t.campaign_id, t.email, t.url) for t in preview_targets
    ]
    assert unmarked == sent_targets  # same recipient, campaign, tenant and links


# --- preview ------------------------------------------------------------------------------


def test_given_a_draft_then_its_preview_is_what_dispatch_then_sends_that_recipient(
    api: Api, tenant, sink, dispatch
):
    server, outbox = sink
    # Given a draft with tracking, footer and headers, two recipients and a mailbox
    mailbox_id = _mailbox(api, server.port, from_name="Acme")
    settings = api.put("/api/settings/sending", {"postal_address": "Acme Ltd, 1 Main St"})
    assert settings.status == 200, settings.raw
    cid = _campaign(api)
    # When Bob's message is previewed before the start
    reply = api.post(f"/api/campaigns/{cid}/preview", {"email": "Bob@Y.example"})
    assert reply.status == 200, reply.raw
    preview = reply.body
    assert preview["to"] == "bob@y.example" and preview["mailbox_id"] == mailbox_id
    assert preview["subject"] == "News for Bob"
    assert "your code is B-2" in preview["html"] and "/track/click/" in preview["html"]
    # And then the campaign is started and dispatched
    assert api.post(f"/api/campaigns/{cid}/start").status == 202
    dispatch()
    sent = outbox.items("bob@y.example")
    assert len(sent) == 1
    message = sent[0]
    # Then the preview is what Bob got: subject, bodies, every header but the Date,
    # the tokens' targets (only the preview's are marked as tests)
    assert preview["subject"] == message.subject
    _same_but_marked(preview["html"], message.html)
    _same_but_marked(preview["text"], message.text)
    received = {
        k: v for k, v in message.headers.items() if k not in ("Content-Type", "MIME-Version")
    }
    assert set(preview["headers"]) == set(received)
    for name in received:
        if name == "Date":
            continue
        if name == "List-Unsubscribe":
            _same_but_marked(preview["headers"][name], received[name])
        else:
            assert preview["headers"][name] == received[name], name
    assert received["Message-ID"] == preview["headers"]["Message-ID"]
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["X-Campaign"] == "nov" and received["Reply-To"] == "help@acme.example"
    assert received["From"] == "Acme News <sender@example.com>"
    assert "Acme Ltd, 1 Main St" in preview["html"]


def test_given_no_recipient_asked_then_the_first_one_or_ad_hoc_data_is_rendered(api: Api, tenant):
    # Given a draft with no mailbox and no recipients yet
    cid = _campaign(api, people=[])
    # When previewed with nothing asked: empty data at the placeholder, no mailbox
    empty = api.post(f"/api/campaigns/{cid}/preview")
    assert empty.status == 200, empty.raw
    assert empty.body["to"] == "recipient@example.com" and empty.body["mailbox_id"] is None
    assert empty.body["subject"] == "News for"
    # With ad-hoc data
    adhoc = api.post(f"/api/campaigns/{cid}/preview", {"data": {"first_name": "Zoe"}})
    assert adhoc.status == 200, adhoc.raw
    assert adhoc.body["subject"] == "News for Zoe"
    assert adhoc.body["headers"]["To"] == "recipient@example.com"
    # Once recipients exist, nothing asked renders the first of them
    api.post(f"/api/campaigns/{cid}/recipients", {"recipients": PEOPLE})
    first = api.post(f"/api/campaigns/{cid}/preview", {})
    assert first.body["to"] == "ann@x.example" and first.body["subject"] == "News for Ann"


def test_given_a_template_failing_for_a_recipient_then_422_names_the_field(api: Api, tenant):
    cid = _campaign(
        api, subject="Hi {{ n // 0 }}", people=[{"email": "a@x.example", "data": {"n": 1}}]
    )
    reply = api.post(f"/api/campaigns/{cid}/preview", {"email": "a@x.example"})
    assert reply.status == 422, reply.raw
    assert reply.body["error"]["code"] == "validation_failed"
    assert reply.body["error"]["details"][0]["field"] == "subject"
    html = api.post(f"/api/campaigns/{cid}/preview", {"data": {"n": 2}})
    assert html.status == 422


def test_given_bad_preview_input_then_4xx_never_500(api: Api, tenant):
    cid = _campaign(api)
    unknown = api.post(f"/api/campaigns/{cid}/preview", {"email": "nobody@x.example"})
    assert unknown.status == 422 and unknown.body["error"]["code"] == "unknown_recipient"
    assert unknown.body["error"]["details"][0]["field"] == "email"
    both = api.post(f"/api/campaigns/{cid}/preview", {"email": "ann@x.example", "data": {}})
    assert both.status == 422, both.raw
    assert api.post(f"/api/campaigns/{cid}/preview", {"email": "not an address"}).status == 422
    assert api.post(f"/api/campaigns/{cid}/preview", {"data": "x"}).status == 422
    assert api.post(f"/api/campaigns/{cid}/preview", {"extra": 1}).status == 422
    assert api.post(f"/api/campaigns/{cid}/preview", {"mailbox_id": "mbx_none"}).status == 404
    assert api.post(f"/api/campaigns/{cid}/preview", raw=b"{").status == 400
    deep: dict[str, Any] = {}
    for _ in range(12):
        deep = {"a": deep}
    assert api.post(f"/api/campaigns/{cid}/preview", {"data": deep}).status == 422


def test_given_a_viewer_then_preview_is_allowed_and_test_refused(api: Api, tenant, sink):
    server, _ = sink
    _mailbox(api, server.port)
    cid = _campaign(api)
    viewer = api.post("/api/keys", {"name": "v", "role": "viewer"}).body["key"]
    assert api.post(f"/api/campaigns/{cid}/preview", {}, token=viewer).status == 200
    refused = api.post(f"/api/campaigns/{cid}/test", {"to": ["me@acme.example"]}, token=viewer)
    assert refused.status == 403 and refused.body["error"]["code"] == "forbidden"
    sender = api.post("/api/keys", {"name": "s", "role": "sender"}).body["key"]
    assert (
        api.post(f"/api/campaigns/{cid}/test", {"to": ["me@acme.example"]}, token=sender).status
        == 202
    )


def test_given_another_tenants_campaign_then_404_for_both(api: Api, tenant, admin):
    cid = _campaign(api)
    other = api.post(
        "/api/admin/tenants", {"name": "Other", "owner_email": "o@other.example"}, token=admin
    ).body["owner_key"]
    for path, body in (("preview", {}), ("test", {"to": ["me@other.example"]})):
        reply = api.post(f"/api/campaigns/{cid}/{path}", body, token=other)
        assert reply.status == 404 and reply.body["error"]["code"] == "not_found", reply.raw
    assert api.post(f"/api/campaigns/{cid}/preview", {}, token="").status == 401


# --- proofs -------------------------------------------------------------------------------


def test_given_a_test_send_then_it_arrives_counts_on_the_mailbox_not_the_campaign(
    api: Api, tenant, sink
):
    server, outbox = sink
    mailbox_id = _mailbox(api, server.port)
    cid = _campaign(api)
    # When proofs are sent, rendered as Ann
    reply = api.post(
        f"/api/campaigns/{cid}/test",
        {"to": ["me@acme.example", "Boss@Acme.example"], "email": "ann@x.example"},
    )
    # Then both arrive at once, subject prefixed, with Ann's data
    assert reply.status == 202, reply.raw
    assert reply.body == {
        "status": "sent",
        "mailbox_id": mailbox_id,
        "to": ["me@acme.example", "boss@acme.example"],
        "subject": "[Test] News for Ann",
    }
    mine = outbox.items("me@acme.example")
    assert len(mine) == 1 and len(outbox.items("boss@acme.example")) == 1
    assert mine[0].subject == "[Test] News for Ann" and "your code is A-1" in mine[0].html
    assert mine[0].message_id.startswith("<test.")
    assert mine[0].headers["To"] == "me@acme.example"
    # Counted on the mailbox's limits and day
    servers = {s["id"]: s for s in api.get("/api/queue/servers").body["items"]}
    assert servers[mailbox_id]["daily_used"] == 2
    assert api.get(f"/api/mailboxes/{mailbox_id}/stats").body["today"]["sent"] == 2
    # Not in the campaign: no recipient made, nothing counted, still a draft
    stats = api.get(f"/api/campaigns/{cid}/stats").body
    assert stats["total"] == 2 and stats["sent"] == 0
    emails = {r["email"] for r in api.get(f"/api/campaigns/{cid}/recipients").body["items"]}
    assert emails == {"ann@x.example", "bob@y.example"}
    assert api.get(f"/api/campaigns/{cid}").body["status"] == "draft"
    # Following the proof's links works and records nothing, even for a real recipient
    proof_to_ann = api.post(f"/api/campaigns/{cid}/test", {"to": ["ann@x.example"]})
    assert proof_to_ann.status == 202, proof_to_ann.raw
    html = outbox.items("ann@x.example")[0].html
    public = Api("tracking")
    browser = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"}
    click = re.search(r'href="(http://127\.0\.0\.1:9(/track/click/[^"]+))"', html)
    pixel = re.search(r'src="http://127\.0\.0\.1:9(/track/open/[^"]+)"', html)
    unsubscribe = re.search(r'href="http://127\.0\.0\.1:9(/unsubscribe/[^"]+)"', html)
    assert click and pixel and unsubscribe
    redirected = public.get(click.group(2), headers=browser)
    assert redirected.status == 302
    assert redirected.headers["Location"] == "https://shop.example/offer?id=7&x=1"
    assert public.get(pixel.group(1), headers=browser).status == 200
    assert public.post(unsubscribe.group(1)).status == 200
    stats = api.get(f"/api/campaigns/{cid}/stats").body
    assert (stats["opened"], stats["clicked"], stats["unsubscribed"]) == (0, 0, 0)
    assert api.get("/api/suppressions").body["items"] == []


def test_given_a_mailbox_limit_then_proofs_over_it_are_refused_and_nothing_sent(
    api: Api, tenant, sink
):
    server, outbox = sink
    mailbox_id = _mailbox(api, server.port, daily_limit=2)
    cid = _campaign(api)
    three = ["a@acme.example", "b@acme.example", "c@acme.example"]
    # Three proofs do not fit in a limit of two: refused, none sent, nothing taken
    over = api.post(f"/api/campaigns/{cid}/test", {"to": three})
    assert over.status == 409, over.raw
    assert over.body["error"]["code"] == "limit_reached"
    assert over.body["error"]["details"][0]["retry_at"].endswith("Z")
    assert outbox.items() == []
    # Two do; then one more does not
    assert api.post(f"/api/campaigns/{cid}/test", {"to": three[:2]}).status == 202
    again = api.post(f"/api/campaigns/{cid}/test", {"to": three[2:]}, headers={})
    assert again.status == 409 and again.body["error"]["code"] == "limit_reached"
    assert len(outbox.items()) == 2
    servers = {s["id"]: s for s in api.get("/api/queue/servers").body["items"]}
    assert servers[mailbox_id]["daily_used"] == 2


def test_given_a_tenant_cap_then_proofs_count_against_it_too(api: Api, tenant, sink):
    server, outbox = sink
    _mailbox(api, server.port)
    assert api.put("/api/settings/sending", {"max_per_day": 1}).status == 200
    cid = _campaign(api)
    assert api.post(f"/api/campaigns/{cid}/test", {"to": ["a@acme.example"]}).status == 202
    refused = api.post(f"/api/campaigns/{cid}/test", {"to": ["b@acme.example"]})
    assert refused.status == 409 and refused.body["error"]["code"] == "limit_reached"
    assert len(outbox.items()) == 1


def test_given_a_suppressed_address_then_the_proofs_are_refused(api: Api, tenant, sink):
    server, outbox = sink
    _mailbox(api, server.port)
    cid = _campaign(api)
    assert api.post("/api/suppressions", {"email": "gone@acme.example"}).status in (200, 201)
    reply = api.post(f"/api/campaigns/{cid}/test", {"to": ["me@acme.example", "Gone@acme.example"]})
    assert reply.status == 422, reply.raw
    assert reply.body["error"]["code"] == "suppressed_address"
    assert reply.body["error"]["details"] == [
        {"field": "to.1", "email": "gone@acme.example", "reason": "suppressed"}
    ]
    assert outbox.items() == []


def test_given_bad_test_input_then_4xx_and_nothing_sent(api: Api, tenant, sink):
    server, outbox = sink
    mailbox_id = _mailbox(api, server.port)
    cid = _campaign(api)
    path = f"/api/campaigns/{cid}/test"
    for body in (
        {},
        {"to": []},
        {"to": [f"p{i}@acme.example" for i in range(6)]},
        {"to": ["not an address"]},
        {"to": "me@acme.example"},
        {"to": ["me@acme.example"], "extra": True},
        {"to": ["me@acme.example"], "email": "nobody@x.example"},
    ):
        reply = api.post(path, body)
        assert reply.status == 422, (body, reply.raw)
    assert api.post(path, {"to": ["me@acme.example"], "mailbox_id": "mbx_nope"}).status == 404
    assert api.post(path, raw=b"[").status == 400
    # A paused mailbox cannot send proofs
    assert api.post(f"/api/mailboxes/{mailbox_id}/pause").status == 200
    paused = api.post(path, {"to": ["me@acme.example"]})
    assert paused.status == 409, paused.raw
    named = api.post(path, {"to": ["me@acme.example"], "mailbox_id": mailbox_id})
    assert named.status == 409, named.raw
    assert outbox.items() == []


def test_given_a_refusing_server_then_502_and_the_untried_units_given_back(api: Api, tenant):
    # Given a mailbox whose server is not there
    from tests.conftest import free_port

    mailbox_id = _mailbox(api, free_port(), daily_limit=5)
    cid = _campaign(api)
    reply = api.post(f"/api/campaigns/{cid}/test", {"to": ["a@acme.example", "b@acme.example"]})
    assert reply.status == 502, reply.raw
    assert reply.body["error"]["code"] == "test_not_sent"
    servers = {s["id"]: s for s in api.get("/api/queue/servers").body["items"]}
    assert servers[mailbox_id]["daily_used"] == 1  # the one tried counts; the other not
