"""The dispatch engine: from SQS messages to sent mail, within every limit, exactly once.

One run (one Lambda invocation on the EventBridge schedule):

1. feed SQS from DynamoDB (:mod:`sendrail.services.feeding`) and recover expired claims;
2. drain the priority bands, highest first, ten messages at a time, until the time budget
   is spent or no message is visible;
3. for each batch: drop what must not be sent (suppressed, cancelled, paused), defer what
   is outside its windows, then place the rest on mailboxes with
   :func:`sendrail.domain.planning.plan_batch` and reserve the units with versioned writes
   (:class:`sendrail.storage.limits.LimitRepo`) *before* anything is sent;
4. claim each recipient with a conditional write (``queued`` -> ``sending`` with a lease)
   right before sending it, send it, and record the outcomes of the batch; only then
   acknowledge the SQS messages.

Exactly once: a recipient is sent only by the dispatcher whose claim succeeded. A
dispatcher that dies after its claim leaves the recipient ``sending``; once the lease has
expired the next dispatcher resolves it (asks the provider by Message-ID where it can,
else marks it ``failed`` with ``unknown_outcome`` unless the tenant opted into
at-least-once). Units taken for a send that then fails still count: the provider saw it.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sendrail.domain import limits
from sendrail.domain.compose import Personalisation, compose
from sendrail.domain.limits import LimitState, Rules
from sendrail.domain.mime import message_id_for
from sendrail.domain.models import (
    OAUTH_PROVIDERS,
    Campaign,
    CampaignStatus,
    Mailbox,
    MailboxStatus,
    Recipient,
    RecipientStatus,
    SendingSettings,
)
from sendrail.domain.planning import Demand, MailboxOption, Plan, plan_batch
from sendrail.domain.retry import RetryPolicy
from sendrail.domain.templates import TemplateError
from sendrail.domain.windows import all_open, next_open_all
from sendrail.errors import (
    MailboxSendError,
    PermanentSendError,
    RateLimited,
    SendError,
    TemporarySendError,
    UnknownOutcome,
)
from sendrail.providers import open_sender
from sendrail.providers.base import ProviderConfig, Sender, SentLookup
from sendrail.services import capacity, counters, feeding
from sendrail.services.capacity import TenantPolicy
from sendrail.services.deps import Deps
from sendrail.services.oauth import MailboxTokens
from sendrail.storage import stats
from sendrail.storage.queues import BANDS, MAX_VISIBILITY, Outgoing, QueueMessage

log = logging.getLogger("sendrail.dispatch")
HEALTH_EVERY = timedelta(minutes=5)
_LAST_HEALTH: list[datetime] = []  # per process (Lambda container)

SenderOpener = Callable[..., Sender]  # (mailbox, secret, config[, tokens]): see SenderFactory
Personaliser = Callable[[Campaign, Recipient, Mailbox, SendingSettings], Personalisation]


@dataclass(frozen=True)
class DispatchOptions:
    lease_seconds: int = 600
    receive_wait_seconds: int = 0
    stop_margin_seconds: float = 5.0
    poison_receive_count: int = 10
    mailbox_error_threshold: int = 5
    commit_rounds: int = 4
    receives_per_batch: int = 5
    reservation_seconds: int = 60
    handoff_rounds: int = 4
    tenant_ttl_seconds: float = 30.0
    disabled_retry_seconds: int = 900
    provider_config: ProviderConfig = field(default_factory=ProviderConfig)


@dataclass
class DispatchReport:
    sent: int = 0
    deferred: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    dead_lettered: int = 0
    recovered: int = 0
    mailboxes_paused: int = 0
    batches: int = 0
    fed: int = 0
    started: int = 0
    completed: int = 0
    by_mailbox: Counter[str] = field(default_factory=Counter)
    last_error: str | None = None


@dataclass
class _Work:
    """One SQS message on its way through a batch."""

    message: QueueMessage
    tenant_id: str
    campaign_id: str
    email: str
    timezone: str | None
    campaign: Campaign | None = None
    mailbox_id: str | None = None
    recipient: Recipient | None = None
    subjects: tuple[str, ...] = ()
    taken_at: datetime | None = None
    valid_until: datetime | None = None

    @property
    def key(self) -> str:
        return self.message.message_id


@dataclass
class _TenantContext:
    policy: TenantPolicy
    mailboxes: dict[str, Mailbox]
    loaded: float


class _Acks:
    """SQS acknowledgements of one batch: delete, or make visible again after a delay."""

    def __init__(self) -> None:
        self.delete: list[QueueMessage] = []
        self.later: list[tuple[QueueMessage, int]] = []

    def done(self, work: _Work) -> None:
        self.delete.append(work.message)

    def retry_in(self, work: _Work, seconds: float) -> None:
        self.later.append((work.message, max(0, min(MAX_VISIBILITY, int(seconds)))))


class Dispatcher:
    def __init__(
        self,
        deps: Deps,
        options: DispatchOptions | None = None,
        *,
        opener: SenderOpener = open_sender,
        personalise: Personaliser | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.deps = deps
        self.options = options or DispatchOptions()
        self._open = opener
        self._personalise = personalise
        self._rng = rng or random.Random()  # noqa: S311 - jitter only
        self._campaigns: dict[tuple[str, str], Campaign | None] = {}
        self._tenants: dict[str, _TenantContext] = {}
        self._senders: dict[str, Sender] = {}
        self._down: set[str] = set()
        self._handoff: list[_Work] = []
        self.report = DispatchReport()

    # --- the run -----------------------------------------------------------------------------

    def run(self, time_left: Callable[[], float]) -> DispatchReport:
        try:
            self._feed()
            self.recover_expired_claims()
            while time_left() > self.options.stop_margin_seconds:
                # Queues dry: feed again; stop when nothing more can be fed.
                if not self._one_batch() and not self._feed():
                    break
        finally:
            self.close()
            self._record_health()
        return self.report

    def _feed(self) -> int:
        fed = feeding.run(self.deps)
        self.report.fed += fed.fed
        self.report.started += fed.started
        self.report.completed += fed.completed
        return fed.fed

    def _record_health(self) -> None:
        """For ``/api/queue/status``: every run that did something, or had an error, and
        at least one run every few minutes (so a stalled schedule shows)."""
        now = self.deps.clock.now()
        r = self.report
        busy = r.batches or r.fed or r.started or r.completed or r.recovered or r.last_error
        if not busy and _LAST_HEALTH and now - _LAST_HEALTH[-1] < HEALTH_EVERY:
            return
        outcome = {
            "sent": r.sent,
            "deferred": r.deferred,
            "retried": r.retried,
            "failed": r.failed,
            "skipped": r.skipped,
            "dead_lettered": r.dead_lettered,
            "recovered": r.recovered,
            "batches": r.batches,
            "fed": r.fed,
        }
        self.deps.system.record_dispatch(now, outcome, r.last_error)
        _LAST_HEALTH[:] = [now]

    def _receive(self, band: str) -> list[QueueMessage]:
        """Up to ``receives_per_batch`` receives of ten: a bigger batch shares its fixed
        costs (limit reads and writes, counters) among more messages."""
        messages: list[QueueMessage] = []
        for _ in range(self.options.receives_per_batch):
            got = self.deps.queues.receive(
                band,
                max_messages=10,
                # Hidden until the claims it may lead to have expired.
                visibility=self.options.lease_seconds + min(60, self.options.lease_seconds),
                wait=self.options.receive_wait_seconds if not messages else 0,
            )
            messages.extend(got)
            if len(got) < 10:
                break
        return messages

    def _one_batch(self) -> bool:
        for band in BANDS:
            messages = self._receive(band.name)
            if messages:
                self.report.batches += 1
                try:
                    self.process(band.name, messages)
                except Exception as exc:
                    # Unacknowledged messages come back after their visibility timeout;
                    # claims left behind are resolved when their lease expires.
                    log.exception("dispatch batch failed")
                    self.report.last_error = f"{type(exc).__name__}: {exc}"[:300]
                return True
        return False

    def close(self) -> None:
        for sender in self._senders.values():
            try:
                sender.close()
            except (OSError, SendError):
                log.warning("closing a sender failed", exc_info=True)
        self._senders.clear()

    # --- caches ------------------------------------------------------------------------------

    def _campaign(self, tenant_id: str, campaign_id: str) -> Campaign | None:
        """Read once per batch (so a pause is seen by the next batch of any run)."""
        key = (tenant_id, campaign_id)
        if key not in self._campaigns:
            self._campaigns[key] = self.deps.campaigns.get(tenant_id, campaign_id)
        return self._campaigns[key]

    def _tenant(self, tenant_id: str) -> _TenantContext:
        ctx = self._tenants.get(tenant_id)
        if ctx and time.monotonic() - ctx.loaded < self.options.tenant_ttl_seconds:
            return ctx
        now = self.deps.clock.now()
        mailboxes = {}
        for mailbox in self.deps.mailboxes.all_for_tenant(tenant_id):
            if (
                mailbox.status is MailboxStatus.PAUSED
                and mailbox.paused_until is not None
                and mailbox.paused_until <= now
                and self.deps.mailboxes.set_status(
                    tenant_id,
                    mailbox.id,
                    MailboxStatus.ACTIVE,
                    reason=None,
                    now=now,
                    only_if={MailboxStatus.PAUSED},
                )
            ):
                mailbox = mailbox.model_copy(update={"status": MailboxStatus.ACTIVE})
            mailboxes[mailbox.id] = mailbox
        policy = TenantPolicy.build(
            tenant_id,
            self.deps.settings.sending(tenant_id),
            self.deps.settings.throttles(tenant_id),
        )
        ctx = _TenantContext(policy, mailboxes, time.monotonic())
        self._tenants[tenant_id] = ctx
        return ctx

    def _sender(self, mailbox: Mailbox) -> Sender:
        sender = self._senders.get(mailbox.id)
        if sender is None:
            config = self.options.provider_config
            if mailbox.provider in OAUTH_PROVIDERS:
                # Tokens are read (and refreshed if expired) through the token source.
                tokens = MailboxTokens(self.deps, config, mailbox)
                sender = self._open(mailbox, None, config, tokens)
            else:
                secret = (
                    self.deps.secrets.open(mailbox.secret, mailbox.id) if mailbox.secret else None
                )
                sender = self._open(mailbox, secret, config)
            self._senders[mailbox.id] = sender
        return sender

    # --- a batch -----------------------------------------------------------------------------

    def process(self, queue: str, messages: list[QueueMessage]) -> None:
        acks = _Acks()
        self._campaigns.clear()
        try:
            work = self._admit(queue, messages, acks)
            work = self._within_windows(work, acks)
            # A mailbox that fails as a whole hands its messages to the others at once;
            # each round has one mailbox fewer, so a few rounds are enough.
            for _ in range(self.options.handoff_rounds):
                self._handoff = []
                self._claim_and_send(self._place(work, acks), acks)
                work = [self._unclaimed(item) for item in self._handoff]
                if not work:
                    break
            for item in work:
                self.report.deferred += 1
                acks.retry_in(item, 1)
        finally:
            if acks.delete:
                self.deps.queues.delete(queue, [m.receipt for m in acks.delete])
            if acks.later:
                self.deps.queues.defer(queue, acks.later, self.deps.clock.now().timestamp())

    def _admit(self, queue: str, messages: list[QueueMessage], acks: _Acks) -> list[_Work]:
        """Parse, drop what must not be sent, skip suppressed addresses."""
        work: list[_Work] = []
        seen: set[tuple[str, str, str]] = set()
        for message in messages:
            body = message.body
            t, c, e = body.get("t"), body.get("c"), body.get("e")
            if not (isinstance(t, str) and isinstance(c, str) and isinstance(e, str)):
                self._dead_letter(queue, message, "malformed message body")
                continue
            if (t, c, e) in seen:  # the same recipient twice in one batch
                self.report.skipped += 1
                acks.done(_Work(message, t, c, e, None))
                continue
            seen.add((t, c, e))
            tz = body.get("z")
            item = _Work(message, t, c, e, tz if isinstance(tz, str) else None)
            item.campaign = self._campaign(t, c)
            if item.campaign is None or item.campaign.status is not CampaignStatus.RUNNING:
                # Paused: resuming feeds again from DynamoDB. Cancelled/completed/gone:
                # nothing to send. Either way this message has done its job.
                self.report.skipped += 1
                acks.done(item)
                continue
            work.append(item)
        suppressed = self.deps.suppressions.which((w.tenant_id, w.email) for w in work)
        kept = []
        now = self.deps.clock.now()
        for item in work:
            if (item.tenant_id, item.email) in suppressed:
                changed = self.deps.recipients.set_status(
                    item.campaign_id,
                    item.email,
                    RecipientStatus.SUPPRESSED,
                    now,
                    only_from=[RecipientStatus.QUEUED],
                )
                if changed and item.campaign is not None:
                    counters.add(self.deps, item.campaign, {"queued": -1, "suppressed": 1})
                self.report.skipped += 1
                acks.done(item)
            else:
                kept.append(item)
        return kept

    def _within_windows(self, work: list[_Work], acks: _Acks) -> list[_Work]:
        now = self.deps.clock.now()
        kept = []
        for item in work:
            assert item.campaign is not None
            settings = self._tenant(item.tenant_id).policy.settings
            if not settings.enabled:
                self.report.deferred += 1
                acks.retry_in(item, self.options.disabled_retry_seconds)
                continue
            windows = capacity.windows_for(settings, item.campaign, item.timezone)
            if windows and not all_open(windows, now):
                opens = next_open_all(windows, now)
                wait = (opens - now).total_seconds() if opens else MAX_VISIBILITY
                self.report.deferred += 1
                acks.retry_in(item, max(1.0, wait + self._rng.uniform(0, 2)))
                continue
            kept.append(item)
        return kept

    # --- placing on mailboxes within limits --------------------------------------------------

    def _demand(
        self, item: _Work, ctx: _TenantContext, rules: dict[str, Rules], now: datetime
    ) -> Demand:
        assert item.campaign is not None
        policy = ctx.policy
        shared: list[str] = []
        tenant = policy.tenant_subject()
        if tenant:
            rules[tenant[0]] = tenant[1]
            shared.append(tenant[0])
        for subject, rule in policy.recipient_subjects(item.email.rsplit("@", 1)[-1]):
            rules[subject] = rule
            shared.append(subject)
        options = []
        for mailbox in capacity.pool(item.campaign, ctx.mailboxes.values()):
            if mailbox.id in self._down:
                continue
            subject = capacity.mailbox_subject(mailbox.id)
            rules[subject] = capacity.mailbox_rules(mailbox, now)
            extra = []
            for s, rule in policy.sender_subjects(mailbox.domain):
                rules[s] = rule
                extra.append(s)
            options.append(MailboxOption(mailbox.id, subject, tuple(extra)))
        return Demand(item.key, tuple(options), tuple(shared))

    def _place(self, work: list[_Work], acks: _Acks) -> list[_Work]:
        """Assign mailboxes and reserve the units; defer what does not fit."""
        pending = sorted(work, key=lambda w: -(w.campaign.priority if w.campaign else 0))
        placed: list[_Work] = []
        for _ in range(self.options.commit_rounds):
            if not pending:
                break
            now = self.deps.clock.now()
            rules: dict[str, Rules] = {}
            demands = [self._demand(w, self._tenant(w.tenant_id), rules, now) for w in pending]
            states = self.deps.limits.read(rules)
            # Sliding-window entries are logged at the latest moment the send may happen;
            # a send not made by then gives its reservation up and is placed again.
            stamp = now + timedelta(seconds=self.options.reservation_seconds)
            plan = plan_batch(demands, states, rules, now, stamp=stamp)
            lost = self._commit(plan, states, now)
            by_key = {w.key: w for w in pending}
            retry: list[_Work] = []
            giveback: Counter[str] = Counter()
            demand_by_key = {d.key: d for d in demands}
            for key, mailbox_id in plan.assigned.items():
                item = by_key[key]
                demand = demand_by_key[key]
                option = next(o for o in demand.options if o.mailbox_id == mailbox_id)
                subjects = (option.subject, *option.extra_subjects, *demand.shared_subjects)
                if lost & set(subjects):
                    giveback.update(s for s in subjects if s not in lost)
                    retry.append(item)
                    continue
                item.mailbox_id = mailbox_id
                item.subjects = subjects
                item.taken_at = now
                item.valid_until = min(
                    stamp, *(limits.valid_until(rules[s], now) for s in subjects)
                )
                placed.append(item)
            for key, ready in plan.deferred.items():
                self.report.deferred += 1
                wait = (ready - now).total_seconds()
                acks.retry_in(by_key[key], max(1.0, wait + self._rng.uniform(0, 2)))
            self._release(giveback, rules, now)
            pending = retry
        for item in pending:  # contention did not settle: try again shortly
            self.report.deferred += 1
            acks.retry_in(item, 1 + self._rng.uniform(0, 5))
        return placed

    def _commit(self, plan: Plan, before: dict[str, LimitState], now: datetime) -> set[str]:
        """Write every changed subject; returns the subjects another dispatcher changed."""
        lost: set[str] = set()
        for subject, state in plan.states.items():
            if self.deps.limits.write(subject, state, before[subject].version, now) is None:
                lost.add(subject)
        return lost

    def _release(self, units: Counter[str], rules: dict[str, Rules], taken_at: datetime) -> None:
        """Give back units reserved for messages that will not be sent now."""
        for subject, count in units.items():
            if count <= 0:
                continue
            for _ in range(5):
                now = self.deps.clock.now()
                state = self.deps.limits.read([subject])[subject]
                new = limits.release(state, rules[subject], now, count, taken_at)
                if (
                    new == state
                    or self.deps.limits.write(subject, new, state.version, now) is not None
                ):
                    break

    # --- claiming and sending --------------------------------------------------------------

    def _claim(self, item: _Work) -> Recipient | None:
        """``queued`` -> ``sending`` for this dispatcher alone, right before the send, so
        a dispatcher that dies leaves at most the message in hand ambiguous."""
        assert item.mailbox_id is not None
        now = self.deps.clock.now()
        mailbox = self._tenant(item.tenant_id).mailboxes[item.mailbox_id]
        return self.deps.recipients.claim(
            item.campaign_id,
            item.email,
            mailbox_id=item.mailbox_id,
            message_id=message_id_for(item.campaign_id, item.email, mailbox.domain),
            lease_until=now + timedelta(seconds=self.options.lease_seconds),
            now=now,
        )

    def _rules_for(self, item: _Work, rules: dict[str, Rules], now: datetime) -> None:
        ctx = self._tenant(item.tenant_id)
        self._demand(item, ctx, rules, now)

    def _not_claimed(self, item: _Work, acks: _Acks) -> None:
        """The recipient was not ``queued``: already sent, cancelled, or claimed by another
        dispatcher (a duplicate message or a redelivery)."""
        current = self.deps.recipients.get(item.campaign_id, item.email)
        now = self.deps.clock.now()
        if current is None or current.status is not RecipientStatus.SENDING:
            if current is not None and current.status is RecipientStatus.QUEUED:
                acks.retry_in(item, 1)  # it went back to queued meanwhile: try again
                return
            self.report.skipped += 1
            acks.done(item)
            return
        if current.lease_until and current.lease_until > now:
            acks.retry_in(item, (current.lease_until - now).total_seconds() + 30)
            return
        self._resolve_stuck(current)
        acks.retry_in(item, 1)

    # --- recovery of claims whose dispatcher died --------------------------------------------

    def recover_expired_claims(self, limit: int = 200) -> None:
        now = self.deps.clock.now()
        for campaign_id, email in self.deps.recipients.expired_leases(now, limit=limit):
            current = self.deps.recipients.get(campaign_id, email)
            if (
                current is not None
                and current.status is RecipientStatus.SENDING
                and current.lease_until is not None
                and current.lease_until <= now
            ):
                self._resolve_stuck(current)

    def _resolve_stuck(self, recipient: Recipient) -> None:
        """A claim outlived its lease: its dispatcher died between claim and outcome."""
        now = self.deps.clock.now()
        outcome: bool | None = None
        ctx = self._tenant(recipient.tenant_id)
        mailbox = ctx.mailboxes.get(recipient.mailbox_id or "")
        if mailbox is not None and recipient.message_id:
            try:
                sender = self._sender(mailbox)
                if isinstance(sender, SentLookup):
                    since = (recipient.lease_until or now) - timedelta(
                        seconds=self.options.lease_seconds + 3600
                    )
                    outcome = sender.was_sent(recipient.message_id, since)
            except SendError:
                outcome = None
        if outcome is True:
            final = recipient.model_copy(
                update={
                    "status": RecipientStatus.SENT,
                    "sent_at": now,
                    "lease_until": None,
                    "last_error": None,
                    "updated_at": now,
                }
            )
            delta = {"queued": -1, "sent": 1}  # a claim is counted only with its outcome
        elif outcome is False or ctx.policy.settings.at_least_once:
            final = recipient.model_copy(
                update={
                    "status": RecipientStatus.QUEUED,
                    "lease_until": None,
                    "last_error": "claim expired; not sent",
                    "updated_at": now,
                }
            )
            delta = {}
        else:
            final = recipient.model_copy(
                update={
                    "status": RecipientStatus.FAILED,
                    "lease_until": None,
                    "last_error": "unknown_outcome: the dispatcher stopped during the send",
                    "updated_at": now,
                }
            )
            delta = {"queued": -1, "failed": 1}
        # Conditional on the claim still being the expired one.
        if self.deps.recipients.resolve_claim(recipient, final):
            self.report.recovered += 1
            self._count(recipient.tenant_id, recipient.campaign_id, delta)

    # --- sending -----------------------------------------------------------------------------

    def _claim_and_send(self, placed: list[_Work], acks: _Acks) -> None:
        finished: list[Recipient] = []
        counts: dict[tuple[str, str], Counter[str]] = {}
        outcomes: dict[str, Counter[str]] = {}  # stats key -> sent/failed
        giveback: Counter[str] = Counter()
        rules: dict[str, Rules] = {}
        placed.sort(key=lambda w: w.mailbox_id or "")  # one connection per mailbox, reused
        for item in placed:
            recipient = self._claim(item)
            if recipient is None:
                giveback.update(item.subjects)
                self._rules_for(item, rules, self.deps.clock.now())
                self._not_claimed(item, acks)
                continue
            item.recipient = recipient
            outcome = self._send_one(item, acks)
            if outcome is None:
                continue
            final, delta = outcome
            finished.append(final)
            # The claim moved it out of ``queued`` (and out of ``deferred`` if it was a retry).
            moved = Counter({"queued": -1, "sending": 1})
            if recipient.attempts > 1 and recipient.next_attempt_at is not None:
                moved["deferred"] -= 1
            moved.update(delta)
            counts.setdefault((item.tenant_id, item.campaign_id), Counter()).update(moved)
            tally = {k: delta[k] for k in ("sent", "failed") if delta.get(k)}
            for key in (
                stats.mailbox_key(item.mailbox_id or ""),
                stats.campaign_key(item.campaign_id),
                stats.tenant_key(item.tenant_id),
            ):
                outcomes.setdefault(key, Counter()).update(tally)
        self._release(giveback, rules, self.deps.clock.now())
        if finished:
            self.deps.recipients.finish_many(finished)
        for (tenant_id, campaign_id), delta in counts.items():
            self._count(tenant_id, campaign_id, dict(delta))
        self._record_stats(outcomes)

    @staticmethod
    def _unclaimed(item: _Work) -> _Work:
        return _Work(
            item.message,
            item.tenant_id,
            item.campaign_id,
            item.email,
            item.timezone,
            campaign=item.campaign,
        )

    def _count(self, tenant_id: str, campaign_id: str, deltas: dict[str, int]) -> None:
        campaign = self._campaign(tenant_id, campaign_id)
        if campaign is not None:
            counters.add(self.deps, campaign, deltas)

    def _record_stats(self, outcomes: dict[str, Counter[str]]) -> None:
        """Per batch: one ADD per mailbox day, campaign hour and tenant day touched."""
        now = self.deps.clock.now()
        for key, tally in outcomes.items():
            if tally:
                bucket = stats.hour_bucket(now) if key.startswith("cmp#") else stats.day_bucket(now)
                self.deps.stats.add(key, bucket, dict(tally))

    def _send_one(self, item: _Work, acks: _Acks) -> tuple[Recipient, dict[str, int]] | None:
        assert item.campaign is not None
        assert item.recipient is not None
        assert item.mailbox_id is not None
        ctx = self._tenant(item.tenant_id)
        mailbox = ctx.mailboxes[item.mailbox_id]
        recipient = item.recipient
        now = self.deps.clock.now()
        if item.valid_until is not None and now >= item.valid_until:
            # The reservation's bucket ended before we got here: take units again.
            self.report.deferred += 1
            acks.retry_in(item, 0)
            return self._requeue(recipient, now, None, count_attempt=False), {
                "sending": -1,
                "queued": 1,
            }
        try:
            if mailbox.id in self._down:
                raise MailboxSendError("mailbox was paused during this run", reason="paused")
            extra = (
                self._personalise(item.campaign, recipient, mailbox, ctx.policy.settings)
                if self._personalise
                else None
            )
            message = compose(item.campaign, recipient, mailbox, now, extra)
            self._sender(mailbox).send(message)
        except TemplateError as exc:
            return self._failed(item, recipient, now, f"template: {exc}", acks)
        except PermanentSendError as exc:
            self._note_mailbox_ok(ctx, mailbox)
            return self._failed(item, recipient, now, exc.message, acks)
        except MailboxSendError as exc:
            self._mailbox_down(mailbox, exc)
            self._handoff.append(item)  # placed on another mailbox once this round is written
            return self._requeue(recipient, now, exc.message, count_attempt=False), {
                "sending": -1,
                "queued": 1,
            }
        except UnknownOutcome as exc:
            return self._unknown(item, recipient, mailbox, now, exc, acks)
        except TemporarySendError as exc:
            if not isinstance(exc, RateLimited):  # being throttled is not failing
                self._note_mailbox_error(ctx, mailbox, exc)
            return self._temporary(item, recipient, now, exc.message, exc.retry_after, acks)
        except (OSError, ValueError) as exc:
            # An error we did not classify: treat as temporary, and poison after a while.
            log.exception("unexpected send error for %s", item.campaign_id)
            self.report.last_error = f"{type(exc).__name__}: {exc}"[:300]
            return self._temporary(item, recipient, now, self.report.last_error, None, acks)
        self._note_mailbox_ok(ctx, mailbox)
        self.report.sent += 1
        self.report.by_mailbox[mailbox.id] += 1
        acks.done(item)
        sent = recipient.model_copy(
            update={
                "status": RecipientStatus.SENT,
                "sent_at": now,
                "lease_until": None,
                "last_error": None,
                "next_attempt_at": None,
                "updated_at": now,
            }
        )
        return sent, {"sending": -1, "sent": 1}

    def _requeue(
        self,
        recipient: Recipient,
        now: datetime,
        error: str | None,
        *,
        count_attempt: bool,
        retry_at: datetime | None = None,
    ) -> Recipient:
        return recipient.model_copy(
            update={
                "status": RecipientStatus.QUEUED,
                "attempts": recipient.attempts if count_attempt else max(0, recipient.attempts - 1),
                "lease_until": None,
                "last_error": error if error is not None else recipient.last_error,
                "next_attempt_at": retry_at,
                "updated_at": now,
            }
        )

    def _failed(
        self, item: _Work, recipient: Recipient, now: datetime, error: str, acks: _Acks
    ) -> tuple[Recipient, dict[str, int]]:
        self.report.failed += 1
        acks.done(item)
        failed = recipient.model_copy(
            update={
                "status": RecipientStatus.FAILED,
                "lease_until": None,
                "last_error": error[:500],
                "updated_at": now,
            }
        )
        return failed, {"sending": -1, "failed": 1}

    def _temporary(
        self,
        item: _Work,
        recipient: Recipient,
        now: datetime,
        error: str,
        retry_after: float | None,
        acks: _Acks,
    ) -> tuple[Recipient, dict[str, int]]:
        assert item.campaign is not None
        settings = self._tenant(item.tenant_id).policy.settings
        policy = RetryPolicy(max_attempts=settings.max_attempts)
        if not policy.should_retry(recipient.attempts):
            return self._failed(item, recipient, now, error, acks)
        if item.message.receive_count >= self.options.poison_receive_count * 5:
            return self._failed(
                item, recipient, now, f"gave up after many deliveries: {error}", acks
            )
        delay = policy.delay(recipient.attempts, self._rng, floor=retry_after or 0.0)
        self.report.retried += 1
        acks.retry_in(item, delay)
        retry_at = now + timedelta(seconds=delay)
        return self._requeue(recipient, now, error[:500], count_attempt=True, retry_at=retry_at), {
            "sending": -1,
            "queued": 1,
            "deferred": 1,
        }

    def _unknown(
        self,
        item: _Work,
        recipient: Recipient,
        mailbox: Mailbox,
        now: datetime,
        exc: UnknownOutcome,
        acks: _Acks,
    ) -> tuple[Recipient, dict[str, int]]:
        """The provider may have accepted it: ask it; never blindly send again."""
        outcome: bool | None = None
        try:
            sender = self._sender(mailbox)
            if isinstance(sender, SentLookup) and recipient.message_id:
                outcome = sender.was_sent(recipient.message_id, now - timedelta(hours=1))
        except SendError:
            outcome = None
        if outcome is True:
            self.report.sent += 1
            self.report.by_mailbox[mailbox.id] += 1
            acks.done(item)
            sent = recipient.model_copy(
                update={
                    "status": RecipientStatus.SENT,
                    "sent_at": now,
                    "lease_until": None,
                    "last_error": None,
                    "updated_at": now,
                }
            )
            return sent, {"sending": -1, "sent": 1}
        if outcome is False or self._tenant(item.tenant_id).policy.settings.at_least_once:
            return self._temporary(item, recipient, now, exc.message, exc.retry_after, acks)
        return self._failed(item, recipient, now, f"unknown_outcome: {exc.message}", acks)

    # --- mailbox health ----------------------------------------------------------------------

    def _mailbox_down(self, mailbox: Mailbox, exc: MailboxSendError) -> None:
        if mailbox.id in self._down:
            return
        self._down.add(mailbox.id)
        self.report.mailboxes_paused += 1
        status = (
            MailboxStatus(exc.status)
            if exc.status in MailboxStatus._value2member_map_
            else MailboxStatus.PAUSED
        )
        paused_until = (
            self.deps.clock.now() + timedelta(seconds=exc.retry_after) if exc.retry_after else None
        )
        self.deps.mailboxes.set_status(
            mailbox.tenant_id,
            mailbox.id,
            status,
            reason=exc.message[:300],
            now=self.deps.clock.now(),
            paused_until=paused_until,
            only_if={MailboxStatus.ACTIVE},
        )
        sender = self._senders.pop(mailbox.id, None)
        if sender is not None:
            with contextlib.suppress(OSError, SendError):
                sender.close()

    def _note_mailbox_error(self, ctx: _TenantContext, mailbox: Mailbox, exc: SendError) -> None:
        streak = self.deps.mailboxes.add_errors(mailbox.tenant_id, mailbox.id, 1)
        ctx.mailboxes[mailbox.id] = mailbox.model_copy(update={"consecutive_errors": streak})
        if streak >= self.options.mailbox_error_threshold:
            self._mailbox_down(
                mailbox,
                MailboxSendError(
                    f"{streak} consecutive errors, last: {exc.message}", reason="failing"
                ),
            )

    def _note_mailbox_ok(self, ctx: _TenantContext, mailbox: Mailbox) -> None:
        if mailbox.consecutive_errors:
            self.deps.mailboxes.add_errors(mailbox.tenant_id, mailbox.id, -1)
            ctx.mailboxes[mailbox.id] = mailbox.model_copy(update={"consecutive_errors": 0})

    # --- poison ------------------------------------------------------------------------------

    def _dead_letter(self, queue: str, message: QueueMessage, why: str) -> None:
        self.report.dead_lettered += 1
        self.deps.queues.send(
            f"{queue}-dlq", [Outgoing(id="0", body={"error": why, "raw": message.raw[:200_000]})]
        )
        self.deps.queues.delete(queue, [message.receipt])
