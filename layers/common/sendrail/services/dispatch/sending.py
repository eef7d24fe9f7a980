"""One send, as a lane makes it: claim the recipient right before the send, compose the
message, hand it to the provider, and classify what happened into a :class:`Result`.

This runs in lane threads, several at once: it touches the store only for the claim (a
conditional write; boto3 clients are thread-safe) and otherwise only what the work item
carries. What the result means for counters, acknowledgements, limits and mailbox health
is applied by the run's main thread (``engine``).

Classification: a permanent refusal fails the recipient; a temporary error retries it with
backoff until its attempts are spent; a mailbox that cannot send (auth refused, quota,
revoked grant) or a provider that cannot be reached hands the message to another mailbox
without counting the attempt; an answer that never came is settled by asking the provider
(by Message-ID) where it can, and otherwise fails as ``unknown_outcome``, never repeated
blindly (unless the tenant opted into at-least-once)."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

from sendrail.clock import Clock
from sendrail.domain.compose import Personalisation, compose
from sendrail.domain.delivery import Outcome, Settled, settle
from sendrail.domain.mime import message_id_for
from sendrail.domain.models import Campaign, Mailbox, Recipient, SendingSettings
from sendrail.domain.retry import RetryPolicy
from sendrail.domain.templates import TemplateError
from sendrail.errors import (
    MailboxSendError,
    PermanentSendError,
    RateLimited,
    SendError,
    TemporarySendError,
    UnknownOutcome,
    Unreachable,
)
from sendrail.providers.base import Sender, SentLookup
from sendrail.services.dispatch.ports import DispatchRecipients
from sendrail.services.dispatch.work import DispatchOptions, Work

log = logging.getLogger("sendrail.dispatch")

Personaliser = Callable[[Campaign, Recipient, Mailbox, SendingSettings], Personalisation]


class Next(Enum):
    """What becomes of the SQS message."""

    DONE = "done"  # delete it
    LATER = "later"  # visible again after ``delay`` seconds
    REPLACE = "replace"  # still in hand: place it on a mailbox again in this run
    CHECK = "check"  # the claim failed: the main thread looks at the recipient


@dataclass
class Result:
    item: Work
    next: Next
    delay: float = 0.0
    settled: Settled | None = None  # the recipient's new state, to store
    giveback: bool = False  # the units reserved for it were not used
    counted_as: str | None = None  # the report counter it adds to
    worked: bool = False  # the provider answered about the recipient: the mailbox is fine
    fault: SendError | None = None  # a temporary failure of the mailbox (its error streak)
    down: MailboxSendError | None = None  # the mailbox cannot send: pause it
    unreachable: bool = False  # the provider could not be reached: stop the lane
    unexpected: str | None = None  # an error we did not classify (for the run's health)


class LaneHandle(Protocol):
    """The lane's connection to the provider, opened on first use."""

    def sender(self) -> Sender: ...


def unstarted(item: Work, *, replace: bool) -> Result:
    """Given back unclaimed: the run is stopping (visible again at once) or its lane went
    down (placed again on another mailbox)."""
    if replace:
        return Result(item, Next.REPLACE, giveback=True, counted_as="handed_off")
    return Result(item, Next.LATER, giveback=True, counted_as="deferred")


