"""Hostile templates through the API and the dispatch engine (issue 12): over budget at
save time is a 422 naming the field, with nothing stored; over budget for one recipient at
send time fails that recipient, clearly, while the others of the run are sent."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy

import pytest
import time_machine
from sendrail.domain.templates import DEFAULT

from tests.conftest import Api, run_dispatch, smtp_mailbox
from tests.fakes.smtp import ScriptedSmtp
from tests.integration.test_api_bad_input import snapshot

START = "2026-11-23T08:00:00Z"
POWER = "Hi {{ (7 ** 8000000) % 10 }}"
LOOPS = "{% for i in range(100000) %}{% for j in range(40) %}x{% endfor %}{% endfor %}"


@pytest.fixture
def smtp() -> Iterator[ScriptedSmtp]:
    server = ScriptedSmtp().start()
    yield server
    server.stop()


def test_given_arithmetic_on_huge_numbers_in_a_subject_then_creating_is_a_422(api, tenant, aws):
    before = snapshot(aws)
    reply = api.post("/api/campaigns", {"name": "n", "subject": POWER, "html": "<p>h</p>"})
    assert reply.status == 422, reply.raw
    assert reply.body["error"]["code"] == "validation_failed"
    assert reply.body["error"]["details"] == [
        {"field": "subject", "reason": f"over budget: a number larger than {DEFAULT.int_bits} bits"}
    ]
    assert snapshot(aws) == before


def test_given_nested_loops_in_an_edit_then_updating_is_a_422_and_the_campaign_unchanged(
    api: Api, tenant, aws
):
    cid = api.post("/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}).body["id"]
    before = snapshot(aws)
    reply = api.patch(
        f"/api/campaigns/{cid}", {"html": f"<p>{LOOPS}</p>", "text": "{{ 10 ** 4400 }}"}
    )
    assert reply.status == 422, reply.raw
    details = {d["field"]: d["reason"] for d in reply.body["error"]["details"]}
    assert details == {
        "html": f"over budget: loops ran more than {DEFAULT.iterations:,} times",
        "text": f"over budget: a number larger than {DEFAULT.int_bits} bits",
    }
    assert snapshot(aws) == before
    assert api.get(f"/api/campaigns/{cid}").body["html"] == "<p>h</p>"


def test_given_a_transactional_message_over_budget_then_enqueueing_is_a_422(api, tenant, aws):
    before = snapshot(aws)
    reply = api.post(
        "/api/queue/enqueue",
        {"to": "a@example.com", "subject": "s", "html": "{{ 'x' * 1000000000 }}"},
    )
    assert reply.status == 422, reply.raw
    assert reply.body["error"]["details"][0]["field"] == "html"
    assert reply.body["error"]["details"][0]["reason"].startswith("over budget: a value longer")
    assert snapshot(aws) == before


def test_given_one_recipient_over_budget_at_send_time_then_only_it_fails(api, tenant, smtp):
    """The budget depends on the recipient's data here, so the template passes at save
    time; at send time the heavy recipient ends ``failed`` with a clear reason, at once,
    and the run sends the others."""
    html = (
        "<p>Hi {{ first_name|title }}</p>"
        "{% for i in range(size) %}{% for j in range(size) %}{% endfor %}{% endfor %}"
        "{% for o in orders %}<li>{{ o.name }}: {{ '%.2f'|format(o.price) }}</li>{% endfor %}"
    )
    with time_machine.travel(START, tick=False):
        api.post("/api/mailboxes", smtp_mailbox(smtp.port))
        created = api.post("/api/campaigns", {"name": "c", "subject": "Hi", "html": html})
        assert created.status == 201, created.raw
        cid = created.body["id"]
        people = [
            {"email": "heavy@example.com", "data": {"first_name": "hy", "size": 1000}},
            {
                "email": "ann@example.com",
                "data": {"first_name": "ann", "size": 3, "orders": [{"name": "hat", "price": 9}]},
            },
            {"email": "bob@example.com", "data": {"first_name": "bob", "size": 0}},
        ]
        reply = api.post(f"/api/campaigns/{cid}/recipients", {"recipients": people})
        assert reply.status == 200, reply.raw
        assert api.post(f"/api/campaigns/{cid}/start").status == 202
        run_dispatch()
        rows = {
            r["email"]: r
            for r in api.get(f"/api/campaigns/{cid}/recipients?limit=10").body["items"]
        }
    heavy = rows["heavy@example.com"]
    assert heavy["status"] == "failed"
    assert heavy["last_error"] == (
        f"template: over budget: loops ran more than {DEFAULT.iterations:,} times"
    )
    assert smtp.count("heavy@example.com") == 0
    assert rows["ann@example.com"]["status"] == "sent"
    assert rows["bob@example.com"]["status"] == "sent"
    assert smtp.count("ann@example.com") == 1 and smtp.count("bob@example.com") == 1
    raw = next(d.raw for d in smtp.delivered if d.to == "ann@example.com")
    html_part = message_from_bytes(raw, policy=policy.default).get_body(("html",))
    assert html_part is not None
    content = html_part.get_content()
    assert "<p>Hi Ann</p>" in content and "<li>hat: 9.00</li>" in content
