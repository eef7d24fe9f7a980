"""The webhook signature and retry schedule (pure; issue 17)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sendrail.domain import webhooks as rules

T0 = datetime(2026, 11, 23, 8, tzinfo=UTC)


def test_given_a_body_then_the_signature_is_stripes_scheme():
    header = rules.signature("whsec_x", 1_700_000_000, b'{"a":1}')
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert rules.verify("whsec_x", header, b'{"a":1}', 1_700_000_100)
    assert not rules.verify("whsec_y", header, b'{"a":1}', 1_700_000_100)
    assert not rules.verify("whsec_x", header, b'{"a":2}', 1_700_000_100)
    assert not rules.verify("whsec_x", header, b'{"a":1}', 1_700_001_000)  # a replay
    assert not rules.verify("whsec_x", "garbage", b'{"a":1}', 1_700_000_000)


def test_given_failures_then_the_delays_double_from_30s_to_2h():
    delays = [rules.next_delay(n).total_seconds() for n in range(1, 11)]
    assert delays[:5] == [30, 60, 120, 240, 480]
    assert max(delays) == 7200 and delays[-1] == 7200


@given(st.integers(min_value=1, max_value=10_000))
def test_given_any_attempt_then_retries_stop_within_a_day(attempts):
    now, attempt = T0, 1
    while (when := rules.retry_at(T0, now, attempt)) is not None and attempt < attempts:
        assert now < when <= T0 + rules.GIVE_UP_AFTER
        now, attempt = when, attempt + 1
    assert attempt <= 25  # about 19 tries in a day; never an endless loop
    if attempt < attempts:
        assert rules.retry_at(T0, now, attempt) is None
        assert now + rules.next_delay(attempt) - T0 > rules.GIVE_UP_AFTER - timedelta(0)
