"""Delivery estimates: a day-by-day simulation under limits, windows and warm-up."""

from datetime import UTC, date, datetime, timedelta

from sendrail.domain.estimate import SimulatedSender, simulate
from sendrail.domain.limits import FixedRule, LimitState, Period, Rules, SlidingRule
from sendrail.domain.windows import Window

MONDAY_8 = datetime(2026, 11, 23, 8, tzinfo=UTC)


def daily(n: int) -> SimulatedSender:
    return SimulatedSender(rules_at=lambda _when: Rules((FixedRule(Period.DAY, n),)))


def test_given_100k_over_30_mailboxes_of_1000_a_day_then_it_takes_4_days():
    est = simulate(
        100_000,
        [daily(1000) for _ in range(30)],
        MONDAY_8,
        windows=[Window(start="08:00", end="20:00")],
    )
    assert [n for _, n in est.per_day] == [30_000, 30_000, 30_000, 10_000]
    assert est.completes_at is not None and est.completes_at.date() == date(2026, 11, 26)


def test_given_a_window_then_nothing_is_placed_outside_it():
    est = simulate(
        10,
        [SimulatedSender(rules_at=lambda _w: Rules((FixedRule(Period.HOUR, 2),)))],
        datetime(2026, 11, 23, 17, tzinfo=UTC),
        windows=[Window(start="08:00", end="20:00", timezone="UTC")],
    )
    # 17:00, 18:00, 19:00 today (6), then 08:00 and 09:00 tomorrow (4).
    assert est.per_day == [(date(2026, 11, 23), 6), (date(2026, 11, 24), 4)]
    assert est.completes_at == datetime(2026, 11, 24, 9, tzinfo=UTC)


def test_given_a_warmup_ramp_then_capacity_grows_each_day():
    start = MONDAY_8

    def ramp(when: datetime) -> Rules:
        day = (when.date() - start.date()).days
        return Rules((FixedRule(Period.DAY, 10 * 2**day),))

    est = simulate(70, [SimulatedSender(rules_at=ramp)], start)
    assert [n for _, n in est.per_day] == [10, 20, 40]


def test_given_a_sliding_window_then_the_rate_is_respected():
    est = simulate(
        8, [SimulatedSender(rules_at=lambda _w: Rules(sliding=SlidingRule(2, 1800)))], MONDAY_8
    )
    assert est.completes_at == MONDAY_8 + timedelta(minutes=90)


def test_given_a_tenant_cap_then_it_bounds_all_mailboxes_together():
    est = simulate(
        300,
        [daily(1000), daily(1000)],
        MONDAY_8,
        tenant_rules=Rules((FixedRule(Period.DAY, 100),)),
        tenant_state=LimitState(),
    )
    assert [n for _, n in est.per_day] == [100, 100, 100]


def test_given_no_mailbox_then_there_is_no_completion_date():
    est = simulate(5, [], MONDAY_8)
    assert est.completes_at is None and est.per_day == []


def test_given_already_used_capacity_today_then_it_counts():
    rules = Rules((FixedRule(Period.DAY, 10),))
    from sendrail.domain import limits

    used = limits.take(LimitState(), rules, MONDAY_8, units=8)
    est = simulate(5, [SimulatedSender(rules_at=lambda _w: rules, state=used)], MONDAY_8)
    assert [n for _, n in est.per_day] == [2, 3]


def test_given_a_shared_limit_then_its_senders_stay_within_it_together():
    from sendrail.domain.estimate import SimulatedShared

    def capped(n: int) -> SimulatedSender:
        return SimulatedSender(
            rules_at=lambda _when: Rules((FixedRule(Period.DAY, n),)), shared=("ses#r",)
        )

    est = simulate(
        500,
        [capped(1000), capped(1000)],
        MONDAY_8,
        shared={"ses#r": SimulatedShared(Rules((FixedRule(Period.DAY, 200),)))},
    )
    assert [n for _, n in est.per_day] == [200, 200, 100]


def test_given_100k_at_200_a_day_then_it_ends_in_500_days_past_the_simulated_horizon():
    est = simulate(100_000, [daily(200)], MONDAY_8)
    assert est.completes_at is not None
    assert (est.completes_at.date() - MONDAY_8.date()).days == 499
    assert len(est.per_day) == 500 and {n for _, n in est.per_day} == {200}
    # The first 401 days (400 days from 08:00) are simulated, the rest placed at their pace
    assert est.extrapolated_from == MONDAY_8.date() + timedelta(days=401)


def test_given_the_work_runs_out_then_the_rest_goes_at_the_pace_simulated():
    # Three mailboxes of 1,000 a day, simulated for a handful of steps only
    est = simulate(30_000, [daily(1000) for _ in range(3)], MONDAY_8, work=30)
    assert est.extrapolated_from is not None
    assert sum(n for _, n in est.per_day) == 30_000
    assert {n for _, n in est.per_day} == {3000}
    assert est.completes_at is not None and est.completes_at.date() == date(2026, 12, 2)


def test_given_a_per_minute_cap_then_each_minute_of_the_step_is_used():
    """Outlook's 30 a minute: 1,000 go out in 34 minutes, not in 34 quarters of an hour."""
    outlook = SimulatedSender(
        rules_at=lambda _w: Rules((FixedRule(Period.DAY, 10_000), FixedRule(Period.MINUTE, 30)))
    )
    est = simulate(1_000, [outlook], MONDAY_8)
    assert est.completes_at is not None
    assert timedelta(minutes=33) <= est.completes_at - MONDAY_8 <= timedelta(minutes=34)
    assert est.per_day == [(MONDAY_8.date(), 1_000)]


def test_given_a_shared_per_minute_rate_then_its_senders_fill_each_minute_together():
    """An SES account of 60 a minute shared by two mailboxes: 600 in ten minutes."""
    from sendrail.domain.estimate import SimulatedShared

    account = SimulatedShared(Rules((FixedRule(Period.MINUTE, 60),)))
    senders = [SimulatedSender(rules_at=lambda _w: Rules(), shared=("ses",)) for _ in range(2)]
    est = simulate(600, senders, MONDAY_8, shared={"ses": account})
    assert est.completes_at is not None
    assert est.completes_at - MONDAY_8 == timedelta(minutes=9)
