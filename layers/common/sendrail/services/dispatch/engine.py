"""The dispatch run: from SQS messages to sent mail, within every limit, exactly once, in
parallel across mailboxes.

One run (one Lambda invocation on the EventBridge schedule):

1. feed SQS from DynamoDB (:mod:`sendrail.services.feeding`) and resolve expired claims
   (:mod:`.recovery`);
2. take messages in, highest priority band first, while the lanes can use them: admit
   (:mod:`.admission`), place and reserve units (:mod:`.reservation`), hand each placed
   message to its mailbox's lane (:mod:`.lanes`);
3. each lane claims its recipient right before the send and sends (:mod:`.sending`); the
   main thread applies each result: the recipient's new state and counters (one table,
   :mod:`sendrail.domain.delivery`), units given back, mailbox health (:mod:`.health`),
   and the message's acknowledgement, all written in batches in a safe order
   (:mod:`.ledger`); a message whose mailbox failed is placed again on another one;
4. when the time is nearly up, nothing new starts; what lanes still hold comes back.

Several runs at once share the work: SQS gives each message to one receiver at a time,
feeding claims pages of recipients, limits are reserved with versioned writes, and claims
are conditional. Only the main thread touches caches, limits, counters and SQS; lanes
touch the store only to claim."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sendrail.services import feeding
from sendrail.services.deps import Deps
from sendrail.services.dispatch.admission import Admission
from sendrail.services.dispatch.health import MailboxHealth
from sendrail.services.dispatch.lanes import LaneContext, Lanes
from sendrail.services.dispatch.ledger import Ledger
from sendrail.services.dispatch.ports import DispatchStore, SenderSource
from sendrail.services.dispatch.recovery import Recovery
from sendrail.services.dispatch.reservation import Reservations
from sendrail.services.dispatch.senders import ProviderSenders, SenderOpener
from sendrail.services.dispatch.sending import Attempt, Next, Personaliser, Result
from sendrail.services.dispatch.tenants import Tenants
from sendrail.services.dispatch.work import DispatchOptions, DispatchReport, Units, Work
from sendrail.storage.queues import BANDS, QueueMessage

log = logging.getLogger("sendrail.dispatch")
HEALTH_EVERY = timedelta(minutes=5)
_LAST_HEALTH: list[datetime] = []  # per process (Lambda container)
POLL_SECONDS = 0.05  # how long the main thread waits for a lane's result at a time
HOLD = 10  # take nothing new in while this many admitted messages wait for a mailbox
IN_FLIGHT_PER_LANE = 8
FINAL_WAIT_SECONDS = 1.0  # a run stops waiting for its lanes this long before its end
DRY_PAUSE_SECONDS = 1.0  # queues found empty are not asked again sooner while lanes send


class Dispatcher:
    def __init__(
        self,
        store: DispatchStore,
        options: DispatchOptions | None = None,
        *,
        senders: SenderSource | None = None,
        opener: SenderOpener | None = None,
        personalise: Personaliser | None = None,
        rng: random.Random | None = None,
        lane_context: LaneContext | None = None,
    ) -> None:
        self.store = store
        self.options = options or DispatchOptions()
        self.report = DispatchReport()
        if senders is None:
            if not isinstance(store, Deps):
                raise TypeError("pass the senders for a store other than Deps")
            senders = ProviderSenders(
                store, self.options.provider_config, **({"opener": opener} if opener else {})
            )
        self._senders = senders
        self._lane_context = lane_context
        rng = rng or random.Random()  # noqa: S311 - jitter only
        self._rng = rng
        self.tenants = Tenants(store, self.options.tenant_ttl_seconds)
        self.ledger = Ledger(store, self.options)
        self.health = MailboxHealth(store, self.tenants, self.report, self.options)
        self.admission = Admission(store, self.tenants, self.ledger, self.report, self.options, rng)
        self.reservations = Reservations(
            store,
            self.tenants,
            self.admission,
            self.health.paused,
            self.report,
            self.options,
            rng,
        )
        self.recovery = Recovery(
            store,
            self.tenants,
            senders,
            self.admission.campaign,
            self.ledger,
            self.report,
            self.options,
        )
        self._attempt = Attempt(store.recipients, store.clock, self.options, personalise, rng)
        self._waiting: list[Work] = []  # admitted, in hand, every mailbox busy
        self._campaigns_active = False  # feeding found campaigns in the active index

    # --- the run -----------------------------------------------------------------------------

    def run(self, time_left: Callable[[], float]) -> DispatchReport:
        started = self.store.clock.now()
        lanes = Lanes(self._attempt, self._senders, self.options, self._lane_context)
        try:
            self._feed()
            self._loop(lanes, time_left)
        finally:
            self._stop(lanes, time_left)
            self.report.peak_lanes = lanes.peak
            self._record_health()
            self._fall_idle_if_nothing(started)
        return self.report

    def _loop(self, lanes: Lanes, time_left: Callable[[], float]) -> None:
        room = max(1, self.options.lanes) * IN_FLIGHT_PER_LANE
        # Messages come in by the batch, once the lanes have room for one: topping up a
        # few at a time as results arrive would spread each intake's fixed calls
        # (suppressions and limits read, limits written) over those few.
        batch = max(1, min(room // 2, self.options.receives_per_batch * 10))
        # Take nothing in that the lanes could not send before the run stops.
        intake_until = self.options.stop_margin_seconds + self.options.lane_horizon_seconds
        fed_at = dry_at = time.monotonic() - DRY_PAUSE_SECONDS
        since_placed = 0  # results since messages waiting for a mailbox were last placed
        while time_left() > self.options.stop_margin_seconds:
            took = fed = 0
            # Queues found dry are asked again only after a pause while lanes still send.
            rested = not lanes.in_flight or time.monotonic() - dry_at >= DRY_PAUSE_SECONDS
            if (
                rested
                and len(self._waiting) < HOLD
                and lanes.in_flight <= room - batch
                and time_left() > intake_until
            ):
                took = self._intake(lanes, room - lanes.in_flight)
                if not took:
                    dry_at = time.monotonic()
                # Queues dry: feed again (while lanes still send, at most once a second).
                if not took and (not lanes.in_flight or dry_at - fed_at >= DRY_PAUSE_SECONDS):
                    fed = self._feed()
                    fed_at = time.monotonic()
                    if fed:
                        dry_at -= DRY_PAUSE_SECONDS
            busy = lanes.in_flight and not (took or fed)
            results = lanes.collect(POLL_SECONDS if busy else 0)
            self._apply(results, lanes, placing=True)
            since_placed += len(results)
            # Waiting messages are placed again once lanes have room for a good share of
            # them (each placement reads and writes the limits once).
            if self._waiting and (
                since_placed >= max(HOLD, len(self._waiting)) or not lanes.in_flight
            ):
                waiting, self._waiting = self._waiting, []
                self._place(waiting, lanes)
                since_placed = 0
            self.ledger.flush()
            if not (took or fed or results or lanes.in_flight or self._waiting):
                break

    def _stop(self, lanes: Lanes, time_left: Callable[[], float]) -> None:
        """Nothing new starts; collect what the lanes still do (not past the deadline),
        give back what was never started, write everything."""
        lanes.stop()
        while lanes.in_flight and time_left() > FINAL_WAIT_SECONDS:
            self._apply(lanes.collect(POLL_SECONDS), lanes, placing=False)
        for item in self._waiting:
            self.admission.defer(item, 0)
        self._waiting = []
        lanes.close()
        self.recovery.close()
        self.ledger.flush(force=True)

    def _feed(self) -> int:
        fed = feeding.run(
            self.store, self.options.ses_account, self.options.provider_config.ses_region
        )
        self._campaigns_active = fed.active > 0
        self.report.fed += fed.fed
        self.report.started += fed.started
        self.report.completed += fed.completed
        if fed.expired_claims:
            self.recovery.expired_claims(fed.expired_claims)
            # Their counters now, before the next feeding counts the campaign for real.
            self.ledger.flush(force=True)
        self.report.events.extend(
            (tenant_id, "campaign_completed", {"campaign_id": campaign_id})
            for tenant_id, campaign_id in fed.completed_campaigns
        )
        return fed.fed

    # --- taking messages in ------------------------------------------------------------------

    def _intake(self, lanes: Lanes, room: int) -> int:
        """Receive from the highest band that has messages, admit and place them; returns
        how many messages came in."""
        for band in BANDS:
            messages = self._receive(band.name, room, wait=not lanes.in_flight)
            if messages:
                self.report.batches += 1
                try:
                    self._place(self.admission.admit(messages), lanes)
                except Exception as exc:
                    # Messages not yet acknowledged come back after their visibility
                    # timeout; units already reserved stay counted (never exceeded).
                    log.exception("dispatch intake failed")
                    self.report.last_error = f"{type(exc).__name__}: {exc}"[:300]
                return len(messages)
        return 0

    def _receive(self, band: str, room: int, *, wait: bool) -> list[QueueMessage]:
        """Up to ``receives_per_batch`` receives of ten: a bigger intake shares its fixed
        costs (suppressions, limit reads and writes) among more messages."""
        messages: list[QueueMessage] = []
        for _ in range(max(1, min(self.options.receives_per_batch, room // 10))):
            got = self.store.queues.receive(
                band,
                max_messages=10,
                # Hidden until the claims it may lead to have expired.
                visibility=self.options.lease_seconds + min(60, self.options.lease_seconds),
                wait=self.options.receive_wait_seconds if wait and not messages else 0,
            )
            messages.extend(got)
            if len(got) < 10:
                break
        return messages

    def _place(self, work: list[Work], lanes: Lanes) -> None:
        if not work:
            return
        placed, waiting = self.reservations.place(work, lanes)
        for item in placed:
            lanes.submit(item)
        self._waiting.extend(waiting)

    # --- what the lanes did ------------------------------------------------------------------

    def _apply(self, results: list[Result], lanes: Lanes, *, placing: bool) -> None:
        giveback: dict[datetime, list[Units]] = {}
        again: list[Work] = []
        for result in results:
            item = result.item
            assert item.mailbox is not None
            assert item.campaign is not None
            self._count(result)
            self._mailbox_health(result)
            if result.giveback and item.taken_at is not None:
                giveback.setdefault(item.taken_at, []).extend(item.units)
            ack_in = self._ack_in(result)
            if result.settled is not None:
                message = item.message if result.next is not Next.REPLACE else None
                self.ledger.settle(item.campaign, item.mailbox.id, message, result.settled, ack_in)
            elif result.next is not Next.REPLACE:
                self.ledger.ack(item.message, ack_in)
            if result.next is Next.REPLACE:
                item.unplace()
                again.append(item)
        for taken_at, units in giveback.items():
            self.reservations.release(units, taken_at)
        if again:
            # A message taken back from a claim is stored ``queued`` before anyone may
            # claim it again.
            self.ledger.write_recipients()
            if placing:
                self._place(again, lanes)
            else:
                for item in again:
                    self.admission.defer(item, 0)

    def _ack_in(self, result: Result) -> float | None:
        if result.next is Next.DONE:
            return None
        if result.next is Next.CHECK:
            return self.recovery.after_lost_claim(result.item)
        return result.delay

    def _count(self, result: Result) -> None:
        r = self.report
        if result.counted_as == "sent":
            r.sent += 1
            assert result.item.mailbox is not None
            item, mailbox_id = result.item, result.item.mailbox.id
            r.by_mailbox[mailbox_id] += 1
            data = {"email": item.email, "campaign_id": item.campaign_id, "mailbox_id": mailbox_id}
            r.events.append((item.tenant_id, "sent", data))
        elif result.counted_as == "failed":
            r.failed += 1
        elif result.counted_as == "retried":
            r.retried += 1
        elif result.counted_as == "deferred":
            r.deferred += 1
        elif result.counted_as == "handed_off":
            r.handed_off += 1
        if result.unexpected:
            r.last_error = result.unexpected

    def _mailbox_health(self, result: Result) -> None:
        mailbox = result.item.mailbox
        assert mailbox is not None
        if result.down is not None:
            self.health.pause(mailbox, result.down)
        elif result.fault is not None:
            self.health.failed(mailbox, result.fault)
        elif result.worked:
            self.health.worked(mailbox)

    # --- health of the processor -------------------------------------------------------------

    def _fall_idle_if_nothing(self, started: datetime) -> None:
        """A run that found no campaign, message or claim lets scheduled runs rest until
        work appears (see ``services.dispatch.activity``)."""
        r = self.report
        if not (self._campaigns_active or r.batches or r.recovered or r.deferred):
            self.store.system.fall_idle(started)

    def _record_health(self) -> None:
        """For ``/api/admin/queue/status``: every run that did something, or had an error, and
        at least one run every few minutes (so a stalled schedule shows)."""
        now = self.store.clock.now()
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
        self.store.system.record_dispatch(now, outcome, r.last_error)
        _LAST_HEALTH[:] = [now]
