"""Send windows: open/closed, crossing midnight, days, DST, intersections."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sendrail.domain.windows import Window, next_open_all


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_given_a_day_window_when_inside_and_outside_then_open_only_inside():
    w = Window(start="08:00", end="20:00", timezone="Europe/Paris")
    assert w.is_open(at("2026-11-23T08:00:00+01:00"))
    assert w.is_open(at("2026-11-23T19:59:59+01:00"))
    assert not w.is_open(at("2026-11-23T20:00:00+01:00"))
    assert not w.is_open(at("2026-11-23T07:59:59+01:00"))


def test_given_closed_in_the_evening_then_next_open_is_tomorrow_morning_local():
    w = Window(start="08:00", end="20:00", timezone="America/New_York")
    assert w.next_open(at("2026-11-23T21:00:00-05:00")) == at("2026-11-24T08:00:00-05:00")


def test_given_a_window_crossing_midnight_then_days_name_the_opening_day():
    w = Window(start="22:00", end="06:00", timezone="UTC", days=["fri"])
    assert w.is_open(at("2026-11-27T23:00:00+00:00"))  # Friday night
    assert w.is_open(at("2026-11-28T05:59:00+00:00"))  # Saturday small hours
    assert not w.is_open(at("2026-11-28T23:00:00+00:00"))  # Saturday night
    assert w.next_open(at("2026-11-28T07:00:00+00:00")) == at("2026-12-04T22:00:00+00:00")


def test_given_weekdays_only_then_weekend_waits_for_monday():
    w = Window(start="09:00", end="17:00", timezone="UTC", days=["mon", "tue", "wed", "thu", "fri"])
    saturday = at("2026-11-28T10:00:00+00:00")
    assert not w.is_open(saturday)
    assert w.next_open(saturday) == at("2026-11-30T09:00:00+00:00")


def test_given_days_null_or_left_out_then_every_day():
    every = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert Window(start="09:00", end="17:00", days=None).days == every
    assert Window(start="09:00", end="17:00").days == every


def test_given_days_as_iso_numbers_then_they_become_names():
    assert Window(start="09:00", end="17:00", days=[1, 7]).days == ["mon", "sun"]


@pytest.mark.parametrize(
    "bad",
    [
        {"start": "25:00", "end": "10:00"},
        {"start": "08:00", "end": "9"},
        {"start": "08:00", "end": "10:00", "timezone": "Mars/Base"},
        {"start": "08:00", "end": "10:00", "days": ["someday"]},
        {"start": "08:00", "end": "10:00", "days": []},
    ],
)
def test_given_bad_windows_then_they_are_refused(bad):
    with pytest.raises(ValueError):
        Window(**bad)


def test_given_spring_forward_then_window_still_opens():
    # 02:30 does not exist in Europe/Paris on 2026-03-29.
    w = Window(start="02:30", end="04:00", timezone="Europe/Paris")
    opened = w.next_open(at("2026-03-29T00:00:00+00:00"))
    assert w.is_open(opened)


def test_given_two_windows_then_next_open_all_is_their_overlap():
    tenant = Window(start="08:00", end="20:00", timezone="UTC")
    campaign = Window(start="18:00", end="23:00", timezone="UTC")
    assert next_open_all([tenant, campaign], at("2026-11-23T09:00:00+00:00")) == at(
        "2026-11-23T18:00:00+00:00"
    )


def test_given_disjoint_windows_then_they_never_open():
    a = Window(start="08:00", end="09:00", timezone="UTC")
    b = Window(start="10:00", end="11:00", timezone="UTC")
    assert next_open_all([a, b], at("2026-11-23T00:00:00+00:00")) is None


hhmm = st.builds(
    lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 45])
)
zones = st.sampled_from(
    ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]
)
moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(
    start=hhmm,
    end=hhmm,
    tz=zones,
    when=moments,
    days=st.lists(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), min_size=1),
)
def test_property_next_open_is_open_and_nothing_earlier_is(start, end, tz, when, days):
    w = Window(start=start, end=end, timezone=tz, days=days)
    opened = w.next_open(when)
    assert opened >= when
    assert w.is_open(opened)
    # No open minute between ``when`` and the answer.
    probe = when
    while probe < opened - timedelta(minutes=1):
        assert not w.is_open(probe)
        probe += timedelta(minutes=37)
