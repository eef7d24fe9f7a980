"""Settling a claim: one table gives the stored recipient and the campaign counters'
change, and the counters always agree with a recount of the recipients."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sendrail.domain.delivery import Outcome, counted, settle
from sendrail.domain.models import Recipient, RecipientStatus

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def claimed(attempts: int = 1, **extra) -> Recipient:
    return Recipient(
        campaign_id="cmp_1",
        email="ann@example.org",
        tenant_id="ten_1",
        status=RecipientStatus.SENDING,
        attempts=attempts,
        mailbox_id="mbx_1",
        message_id="<x@example.com>",
        lease_until=NOW + timedelta(minutes=10),
        created_at=NOW,
        updated_at=NOW,
        **extra,
    )


def test_given_a_first_attempt_sent_then_queued_moves_to_sent():
    done = settle(claimed(), Outcome.SENT, NOW)
    assert done.recipient.status is RecipientStatus.SENT and done.recipient.sent_at == NOW
    assert done.recipient.lease_until is None and done.recipient.last_error is None
    assert done.delta == {"queued": -1, "sent": 1}


def test_given_a_retry_that_fails_for_good_then_it_also_leaves_deferred():
    done = settle(claimed(attempts=2, last_error="451"), Outcome.FAILED, NOW, error="550 no")
    assert done.delta == {"queued": -1, "deferred": -1, "failed": 1}
    assert done.recipient.last_error == "550 no"


def test_given_a_temporary_error_then_it_is_deferred_until_its_retry():
    later = NOW + timedelta(minutes=5)
    done = settle(claimed(), Outcome.RETRY, NOW, error="451 later", retry_at=later)
    assert done.recipient.status is RecipientStatus.QUEUED
    assert done.recipient.next_attempt_at == later and done.recipient.attempts == 1
    assert done.delta == {"deferred": 1}


def test_given_a_message_handed_to_another_mailbox_then_its_attempt_is_given_back():
    done = settle(claimed(attempts=1), Outcome.NOT_SENT, NOW, error="auth refused")
    assert done.recipient.attempts == 0 and done.recipient.status is RecipientStatus.QUEUED
    assert done.delta == {}


def test_given_a_retry_without_its_time_then_it_is_refused():
    with pytest.raises(ValueError, match="time"):
        settle(claimed(), Outcome.RETRY, NOW)


@given(
    attempts=st.integers(1, 25),
    outcome=st.sampled_from(list(Outcome)),
    error=st.one_of(st.none(), st.text(max_size=700)),
)
def test_property_counters_always_agree_with_a_recount(attempts, outcome, error):
    before = claimed(attempts=attempts)
    retry_at = NOW + timedelta(seconds=30) if outcome is Outcome.RETRY else None
    done = settle(before, outcome, NOW, error=error, retry_at=retry_at)
    # What the recipient counted before its claim, plus the change, is what it counts now.
    was = counted(
        before.model_copy(update={"status": RecipientStatus.QUEUED, "attempts": attempts - 1})
    )
    total = dict(was)
    for name, change in done.delta.items():
        total[name] = total.get(name, 0) + change
    assert {k: v for k, v in total.items() if v} == counted(done.recipient)
    assert done.recipient.lease_until is None
    assert done.recipient.status is not RecipientStatus.SENDING
    if error is not None and outcome is not Outcome.SENT:
        assert done.recipient.last_error == error[:500]
