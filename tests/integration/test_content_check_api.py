"""The content check through the API: check, start refused, forced by an owner only, and the
automatic footer (unsubscribe link and postal address) in what is really sent."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, smtp_mailbox

WITHOUT_LINK = "<p>Hello {{ first_name }}, our November news. {{ promo_code }}</p>"


def _campaign(api: Api, html: str = WITHOUT_LINK, **extra: Any) -> str:
    body = {"name": "Nov", "subject": "November news", "html": html, **extra}
    reply = api.post("/api/campaigns", body)
    assert reply.status == 201, reply.raw
    cid = str(reply.body["id"])
    added = api.post(
        f"/api/campaigns/{cid}/recipients",
        {
            "recipients": [
                {"email": "ann@x.example", "data": {"first_name": "Ann"}},
                {"email": "bob@x.example", "data": {"first_name": "Bob", "city": "Oslo"}},
            ]
        },
    )
    assert added.status == 200, added.raw
    return cid


def _footer_off(api: Api) -> None:
    reply = api.put("/api/settings/sending", {"unsubscribe_footer": False})
    assert reply.status == 200 and reply.body["unsubscribe_footer"] is False, reply.raw


def test_given_a_campaign_then_check_lists_findings_with_unknown_tags_named(api: Api, tenant):
    # Given a campaign using a tag no recipient has, footer on, no postal address
    cid = _campaign(api)
    # When it is checked
    reply = api.post(f"/api/campaigns/{cid}/check")
    # Then it is ok (warnings only) and names the unknown tag
    assert reply.status == 200, reply.raw
    found = {f["code"]: f for f in reply.body["findings"]}
    assert reply.body["ok"] is True
    assert found["unknown_merge_tags"]["detail"]["tags"] == ["promo_code"]
    assert found["unknown_merge_tags"]["detail"]["sampled_recipients"] == 2
    assert found["missing_postal_address"]["severity"] == "warning"
    assert found["no_text_part"]["severity"] == "info"
    assert "missing_unsubscribe_link" not in found


def test_given_errors_then_start_is_refused_with_the_findings(api: Api, tenant):
    # Given the footer turned off and a campaign with no unsubscribe link
    _footer_off(api)
    cid = _campaign(api)
    assert api.post(f"/api/campaigns/{cid}/check").body["ok"] is False
    # When it is started
    reply = api.post(f"/api/campaigns/{cid}/start")
    # Then 422 content_check_failed, the findings in details, and it stays a draft
    assert reply.status == 422, reply.raw
    assert reply.body["error"]["code"] == "content_check_failed"
    codes = {d["code"] for d in reply.body["error"]["details"]}
    assert {"missing_unsubscribe_link", "unknown_merge_tags"} <= codes
    assert api.get(f"/api/campaigns/{cid}").body["status"] == "draft"


def test_given_errors_then_only_an_owner_may_force_the_start(api: Api, tenant):
    _footer_off(api)
    cid = _campaign(api)
    sender = api.post("/api/keys", {"name": "s", "role": "sender"}).body["key"]
    # A sender may start a clean campaign but may not force one
    refused = api.post(f"/api/campaigns/{cid}/start", {"force": True}, token=sender)
    assert refused.status == 403 and refused.body["error"]["code"] == "forbidden"
    assert api.post(f"/api/campaigns/{cid}/start", token=sender).status == 422
    # The owner may
    forced = api.post(f"/api/campaigns/{cid}/start", {"force": True})
    assert forced.status == 202, forced.raw
    assert forced.body["status"] == "running" and forced.body["queued"] == 2


def test_given_a_clean_campaign_then_a_sender_starts_it_without_force(api: Api, tenant):
    _footer_off(api)
    cid = _campaign(api, html='<p>Hi {{ first_name }} <a href="{{ unsubscribe_url }}">x</a></p>')
    sender = api.post("/api/keys", {"name": "s", "role": "sender"}).body["key"]
    assert api.post(f"/api/campaigns/{cid}/start", token=sender).status == 202


def test_given_the_footer_on_then_sent_mail_carries_the_link_and_postal_address(
    api: Api, tenant, sink, dispatch
):
    server, outbox = sink
    # Given a postal address and a campaign without its own unsubscribe link
    settings = api.put(
        "/api/settings/sending", {"postal_address": "Acme Ltd\n1 Main Street, Springfield"}
    )
    assert settings.status == 200, settings.raw
    assert api.post("/api/mailboxes", smtp_mailbox(server.port)).status == 201
    cid = _campaign(api, track_clicks=False, track_opens=False)
    # When it is started and dispatched
    assert api.post(f"/api/campaigns/{cid}/start").status == 202
    dispatch()
    # Then each message ends with the footer, in HTML and text
    sent = outbox.items("ann@x.example")
    assert len(sent) == 1
    html, text = sent[0].html, sent[0].text
    assert "/unsubscribe/" in html and "Acme Ltd<br>1 Main Street, Springfield" in html
    assert "Unsubscribe: http://127.0.0.1:9/unsubscribe/" in text
    assert "1 Main Street, Springfield" in text
    assert "Hello Ann" in html


def test_given_its_own_unsubscribe_link_then_no_footer_is_added(api: Api, tenant, sink, dispatch):
    server, outbox = sink
    assert api.post("/api/mailboxes", smtp_mailbox(server.port)).status == 201
    html = '<p>Hi {{ first_name }}</p><p><a href="{{ unsubscribe_url }}">Leave</a></p>'
    cid = _campaign(api, html=html)
    assert api.post(f"/api/campaigns/{cid}/start").status == 202
    dispatch()
    sent = outbox.items("bob@x.example")
    assert len(sent) == 1
    assert sent[0].html.count("/unsubscribe/") == 1 and "Leave" in sent[0].html
    assert "Unsubscribe:" not in sent[0].text
