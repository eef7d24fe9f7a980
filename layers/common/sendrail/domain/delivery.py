"""What becomes of a claimed recipient: one table of transitions.

Dispatch claims a recipient (``queued`` -> ``sending``, ``attempts`` + 1) right before its
send, and settles the claim with exactly one :class:`Outcome`. :func:`settle` returns the
recipient as it must be stored *and* the change to the campaign's counters, derived from
the states themselves (never written by hand beside them), so the counters agree with a
recount of the recipients (:meth:`RecipientRepo.count_by_status`): a recipient counts once
under its status, and a ``queued`` one that already had an attempt also counts as
``deferred``. A claim is counted only with its outcome: ``sending`` never moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sendrail.domain.models import Recipient, RecipientStatus

ERROR_LENGTH = 500


class Outcome(StrEnum):
    SENT = "sent"  # the provider accepted it
    FAILED = "failed"  # never try again (a permanent refusal, attempts spent, unknown outcome)
    RETRY = "retry"  # a temporary error: try again at ``retry_at``; the attempt counts
    NOT_SENT = "not_sent"  # given back before the provider saw it; the attempt does not count
    RELEASED = "released"  # an expired claim whose send did not happen: queued again


@dataclass(frozen=True)
class Settled:
    recipient: Recipient
    delta: dict[str, int]  # campaign counter -> change


def counted(recipient: Recipient) -> dict[str, int]:
    """The counters one recipient adds to its campaign's totals."""
    counts = {recipient.status.value: 1}
    if recipient.status is RecipientStatus.QUEUED and recipient.attempts > 0:
        counts["deferred"] = 1
    return counts


def difference(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    changes = {n: after.get(n, 0) - before.get(n, 0) for n in before.keys() | after.keys()}
    return {n: d for n, d in changes.items() if d}


def settle(
    claimed: Recipient,
    outcome: Outcome,
    now: datetime,
    *,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> Settled:
    """The stored recipient and the counter change for settling ``claimed`` (as its claim
    left it: ``sending``, attempts already counted) with ``outcome``."""
    common = {"lease_until": None, "updated_at": now}
    if outcome is Outcome.SENT:
        update = {
            "status": RecipientStatus.SENT,
            "sent_at": now,
            "last_error": None,
            "next_attempt_at": None,
        }
    elif outcome is Outcome.FAILED:
        update = {"status": RecipientStatus.FAILED, "last_error": _error(error, claimed)}
    elif outcome is Outcome.RETRY:
        if retry_at is None:
            raise ValueError("a retry needs its time")
        update = {
            "status": RecipientStatus.QUEUED,
            "last_error": _error(error, claimed),
            "next_attempt_at": retry_at,
        }
    elif outcome is Outcome.NOT_SENT:
        update = {
            "status": RecipientStatus.QUEUED,
            "attempts": max(0, claimed.attempts - 1),
            "last_error": _error(error, claimed),
            "next_attempt_at": None,
        }
    else:  # RELEASED
        update = {"status": RecipientStatus.QUEUED, "last_error": _error(error, claimed)}
    final = claimed.model_copy(update={**update, **common})
    # Before its claim the recipient was queued, with one attempt fewer.
    before = {"queued": 1, "deferred": 1} if claimed.attempts > 1 else {"queued": 1}
    return Settled(final, difference(before, counted(final)))


def _error(error: str | None, claimed: Recipient) -> str | None:
    return error[:ERROR_LENGTH] if error is not None else claimed.last_error
