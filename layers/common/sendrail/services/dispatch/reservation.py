"""Reservation: each admitted message is placed on a mailbox and the units of every limit it
touches (the mailbox's, its sender domain's, the recipient domain's, the tenant's) are
reserved *before* anything is sent.

For the intake, the limit states of every subject involved are read in one BatchGetItem,
:func:`sendrail.domain.planning.plan_batch` places the messages (most remaining daily
capacity first), and each changed subject is written with a version condition. A lost
race re-reads and re-plans; units of messages that then cannot be placed are given back.
So no limit is ever exceeded, whatever the number of dispatchers. Units taken for a send
that fails still count: the provider saw it.

Only mailboxes able to take work now are offered: not paused by this run, not unreachable
in this run, each with the room its lanes have (what they can send within the lane
horizon beyond what they hold): a message whose every mailbox is full waits in hand,
unreserved. Used by the run's main thread only."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from sendrail.clock import Clock
from sendrail.domain import limits
from sendrail.domain.limits import LimitState, Rules
from sendrail.domain.models import Campaign, Mailbox, Provider
from sendrail.domain.planning import Demand, MailboxOption, Plan, plan_batch
from sendrail.domain.provider_limits import effective
from sendrail.errors import Conflict
from sendrail.services import capacity, warmup_plans
from sendrail.services.capacity import TenantPolicy
from sendrail.services.dispatch.admission import Admission
from sendrail.services.dispatch.ports import DispatchStats, DispatchStore, LimitStore
from sendrail.services.dispatch.tenants import Tenants
from sendrail.services.dispatch.work import DispatchOptions, DispatchReport, Units, Work
from sendrail.services.provider_quotas import SesAccount
from sendrail.services.warmup_plans import DayCounters

# A message whose every mailbox is unreachable in this run is tried again this soon.
UNREACHABLE_RETRY_SECONDS = 60.0


class Availability(Protocol):
    """How much more work a mailbox can take in this run (the lanes know)."""

    def room(self, mailbox: Mailbox) -> int: ...

    def unreachable(self, mailbox_id: str) -> bool: ...


class Reservations:
    def __init__(
        self,
        store: DispatchStore,
        tenants: Tenants,
        admission: Admission,
        paused: set[str],
        report: DispatchReport,
        options: DispatchOptions,
        rng: random.Random,
    ) -> None:
        self._store = store
        self._tenants = tenants
        self._admission = admission
        self._paused = paused
        self._report = report
        self._options = options
        self._rng = rng

    def place(self, work: list[Work], lanes: Availability) -> tuple[list[Work], list[Work]]:
        """Returns (placed, waiting): placed messages hold their units and a mailbox;
        waiting ones found every mailbox busy. The rest were deferred."""
        pending = sorted(work, key=lambda w: -(w.campaign.priority if w.campaign else 0))
        placed: list[Work] = []
        waiting: list[Work] = []
        for _ in range(self._options.commit_rounds):
            if not pending:
                break
            now = self._store.clock.now()
            offers = _Offers(
                self._tenants, self._paused, lanes, now, self._store.stats, self._options
            )
            rules = offers.rules
            demands: list[Demand] = []
            by_key: dict[str, Work] = {}
            for item in pending:
                demand = self._demand(item, offers)
                if demand is None:
                    self._admission.defer(
                        item, UNREACHABLE_RETRY_SECONDS + self._rng.uniform(0, 10)
                    )
                else:
                    demands.append(demand)
                    by_key[item.key] = item
            if all(d.options and not any(o.room for o in d.options) for d in demands):
                # Every mailbox is full: wait, without reading or writing any limit.
                waiting.extend(by_key.values())
                pending = []
                break
            states = self._store.limits.read(rules)
            # Sliding-window entries are logged at the latest moment the send may happen;
            # a send not made by then gives its reservation up and is placed again.
            stamp = now + timedelta(seconds=self._options.reservation_seconds)
            plan = plan_batch(demands, states, rules, now, stamp=stamp)
            lost = self._commit(plan, states, now)
            retry: list[Work] = []
            giveback: list[Units] = []
            waiting.extend(by_key[key] for key in plan.waiting)
            for demand in demands:
                item = by_key[demand.key]
                mailbox_id = plan.assigned.get(demand.key)
                if demand.key in plan.waiting:
                    continue
                if mailbox_id is None:
                    ready = plan.deferred[demand.key]
                    wait = (ready - now).total_seconds()
                    self._admission.defer(item, max(1.0, wait + self._rng.uniform(0, 2)))
                    continue
                option = next(o for o in demand.options if o.mailbox_id == mailbox_id)
                subjects = (option.subject, *option.extra_subjects, *demand.shared_subjects)
                units = tuple(Units(s, rules[s]) for s in subjects)
                if lost & set(subjects):
                    giveback.extend(u for u in units if u.subject not in lost)
                    retry.append(item)
                    continue
                ctx = self._tenants.get(item.tenant_id)
                item.mailbox = ctx.mailboxes[mailbox_id]
                item.settings = ctx.policy.settings
                item.units = units
                item.taken_at = now
                item.valid_until = min(stamp, *(limits.valid_until(u.rules, now) for u in units))
                placed.append(item)
            self.release(giveback, now)
            pending = retry
        for item in pending:  # contention did not settle: try again shortly
            self._admission.defer(item, 1 + self._rng.uniform(0, 5))
        return placed, waiting

    def _demand(self, item: Work, offers: _Offers) -> Demand | None:
        """The message's demand on the limits; None when every mailbox it may use is
        unreachable in this run."""
        assert item.campaign is not None
        policy = self._tenants.get(item.tenant_id).policy
        shared = shared_subjects(policy, item.email, offers.rules)
        options = offers.of(item.campaign, policy)
        if options is None:
            return None
        return Demand(item.key, options, shared)

    def _commit(self, plan: Plan, before: dict[str, LimitState], now: datetime) -> set[str]:
        return commit(self._store.limits, plan, before, now)

    def release(self, units: Iterable[Units], taken_at: datetime) -> None:
        """Give back units reserved (at ``taken_at``) for messages that will not be sent."""
        release(self._store.limits, self._store.clock, units, taken_at)


# --- the steps, also for a send made outside a run (a campaign's proofs) ----------------------


def shared_subjects(policy: TenantPolicy, email: str, rules: dict[str, Rules]) -> tuple[str, ...]:
    """The subjects one message to ``email`` takes from whatever mailbox sends it (the
    tenant's caps, its recipient-domain throttles); their rules are added to ``rules``."""
    shared: list[str] = []
    tenant = policy.tenant_subject()
    if tenant:
        rules[tenant[0]] = tenant[1]
        shared.append(tenant[0])
    for subject, rule in policy.recipient_subjects(email.rsplit("@", 1)[-1]):
        rules[subject] = rule
        shared.append(subject)
    return tuple(shared)


def mailbox_option(
    mailbox: Mailbox,
    policy: TenantPolicy,
    stats: DayCounters,
    now: datetime,
    rules: dict[str, Rules],
    room: int | None = None,
    ses: SesAccount | None = None,
    ses_region: str = "",
) -> MailboxOption:
    """Sending through ``mailbox``: its own subject (limits, provider ceiling, warm-up
    ramp), for SES the account's shared quota (``ses``, read by the caller), and its
    sender-domain throttles; their rules are added to ``rules``."""
    subject = capacity.mailbox_subject(mailbox.id)
    held = warmup_plans.held_days(stats, mailbox, now.date())
    found = effective(mailbox, ses)  # what the API shows as effective_limits
    rules[subject] = capacity.mailbox_rules(mailbox, now, ses, held, limits=found)
    extra = []
    for s, rule in [
        *capacity.shared_subjects(found, ses_region),
        *policy.sender_subjects(mailbox.domain),
    ]:
        rules[s] = rule
        extra.append(s)
    return MailboxOption(mailbox.id, subject, tuple(extra), room)


def commit(
    store: LimitStore, plan: Plan, before: Mapping[str, LimitState], now: datetime
) -> set[str]:
    """Write every changed subject with its version condition; returns the subjects
    another writer changed meanwhile (their units were not taken)."""
    lost: set[str] = set()
    for subject, state in plan.states.items():
        if store.write(subject, state, before[subject].version, now) is None:
            lost.add(subject)
    return lost


def release(store: LimitStore, clock: Clock, units: Iterable[Units], taken_at: datetime) -> None:
    """Give back units reserved (at ``taken_at``) for messages that will not be sent."""
    counted = Counter(units)
    for unit, count in counted.items():
        for _ in range(5):
            now = clock.now()
            state = store.read([unit.subject])[unit.subject]
            new = limits.release(state, unit.rules, now, count, taken_at)
            if new == state or store.write(unit.subject, new, state.version, now) is not None:
                break


def reserve_all(
    store: LimitStore,
    clock: Clock,
    demands: Sequence[Demand],
    rules: dict[str, Rules],
    rounds: int = 5,
) -> tuple[list[tuple[Units, ...]], datetime | None]:
    """Reserve every demand now, or none of them: (the units taken for each demand, in
    order; None), or ([], when the first refused one could go). A lost race re-reads and
    plans again; units written before the loss are given back first. Raises
    :class:`Conflict` when the race never settles."""
    for _ in range(rounds):
        now = clock.now()
        states = store.read(rules)
        plan = plan_batch(demands, states, rules, now, stamp=now)
        refused = [d.key for d in demands if d.key not in plan.assigned]
        if refused:
            return [], min((plan.deferred.get(k, now) for k in refused), default=now)
        taken = [
            tuple(
                Units(s, rules[s])
                for o in d.options
                if o.mailbox_id == plan.assigned[d.key]
                for s in (o.subject, *o.extra_subjects, *d.shared_subjects)
            )
            for d in demands
        ]
        lost = commit(store, plan, states, now)
        if not lost:
            return taken, None
        release(store, clock, [u for t in taken for u in t if u.subject not in lost], now)
    raise Conflict("the mailbox's limits are changing under heavy sending; try again")


class _Offers:
    """The mailboxes one placement round offers, worked out once per campaign and mailbox
    (pool, limit rules, sender-domain subjects, lane room) however many messages ask."""

    def __init__(
        self,
        tenants: Tenants,
        paused: set[str],
        lanes: Availability,
        now: datetime,
        stats: DispatchStats,
        options: DispatchOptions,
    ) -> None:
        self._tenants = tenants
        self._paused = paused
        self._lanes = lanes
        self._now = now
        self._stats = stats
        self._options = options
        self._ses: SesAccount | None = None
        self.rules: dict[str, Rules] = {}
        self._by_campaign: dict[tuple[str, str], tuple[MailboxOption, ...] | None] = {}
        self._by_mailbox: dict[str, MailboxOption | None] = {}

    def of(self, campaign: Campaign, policy: TenantPolicy) -> tuple[MailboxOption, ...] | None:
        """The campaign's options (None: every mailbox it may use is unreachable)."""
        key = (campaign.tenant_id, campaign.id)
        if key not in self._by_campaign:
            options: list[MailboxOption] = []
            unreachable = 0
            mailboxes = self._tenants.get(campaign.tenant_id).mailboxes.values()
            for mailbox in capacity.pool(campaign, mailboxes):
                if mailbox.id in self._paused:
                    continue
                option = self._option(mailbox, policy)
                if option is None:
                    unreachable += 1
                else:
                    options.append(option)
            self._by_campaign[key] = None if unreachable and not options else tuple(options)
        return self._by_campaign[key]

    def _option(self, mailbox: Mailbox, policy: TenantPolicy) -> MailboxOption | None:
        if mailbox.id not in self._by_mailbox:
            if self._lanes.unreachable(mailbox.id):
                self._by_mailbox[mailbox.id] = None
            else:
                self._by_mailbox[mailbox.id] = mailbox_option(
                    mailbox,
                    policy,
                    self._stats,
                    self._now,
                    self.rules,
                    self._lanes.room(mailbox),
                    self._ses_account() if mailbox.provider is Provider.SES else None,
                    self._options.provider_config.ses_region,
                )
        return self._by_mailbox[mailbox.id]

    def _ses_account(self) -> SesAccount | None:
        """Read once per round, and only when an SES mailbox is offered."""
        if self._ses is None and self._options.ses_account is not None:
            self._ses = self._options.ses_account()
        return self._ses
