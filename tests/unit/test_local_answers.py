"""The local recipients' answers are what the inbox watcher expects from real ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sendrail.domain.inbox_classify import InboxKind, classify
from sendrail.services.bounces import Kind, classify_dsn
from sendrail_local.answers import build, rule_for
from sendrail_local.outbox import Received

WHEN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
OURS = "<cmp_01JD8Z4K7Q9ABCDEFGHJKMNPQR.f9a366707a663a291765@mail.acme.example>"


def sent_to(address: str) -> Received:
    return Received(
        to=address,
        sender="sam@acme.example",
        mailbox_id="mbx_1",
        subject="Quick question",
        message_id=OURS,
        headers={},
        html="<p>Hi</p>",
        text="Hi there",
        received_at=WHEN,
        via="smtp",
    )


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("bounce-7@x.example", ("hard_bounce", timedelta(minutes=1))),
        ("softbounce@x.example", ("soft_bounce", timedelta(minutes=1))),
        ("Reply.jane@x.example", ("reply", timedelta(minutes=10))),
        ("ooo@x.example", ("auto_reply", timedelta(0))),
        ("jane@x.example", None),
    ],
)
def test_given_a_local_part_then_its_answer_and_delay(address, expected):
    assert rule_for(address) == expected


@pytest.mark.parametrize(
    ("kind", "status"), [("hard_bounce", Kind.HARD), ("soft_bounce", Kind.SOFT)]
)
def test_given_a_bounce_then_it_is_an_rfc3464_dsn_naming_our_message(kind, status):
    raw = build(kind, sent_to("bounce@x.example"), WHEN)
    assert classify(raw).kind is InboxKind.DSN
    (event,) = classify_dsn(raw)
    assert (event.email, event.kind, event.message_id) == ("bounce@x.example", status, OURS)


@pytest.mark.parametrize(
    ("kind", "expected"), [("reply", InboxKind.REPLY), ("auto_reply", InboxKind.AUTO_REPLY)]
)
def test_given_an_answer_then_it_names_our_message(kind, expected):
    found = classify(build(kind, sent_to("reply@x.example"), WHEN))
    assert found.kind is expected
    assert [o.message_id for o in found.ours] == [OURS]