class Attempt:
    def __init__(
        self,
        recipients: DispatchRecipients,
        clock: Clock,
        options: DispatchOptions,
        personalise: Personaliser | None,
        rng: random.Random,
    ) -> None:
        self._recipients = recipients
        self._clock = clock
        self._options = options
        self._personalise = personalise
        self._rng = rng

    def __call__(self, item: Work, lane: LaneHandle) -> Result:
        assert item.campaign is not None
        assert item.mailbox is not None
        assert item.settings is not None
        now = self._clock.now()
        if item.valid_until is not None and now >= item.valid_until:
            # The reservation's bucket ended before the lane got here: place it again (the
            # units stay counted, which can only under-use a limit, never exceed it).
            return Result(item, Next.REPLACE, counted_as="deferred")
        mailbox = item.mailbox
        claimed = self._recipients.claim(
            item.campaign_id,
            item.email,
            mailbox_id=mailbox.id,
            message_id=message_id_for(item.campaign_id, item.email, mailbox.domain),
            lease_until=now + timedelta(seconds=self._options.lease_seconds),
            now=now,
        )
        if claimed is None:
            return Result(item, Next.CHECK, giveback=True)
        try:
            extra = (
                self._personalise(item.campaign, claimed, mailbox, item.settings)
                if self._personalise
                else None
            )
            message = compose(item.campaign, claimed, mailbox, now, extra)
            lane.sender().send(message)
        except TemplateError as exc:
            return self._failed(item, claimed, now, f"template: {exc}")
        except PermanentSendError as exc:
            result = self._failed(item, claimed, now, exc.message)
            result.worked = True
            return result
        except MailboxSendError as exc:
            return Result(
                item,
                Next.REPLACE,
                settled=settle(claimed, Outcome.NOT_SENT, now, error=exc.message),
                counted_as="handed_off",
                down=exc,
            )
        except Unreachable as exc:
            return Result(
                item,
                Next.REPLACE,
                settled=settle(claimed, Outcome.NOT_SENT, now, error=exc.message),
                counted_as="handed_off",
                fault=exc,
                unreachable=True,
            )
        except UnknownOutcome as exc:
            return self._unknown(item, claimed, now, exc, lane)
        except TemporarySendError as exc:
            result = self._temporary(item, claimed, now, exc.message, exc.retry_after)
            if not isinstance(exc, RateLimited):  # being throttled is not failing
                result.fault = exc
            return result
        except (OSError, ValueError) as exc:
            # An error we did not classify: treat as temporary, and give up after a while.
            log.exception("unexpected send error for %s", item.campaign_id)
            text = f"{type(exc).__name__}: {exc}"[:300]
            result = self._temporary(item, claimed, now, text, None)
            result.unexpected = text
            return result
        return self._sent(item, claimed, now)

    # --- outcomes ---------------------------------------------------------------------------

    def _sent(self, item: Work, claimed: Recipient, now: datetime) -> Result:
        return Result(
            item,
            Next.DONE,
            settled=settle(claimed, Outcome.SENT, now),
            counted_as="sent",
            worked=True,
        )

    def _failed(self, item: Work, claimed: Recipient, now: datetime, error: str) -> Result:
        return Result(
            item,
            Next.DONE,
            settled=settle(claimed, Outcome.FAILED, now, error=error),
            counted_as="failed",
        )

    def _temporary(
        self,
        item: Work,
        claimed: Recipient,
        now: datetime,
        error: str,
        retry_after: float | None,
    ) -> Result:
        assert item.settings is not None
        policy = RetryPolicy(max_attempts=item.settings.max_attempts)
        if not policy.should_retry(claimed.attempts):
            return self._failed(item, claimed, now, error)
        if item.message.receive_count >= self._options.poison_receive_count * 5:
            return self._failed(item, claimed, now, f"gave up after many deliveries: {error}")
        delay = policy.delay(claimed.attempts, self._rng, floor=retry_after or 0.0)
        retry_at = now + timedelta(seconds=delay)
        return Result(
            item,
            Next.LATER,
            delay=delay,
            settled=settle(claimed, Outcome.RETRY, now, error=error, retry_at=retry_at),
            counted_as="retried",
        )

    def _unknown(
        self,
        item: Work,
        claimed: Recipient,
        now: datetime,
        exc: UnknownOutcome,
        lane: LaneHandle,
    ) -> Result:
        """The provider may have accepted it: ask it; never blindly send again."""
        assert item.settings is not None
        outcome: bool | None = None
        try:
            sender = lane.sender()
            if isinstance(sender, SentLookup) and claimed.message_id:
                outcome = sender.was_sent(claimed.message_id, now - timedelta(hours=1))
        except SendError:
            outcome = None
        if outcome is True:
            return self._sent(item, claimed, now)
        if outcome is False or item.settings.at_least_once:
            return self._temporary(item, claimed, now, exc.message, exc.retry_after)
        return self._failed(item, claimed, now, f"unknown_outcome: {exc.message}")
