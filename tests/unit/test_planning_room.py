"""The planner and the lanes' room: a mailbox gets no more messages than its lanes can take
now; a message whose every mailbox with limits to spare is full waits (unreserved),
one whose mailboxes have no limits to spare is deferred."""

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from sendrail.domain import limits
from sendrail.domain.limits import FixedRule, LimitState, Period, Rules
from sendrail.domain.planning import Demand, MailboxOption, plan_batch

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_given_room_for_two_then_the_third_message_waits_and_holds_nothing():
    rules = {"mbx#a": Rules((FixedRule(Period.DAY, 100),))}
    demands = [Demand(f"m{n}", (MailboxOption("a", "mbx#a", room=2),)) for n in range(3)]
    plan = plan_batch(demands, {}, rules, T0)
    assert list(plan.assigned) == ["m0", "m1"]
    assert plan.waiting == ["m2"] and not plan.deferred
    assert plan.units == {"mbx#a": 2}  # the waiting one reserved nothing


def test_given_a_full_mailbox_then_its_messages_go_to_one_with_room():
    rules = {s: Rules((FixedRule(Period.DAY, 100),)) for s in ("mbx#a", "mbx#b")}
    options = (MailboxOption("a", "mbx#a", room=0), MailboxOption("b", "mbx#b", room=5))
    plan = plan_batch([Demand(f"m{n}", options) for n in range(4)], {}, rules, T0)
    assert set(plan.assigned.values()) == {"b"}


def test_given_no_limit_to_spare_then_the_message_is_deferred_even_with_room():
    rules = {"mbx#a": Rules((FixedRule(Period.DAY, 0),))}
    plan = plan_batch([Demand("m", (MailboxOption("a", "mbx#a", room=9),))], {}, rules, T0)
    assert "m" in plan.deferred and not plan.waiting


@st.composite
def worlds(draw):
    size = draw(st.integers(1, 4))
    rules = {
        f"mbx#{i}": Rules((FixedRule(Period.DAY, draw(st.one_of(st.none(), st.integers(0, 6)))),))
        for i in range(size)
    }
    options = tuple(
        MailboxOption(str(i), f"mbx#{i}", room=draw(st.one_of(st.none(), st.integers(0, 4))))
        for i in range(size)
    )
    return rules, options, draw(st.integers(0, 20))


@settings(max_examples=200, deadline=None)
@given(worlds())
def test_property_room_is_never_exceeded_and_every_message_has_one_fate(world):
    rules, options, count = world
    demands = [Demand(f"m{n}", options) for n in range(count)]
    plan = plan_batch(demands, {}, rules, T0)
    for option in options:
        placed = sum(1 for m in plan.assigned.values() if m == option.mailbox_id)
        if option.room is not None:
            assert placed <= option.room
        assert plan.units.get(option.subject, 0) == placed
    fates = [set(plan.assigned), set(plan.waiting), set(plan.deferred)]
    assert sum(len(f) for f in fates) == count
    assert set.union(*fates) == {d.key for d in demands}
    # A message waits only when every mailbox with limits to spare was full.
    if plan.waiting:
        for option in options:
            placed = sum(1 for m in plan.assigned.values() if m == option.mailbox_id)
            state = plan.states.get(option.subject, LimitState())
            full = option.room is not None and placed >= option.room
            assert full or not limits.has_room(state, rules[option.subject], T0)
