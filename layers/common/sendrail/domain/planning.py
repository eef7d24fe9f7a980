"""Choosing a mailbox for each message of a batch, within every limit.

Pure: given the limit states read from storage, it returns which message goes to which
mailbox, which must wait (and until when), and the states after the reservations, which
storage then writes with version conditions. A mailbox may also offer only so much
``room`` (what its lanes can send soon): a message whose every mailbox with limits to
spare is full waits, unreserved, instead of being deferred.

Choice: among the eligible mailboxes, the one with the most remaining daily capacity; ties
go to the one that sent least today, then rotate by the message's own key so that ties
spread evenly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sendrail.domain import limits
from sendrail.domain.limits import LimitState, Rules

NO_MAILBOX_RETRY = timedelta(minutes=15)


@dataclass(frozen=True)
class MailboxOption:
    mailbox_id: str
    subject: str  # the mailbox's own limit subject key
    extra_subjects: tuple[str, ...] = ()  # sender-domain subjects shared with other mailboxes
    # How many more messages the mailbox can take in this plan (its lanes' room); None: any.
    room: int | None = None


@dataclass(frozen=True)
class Demand:
    """One message to place."""

    key: str
    options: tuple[MailboxOption, ...]
    shared_subjects: tuple[str, ...] = ()  # tenant and recipient-domain subjects


@dataclass
class Plan:
    assigned: dict[str, str] = field(default_factory=dict)  # demand key -> mailbox id
    deferred: dict[str, datetime] = field(default_factory=dict)  # demand key -> retry at
    # Demands some mailbox had limits for, but whose every such mailbox was full (room).
    waiting: list[str] = field(default_factory=list)
    states: dict[str, LimitState] = field(default_factory=dict)  # subject -> new state
    units: dict[str, int] = field(default_factory=dict)  # subject -> units taken

    def touched(self) -> list[str]:
        return [s for s, n in self.units.items() if n > 0]


def _spread(key: str, option: MailboxOption) -> str:
    """Ties rotate by the message's own key, so that they spread evenly."""
    return hashlib.blake2s(f"{key}|{option.mailbox_id}".encode(), digest_size=8).hexdigest()


def plan_batch(
    demands: Sequence[Demand],
    states: Mapping[str, LimitState],
    rules: Mapping[str, Rules],
    now: datetime,
    stamp: datetime | None = None,
) -> Plan:
    """Place each demand in order (callers sort by priority first).

    Each subject's standing (room left, day used) is computed once and again only after a
    unit is taken from it, so a plan costs about demands x mailboxes dictionary lookups."""
    plan = Plan()
    current: dict[str, LimitState] = dict(states)
    taken: dict[str, int] = {}  # mailbox id -> messages placed on it by this plan
    fit: dict[str, bool] = {}  # subject -> one more unit fits (until it changes)
    standing: dict[str, tuple[float, int]] = {}  # subject -> (-day remaining, day used)

    def state(subject: str) -> LimitState:
        return current.get(subject, LimitState())

    def ready_at(subjects: Sequence[str]) -> datetime:
        return limits.combine_ready([(state(s), rules[s]) for s in subjects], now)

    def fits(subjects: Sequence[str]) -> bool:
        for s in subjects:
            if s not in fit:
                fit[s] = limits.has_room(state(s), rules[s], now)
            if not fit[s]:
                return False
        return True

    def rank(subject: str) -> tuple[float, int]:
        if subject not in standing:
            st, rl = state(subject), rules[subject]
            remaining = limits.day_remaining(st, rl, now)
            standing[subject] = (
                -(float("inf") if remaining is None else remaining),
                limits.day_used(st, rl, now),
            )
        return standing[subject]

    for demand in demands:
        if not fits(demand.shared_subjects):
            plan.deferred[demand.key] = ready_at(demand.shared_subjects)
            continue
        within = [opt for opt in demand.options if fits((opt.subject, *opt.extra_subjects))]
        eligible = [o for o in within if o.room is None or taken.get(o.mailbox_id, 0) < o.room]
        if within and not eligible:
            plan.waiting.append(demand.key)
            continue
        if not eligible:
            if demand.options:
                plan.deferred[demand.key] = min(
                    ready_at((opt.subject, *opt.extra_subjects)) for opt in demand.options
                )
            else:
                plan.deferred[demand.key] = now + NO_MAILBOX_RETRY
            continue
        best = min(rank(o.subject) for o in eligible)
        tied = [o for o in eligible if rank(o.subject) == best]
        chosen = tied[0] if len(tied) == 1 else min(tied, key=partial(_spread, demand.key))
        for subject in (chosen.subject, *chosen.extra_subjects, *demand.shared_subjects):
            current[subject] = limits.take(state(subject), rules[subject], now, 1, stamp)
            plan.units[subject] = plan.units.get(subject, 0) + 1
            fit.pop(subject, None)
            standing.pop(subject, None)
        plan.assigned[demand.key] = chosen.mailbox_id
        taken[chosen.mailbox_id] = taken.get(chosen.mailbox_id, 0) + 1

    plan.states = {s: current[s] for s in plan.touched()}
    return plan
