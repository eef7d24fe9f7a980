"""The warm-up plan: a ramp that climbs only on healthy days (hypothesis properties)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sendrail.domain.models import Warmup
from sendrail.domain.warmup import (
    HOLD_MIN_SENT,
    DayHealth,
    allowance,
    plan,
    unhealthy,
)

START = date(2026, 11, 1)

ramps = st.builds(
    Warmup,
    start_per_day=st.integers(1, 200),
    increase_percent=st.floats(1, 100),
    max_per_day=st.integers(1, 5000),
)
# Per day: (sent, bounced, complained); some days healthy, some over the hold levels.
days = st.lists(
    st.tuples(st.integers(0, 300), st.integers(0, 30), st.integers(0, 3)), min_size=1, max_size=40
)


def _health(rows: list[tuple[int, int, int]]) -> dict[date, DayHealth]:
    out = {}
    for i, (sent, bounced, complained) in enumerate(rows):
        day = START + timedelta(days=i)
        out[day] = DayHealth(day, sent, min(bounced, sent), min(complained, sent))
    return out


@settings(max_examples=200, deadline=None)
@given(ramp=ramps, rows=days, cap=st.one_of(st.none(), st.integers(1, 3000)))
def test_the_allowance_never_exceeds_the_schedule_and_never_advances_while_unhealthy(
    ramp: Warmup, rows: list[tuple[int, int, int]], cap: int | None
) -> None:
    health = _health(rows)
    previous = None
    for i in range(len(rows) + 1):
        today = START + timedelta(days=i)
        found = plan(ramp, START, today, health, cap)
        # Never above the healthy ramp for that day, the ramp's top, or the cap
        assert found.today_allowance <= allowance(ramp, i)
        assert found.today_allowance <= ramp.max_per_day
        assert cap is None or found.today_allowance <= cap
        # The schedule starts today, runs day by day, never goes down, ends at the top
        assert found.schedule[0] == (today, found.today_allowance)
        values = [n for _, n in found.schedule]
        assert values == sorted(values)
        assert [d for d, _ in found.schedule] == [
            today + timedelta(days=k) for k in range(len(found.schedule))
        ]
        if previous is not None:
            yesterday = today - timedelta(days=1)
            if unhealthy(health[yesterday]):
                # An unhealthy day does not move the ramp, and the plan says it is holding
                assert found.today_allowance == previous
                assert found.holding and found.reason
            else:
                assert found.today_allowance >= previous
        previous = found.today_allowance


def test_given_a_bad_day_then_the_ramp_holds_one_day_and_says_why() -> None:
    ramp = Warmup(start_per_day=10, increase_percent=100, max_per_day=80)
    bad = START + timedelta(days=1)
    health = {bad: DayHealth(bad, sent=HOLD_MIN_SENT * 5, bounced=10)}
    found = plan(ramp, START, START + timedelta(days=2), health)
    assert found.today_allowance == 20  # two days in, one of them held: one step
    assert found.holding and "bounce rate 10.0%" in (found.reason or "")
    assert [n for _, n in found.schedule] == [20, 40, 80]
    clean = plan(ramp, START, START + timedelta(days=3), health)
    assert clean.today_allowance == 40 and not clean.holding


def test_given_too_few_sends_then_the_day_is_not_judged() -> None:
    day = START
    assert unhealthy(DayHealth(day, sent=HOLD_MIN_SENT - 1, bounced=HOLD_MIN_SENT - 1)) is None
    assert unhealthy(DayHealth(day, sent=1000, complained=2)) is not None
