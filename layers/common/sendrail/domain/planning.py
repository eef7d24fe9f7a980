"""Choosing a mailbox for each message of a batch, within every limit.

Pure: given the limit states read from storage, it returns which message goes to which
mailbox, which must wait (and until when), and the states after the reservations, which
storage then writes with version conditions. Choice: among the eligible mailboxes, the one
with the most remaining daily capacity; ties go to the one that sent least today, then
rotate by the message's own key so that ties spread evenly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sendrail.domain import limits
from sendrail.domain.limits import LimitState, Rules

NO_MAILBOX_RETRY = timedelta(minutes=15)


@dataclass(frozen=True)
class MailboxOption:
    mailbox_id: str
    subject: str  # the mailbox's own limit subject key
    extra_subjects: tuple[str, ...] = ()  # sender-domain subjects shared with other mailboxes


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
    states: dict[str, LimitState] = field(default_factory=dict)  # subject -> new state
    units: dict[str, int] = field(default_factory=dict)  # subject -> units taken

    def touched(self) -> list[str]:
        return [s for s, n in self.units.items() if n > 0]


def _tiebreak(key: str, mailbox_id: str) -> str:
    return hashlib.blake2s(f"{key}|{mailbox_id}".encode(), digest_size=8).hexdigest()


def plan_batch(
    demands: Sequence[Demand],
    states: Mapping[str, LimitState],
    rules: Mapping[str, Rules],
    now: datetime,
    stamp: datetime | None = None,
) -> Plan:
    """Place each demand in order (callers sort by priority first)."""
    plan = Plan()
    current: dict[str, LimitState] = dict(states)

    def state(subject: str) -> LimitState:
        return current.get(subject, LimitState())

    def ready_at(subjects: Sequence[str]) -> datetime:
        return limits.combine_ready([(state(s), rules[s]) for s in subjects], now)

    def fits(subjects: Sequence[str]) -> bool:
        return all(limits.has_room(state(s), rules[s], now) for s in subjects)

    for demand in demands:
        if not fits(demand.shared_subjects):
            plan.deferred[demand.key] = ready_at(demand.shared_subjects)
            continue
        eligible = [opt for opt in demand.options if fits((opt.subject, *opt.extra_subjects))]
        if not eligible:
            if demand.options:
                plan.deferred[demand.key] = min(
                    ready_at((opt.subject, *opt.extra_subjects)) for opt in demand.options
                )
            else:
                plan.deferred[demand.key] = now + NO_MAILBOX_RETRY
            continue

        def rank(opt: MailboxOption, key: str = demand.key) -> tuple[float, int, str]:
            st, rl = state(opt.subject), rules[opt.subject]
            remaining = limits.day_remaining(st, rl, now)
            return (
                -(float("inf") if remaining is None else remaining),
                limits.day_used(st, rl, now),
                _tiebreak(key, opt.mailbox_id),
            )

        chosen = min(eligible, key=rank)
        for subject in (chosen.subject, *chosen.extra_subjects, *demand.shared_subjects):
            current[subject] = limits.take(state(subject), rules[subject], now, 1, stamp)
            plan.units[subject] = plan.units.get(subject, 0) + 1
        plan.assigned[demand.key] = chosen.mailbox_id

    plan.states = {s: current[s] for s in plan.touched()}
    return plan
