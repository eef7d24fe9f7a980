"""Sending limits as pure functions over a small state.

Every *limit subject* (a mailbox, a sender domain, a recipient domain group, a tenant) has
one :class:`LimitState`: a counter per fixed calendar bucket (minute, hour, day) and a
sliding log of send times. One state lives in one DynamoDB item, written with a version
condition, so the rules below hold with any number of dispatchers (see
``sendrail.storage.limits``).

Fixed buckets: ``day`` resets at midnight in the subject's timezone; ``hour`` and ``minute``
follow UTC clock boundaries. A sliding rule allows at most ``max`` sends in any span of
``seconds`` seconds (a true sliding log, not GCRA: GCRA lets a burst plus the steady rate
exceed N inside one period). A rule with ``max=None`` only counts.

Reserved units are logged at the time the reservation is valid *until* (``stamp``), which
is never earlier than the real send, so the log can only over-count, never under-count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sendrail.domain.windows import zone


class Period(StrEnum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"


@dataclass(frozen=True)
class FixedRule:
    period: Period
    max: int | None  # None: count only
    tz: str = "UTC"

    @property
    def slot(self) -> str:
        return self.period.value


@dataclass(frozen=True)
class SlidingRule:
    max: int
    seconds: int


@dataclass(frozen=True)
class Rules:
    fixed: tuple[FixedRule, ...] = ()
    sliding: SlidingRule | None = None

    def day_rule(self) -> FixedRule | None:
        return next((r for r in self.fixed if r.period is Period.DAY), None)


@dataclass(frozen=True)
class LimitState:
    """``buckets``: slot -> (bucket key, count). ``log``: epoch seconds, ascending.
    ``version`` 0 means "no item stored yet"."""

    buckets: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    log: tuple[float, ...] = ()
    version: int = 0


class LimitReached(Exception):
    pass


def bucket_key(period: Period, tz: str, when: datetime) -> str:
    if period is Period.DAY:
        return when.astimezone(zone(tz)).date().isoformat()
    utc = when.astimezone(UTC)
    if period is Period.HOUR:
        return utc.strftime("%Y-%m-%dT%H")
    return utc.strftime("%Y-%m-%dT%H:%M")


def bucket_end(period: Period, tz: str, when: datetime) -> datetime:
    if period is Period.DAY:
        tzinfo = zone(tz)
        local = when.astimezone(tzinfo)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo)
        return midnight.astimezone(UTC)
    utc = when.astimezone(UTC)
    if period is Period.HOUR:
        return utc.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return utc.replace(second=0, microsecond=0) + timedelta(minutes=1)


def used(state: LimitState, rule: FixedRule, now: datetime) -> int:
    stored = state.buckets.get(rule.slot)
    if stored is None or stored[0] != bucket_key(rule.period, rule.tz, now):
        return 0
    return stored[1]


def sliding_used(state: LimitState, rule: SlidingRule, now: datetime) -> int:
    cutoff = now.timestamp() - rule.seconds
    return sum(1 for stamp in state.log if stamp > cutoff)


def available(state: LimitState, rules: Rules, now: datetime) -> int | None:
    """Units that may be taken now; None when no rule caps the subject."""
    room: list[int] = []
    for rule in rules.fixed:
        if rule.max is not None:
            room.append(max(0, rule.max - used(state, rule, now)))
    if rules.sliding is not None:
        room.append(max(0, rules.sliding.max - sliding_used(state, rules.sliding, now)))
    return min(room) if room else None


def has_room(state: LimitState, rules: Rules, now: datetime, units: int = 1) -> bool:
    room = available(state, rules, now)
    return room is None or room >= units


def take(
    state: LimitState,
    rules: Rules,
    now: datetime,
    units: int = 1,
    stamp: datetime | None = None,
) -> LimitState:
    """The state after ``units`` sends at ``now`` (logged at ``stamp`` >= now for sliding
    rules). Raises :class:`LimitReached` rather than exceed any rule."""
    if units <= 0:
        return state
    if not has_room(state, rules, now, units):
        raise LimitReached(f"{units} unit(s) do not fit")
    buckets = dict(state.buckets)
    for rule in rules.fixed:
        buckets[rule.slot] = (bucket_key(rule.period, rule.tz, now), used(state, rule, now) + units)
    log = state.log
    if rules.sliding is not None:
        logged = max(stamp or now, now).timestamp()
        cutoff = now.timestamp() - rules.sliding.seconds
        log = tuple(sorted([s for s in log if s > cutoff] + [logged] * units))
    return replace(state, buckets=buckets, log=log)


def release(
    state: LimitState, rules: Rules, now: datetime, units: int, taken_at: datetime
) -> LimitState:
    """Give back units taken at ``taken_at`` and never sent. Fixed buckets are credited only
    while still current; sliding entries stay (over-counting is the safe side)."""
    if units <= 0:
        return state
    buckets = dict(state.buckets)
    for rule in rules.fixed:
        key = bucket_key(rule.period, rule.tz, taken_at)
        stored = buckets.get(rule.slot)
        if stored is not None and stored[0] == key and key == bucket_key(rule.period, rule.tz, now):
            buckets[rule.slot] = (key, max(0, stored[1] - units))
    return replace(state, buckets=buckets)


def next_free(state: LimitState, rules: Rules, now: datetime) -> datetime:
    """The earliest time >= now at which one more unit fits (``now`` if one fits already)."""
    ready = now
    for rule in rules.fixed:
        if rule.max is not None and used(state, rule, now) >= rule.max:
            if rule.max == 0:
                ready = max(ready, bucket_end(rule.period, rule.tz, now) + timedelta(days=3650))
            else:
                ready = max(ready, bucket_end(rule.period, rule.tz, now))
    if rules.sliding is not None and rules.sliding.max > 0:
        cutoff = now.timestamp() - rules.sliding.seconds
        recent = [s for s in state.log if s > cutoff]
        if len(recent) >= rules.sliding.max:
            # The unit frees when the max-th most recent entry leaves the window.
            frees = recent[-rules.sliding.max] + rules.sliding.seconds
            ready = max(ready, datetime.fromtimestamp(frees, UTC) + timedelta(microseconds=1))
    elif rules.sliding is not None:
        ready = max(ready, now + timedelta(days=3650))
    return ready


def valid_until(rules: Rules, now: datetime) -> datetime:
    """A reservation made now counts in the current fixed buckets; it must be used before
    the first of them ends, or it is dropped and taken again."""
    ends = [bucket_end(r.period, r.tz, now) for r in rules.fixed if r.max is not None]
    return min(ends) if ends else now + timedelta(days=1)


def day_remaining(state: LimitState, rules: Rules, now: datetime) -> int | None:
    rule = rules.day_rule()
    if rule is None or rule.max is None:
        return None
    return max(0, rule.max - used(state, rule, now))


def day_used(state: LimitState, rules: Rules, now: datetime) -> int:
    rule = rules.day_rule()
    return used(state, rule, now) if rule is not None else 0


def combine_ready(states_rules: Sequence[tuple[LimitState, Rules]], now: datetime) -> datetime:
    """When one unit fits in every subject at once."""
    ready = now
    for state, rules in states_rules:
        ready = max(ready, next_free(state, rules, now))
    return ready
