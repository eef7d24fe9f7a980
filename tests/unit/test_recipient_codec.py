"""The recipient codec: what dispatch writes and reads through the client is exactly what
the pynamodb model reads and writes, and a recipient survives the round trip."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sendrail.domain.models import Recipient, RecipientStatus
from sendrail.storage.recipients import from_item, from_raw, to_item, to_raw

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
times = st.one_of(st.none(), st.integers(0, 10**9).map(lambda us: T0 + timedelta(microseconds=us)))
text = st.one_of(st.none(), st.text(min_size=1, max_size=40))
data = st.dictionaries(
    st.text(min_size=1, max_size=8),
    st.one_of(st.integers(-(10**6), 10**6), st.text(max_size=20), st.booleans(), st.none()),
    max_size=4,
)


@st.composite
def recipients(draw) -> Recipient:
    status = draw(st.sampled_from(list(RecipientStatus)))
    return Recipient(
        campaign_id=draw(st.sampled_from(["cmp_1", "msg_2"])),
        email=draw(st.sampled_from(["ann@example.org", "bo@example.com"])),
        tenant_id="ten_1",
        status=status,
        data=draw(data),
        attempts=draw(st.integers(0, 20)),
        mailbox_id=draw(text),
        last_error=draw(text),
        message_id=draw(text),
        sent_at=draw(times),
        opened_at=draw(times),
        clicked_at=draw(times),
        lease_until=draw(times) if status is RecipientStatus.SENDING else None,
        next_attempt_at=draw(times),
        cleared_at=draw(times),
        import_marker=draw(text),
        created_at=draw(times) or T0,
        updated_at=draw(times) or T0,
    )


@given(recipients())
def test_property_a_recipient_survives_the_round_trip(recipient):
    assert from_raw(to_raw(recipient)) == recipient
    assert from_item(to_item(recipient)) == recipient


@given(recipients())
def test_property_the_model_reads_and_writes_the_same_item(recipient):
    raw = to_raw(recipient)
    assert to_item(recipient).serialize() == raw
    sending = recipient.status is RecipientStatus.SENDING
    # Only a claim carries its lease; no index of claims is written (see services.feeding).
    assert ("lease_until" in raw) is (sending and recipient.lease_until is not None)
    assert not any("shard" in name for name in raw)
