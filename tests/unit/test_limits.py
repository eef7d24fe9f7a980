"""Limits and the mailbox planner: exact caps, resets, sliding windows, fair choice."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sendrail.domain import limits
from sendrail.domain.limits import FixedRule, LimitReached, LimitState, Period, Rules, SlidingRule
from sendrail.domain.planning import Demand, MailboxOption, plan_batch

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_given_a_daily_cap_when_taken_to_the_cap_then_the_next_unit_is_refused():
    rules = Rules((FixedRule(Period.DAY, 3),))
    state = LimitState()
    for _ in range(3):
        state = limits.take(state, rules, T0)
    assert limits.available(state, rules, T0) == 0
    with pytest.raises(LimitReached):
        limits.take(state, rules, T0)


def test_given_a_daily_cap_in_a_timezone_then_it_resets_at_local_midnight():
    rules = Rules((FixedRule(Period.DAY, 1, "America/New_York"),))
    state = limits.take(LimitState(), rules, T0)  # 03:00 in New York
    assert limits.next_free(state, rules, T0) == datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
    assert limits.available(state, rules, datetime(2026, 11, 24, 5, 0, tzinfo=UTC)) == 1
    assert limits.available(state, rules, datetime(2026, 11, 24, 4, 59, tzinfo=UTC)) == 0


def test_given_a_sliding_window_then_no_span_holds_more_than_max():
    rules = Rules(sliding=SlidingRule(2, 1800))
    state = limits.take(LimitState(), rules, T0)
    state = limits.take(state, rules, T0 + timedelta(seconds=600))
    assert limits.available(state, rules, T0 + timedelta(seconds=1799)) == 0
    frees = limits.next_free(state, rules, T0 + timedelta(seconds=900))
    assert T0 + timedelta(seconds=1800) < frees < T0 + timedelta(seconds=1801)


def test_given_a_stamp_later_than_now_then_the_log_counts_from_the_stamp():
    rules = Rules(sliding=SlidingRule(1, 60))
    state = limits.take(LimitState(), rules, T0, stamp=T0 + timedelta(seconds=30))
    assert limits.available(state, rules, T0 + timedelta(seconds=70)) == 0
    assert limits.available(state, rules, T0 + timedelta(seconds=91)) == 1


def test_given_release_in_the_same_bucket_then_units_come_back():
    rules = Rules((FixedRule(Period.HOUR, 2),))
    state = limits.take(LimitState(), rules, T0, units=2)
    assert limits.available(limits.release(state, rules, T0, 1, T0), rules, T0) == 1
    later = T0 + timedelta(hours=1)
    assert limits.release(state, rules, later, 1, T0) == state  # bucket gone: nothing to give


def test_given_no_cap_then_the_day_is_still_counted():
    rules = Rules((FixedRule(Period.DAY, None),))
    state = limits.take(LimitState(), rules, T0, units=5)
    assert limits.available(state, rules, T0) is None
    assert limits.day_used(state, rules, T0) == 5


def _mbx(i: str) -> MailboxOption:
    return MailboxOption(i, f"mbx#{i}")


def test_given_three_mailboxes_then_most_remaining_capacity_wins_and_ties_spread():
    rules = {f"mbx#{i}": Rules((FixedRule(Period.DAY, 10),)) for i in "abc"}
    states = {"mbx#a": limits.take(LimitState(), rules["mbx#a"], T0, units=4)}
    demands = [Demand(f"m{n}", (_mbx("a"), _mbx("b"), _mbx("c"))) for n in range(9)]
    plan = plan_batch(demands, states, rules, T0)
    used = {m: list(plan.assigned.values()).count(m) for m in "abc"}
    assert used == {"a": 1, "b": 4, "c": 4}  # ends with 10-5, 10-4, 10-4 remaining... evenly


def test_given_a_recipient_domain_cap_then_extra_messages_wait_for_the_next_hour():
    rules = {
        "mbx#a": Rules((FixedRule(Period.DAY, 100),)),
        "rdom#t#gmail.com": Rules((FixedRule(Period.HOUR, 2),)),
    }
    demands = [Demand(f"m{n}", (_mbx("a"),), ("rdom#t#gmail.com",)) for n in range(4)]
    plan = plan_batch(demands, {}, rules, T0 + timedelta(minutes=10))
    assert len(plan.assigned) == 2
    assert set(plan.deferred.values()) == {T0 + timedelta(hours=1)}


def test_given_no_mailbox_then_the_message_waits():
    plan = plan_batch([Demand("m", ())], {}, {}, T0)
    assert plan.deferred["m"] > T0


# --- the property: whatever happens, no limit is ever exceeded ------------------------------


@st.composite
def scenarios(draw):
    mailboxes = draw(st.integers(1, 4))
    rules: dict[str, Rules] = {}
    options = []
    for i in range(mailboxes):
        fixed = [
            FixedRule(
                Period.DAY,
                draw(st.one_of(st.none(), st.integers(0, 8))),
                draw(st.sampled_from(["UTC", "Asia/Tokyo", "America/Denver"])),
            )
        ]
        if draw(st.booleans()):
            fixed.append(FixedRule(Period.HOUR, draw(st.integers(0, 4))))
        sliding = (
            SlidingRule(draw(st.integers(1, 3)), draw(st.integers(60, 7200)))
            if draw(st.booleans())
            else None
        )
        rules[f"mbx#{i}"] = Rules(tuple(fixed), sliding)
        options.append(_mbx(str(i)))
    shared = []
    if draw(st.booleans()):
        rules["ten#t"] = Rules(
            (
                FixedRule(Period.HOUR, draw(st.integers(0, 6))),
                FixedRule(Period.DAY, draw(st.integers(0, 12))),
            )
        )
        shared.append("ten#t")
    if draw(st.booleans()):
        rules["rdom#t#gmail.com"] = Rules((FixedRule(Period.MINUTE, draw(st.integers(0, 2))),))
        shared.append("rdom#t#gmail.com")
    steps = draw(
        st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3 * 3600)), min_size=1, max_size=25)
    )
    return rules, tuple(options), tuple(shared), steps


def _within_all(sent: list[tuple[datetime, str]], rules: dict[str, Rules], subjects_of) -> None:
    """Check every rule against the record of actual sends."""
    for subject, rule_set in rules.items():
        times = sorted(t for t, mailbox in sent if subject in subjects_of(mailbox))
        for rule in rule_set.fixed:
            if rule.max is None:
                continue
            buckets: dict[str, int] = {}
            for t in times:
                key = limits.bucket_key(rule.period, rule.tz, t)
                buckets[key] = buckets.get(key, 0) + 1
            assert max(buckets.values(), default=0) <= rule.max, (subject, rule, buckets)
        if rule_set.sliding:
            span = timedelta(seconds=rule_set.sliding.seconds)
            for i, t in enumerate(times):
                inside = [u for u in times[: i + 1] if u > t - span]
                assert len(inside) <= rule_set.sliding.max, (subject, rule_set.sliding, inside)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_property_no_limit_is_ever_exceeded(scenario):
    rules, options, shared, steps = scenario
    states: dict[str, LimitState] = {}
    now = T0
    sent: list[tuple[datetime, str]] = []
    for count, gap in steps:
        now += timedelta(seconds=gap)
        demands = [Demand(f"{now.isoformat()}#{n}", options, shared) for n in range(count)]
        plan = plan_batch(demands, states, rules, now)
        states.update(plan.states)
        sent.extend((now, mailbox) for mailbox in plan.assigned.values())
        for ready in plan.deferred.values():
            assert ready > now  # a deferral always points to the future

    def subjects_of(mailbox: str) -> set[str]:
        return {f"mbx#{mailbox}", *shared}

    _within_all(sent, rules, subjects_of)
