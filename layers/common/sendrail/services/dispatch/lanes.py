"""Lanes: the sends of one invocation, in parallel across mailboxes.

A lane is one connection to a mailbox's provider, used in order by one thread at a time;
a mailbox has one lane (providers punish parallel connections from one account) unless it
allows more (``max_connections``: SES and SMTP relays). Lanes run on a bounded pool of
threads (``DispatchOptions.lanes``); while other lanes wait for a thread, a lane that has
sent a few messages yields its own so that more lanes than threads still take turns (with
none waiting it keeps it: a hand-over costs a thread switch and buys nothing).

Isolation: a lane is given no more work than it should finish within the lane horizon
(its queue times its observed latency, or the time its current send has been waiting, if
longer), so a slow or silent provider holds only a few messages while the others take the
rest; a lane whose mailbox cannot send or whose provider cannot be reached stops, and
every message it still holds goes back, unclaimed, to be placed on another mailbox.

Results go to the run's main thread through a queue; nothing here writes counters,
acknowledges messages or touches limits."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager

from sendrail.domain.models import Mailbox, Provider
from sendrail.errors import SendError
from sendrail.providers.base import Sender
from sendrail.services.dispatch.ports import SenderSource
from sendrail.services.dispatch.sending import LaneHandle, Next, Result, unstarted
from sendrail.services.dispatch.work import DispatchOptions, Work

log = logging.getLogger("sendrail.dispatch.lanes")

BURST = 2  # sends a lane makes before it lets a waiting lane have its thread
LATENCY_PRIOR = 0.1  # seconds per send assumed before a lane has measured its own
API_LATENCY_PRIOR = 0.5  # the same for Gmail's and Graph's HTTPS calls (300-900 ms)
_API_PROVIDERS = frozenset({Provider.GMAIL, Provider.OUTLOOK})
Attempter = Callable[[Work, LaneHandle], Result]
LaneContext = Callable[[], AbstractContextManager[None]]


def latency_prior(mailbox: Mailbox) -> float:
    """Seconds per send assumed for a lane of ``mailbox`` that has timed none yet: a first
    placement must not give an API mailbox the horizon's worth of an SMTP relay's sends
    (it would hold them while other mailboxes' lanes stand idle)."""
    return API_LATENCY_PRIOR if mailbox.provider in _API_PROVIDERS else LATENCY_PRIOR


class Lane:
    """One connection to one mailbox's provider. Its queue and timings are guarded by the
    pool's lock; its sender is used only by the thread draining it."""

    def __init__(self, mailbox: Mailbox, senders: SenderSource) -> None:
        self.mailbox = mailbox
        self.items: deque[Work] = deque()
        self.running = False
        self.dead = False
        self.latency: float | None = None
        self.started: float | None = None  # monotonic start of the send in progress
        self._senders = senders
        self._sender: Sender | None = None

    def sender(self) -> Sender:
        if self._sender is None:
            self._sender = self._senders.open(self.mailbox)
        return self._sender

    def per_send(self, now: float) -> float:
        """Seconds a send takes here: as measured, or as long as the one in progress has
        waited if that is longer (a silent server shows at once)."""
        per = self.latency if self.latency is not None else latency_prior(self.mailbox)
        if self.started is not None:
            per = max(per, now - self.started)
        return max(per, 1e-4)

    def expected_wait(self, now: float, share: float = 1.0) -> float:
        """Seconds until what it holds is sent, when lanes outnumber threads by ``share``."""
        return (len(self.items) + (self.started is not None)) * self.per_send(now) * share

    def room(self, now: float, horizon: float, share: float) -> int:
        per = self.per_send(now) * share
        return max(0, int((horizon - self.expected_wait(now, share)) / per))

    def close(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            try:
                sender.close()
            except (OSError, SendError):
                log.warning("closing a sender failed", exc_info=True)


class Lanes:
    def __init__(
        self,
        attempt: Attempter,
        senders: SenderSource,
        options: DispatchOptions,
        context: LaneContext | None = None,
    ) -> None:
        self._attempt = attempt
        self._senders = senders
        self._options = options
        self._context: LaneContext = context or contextlib.nullcontext
        self._executor = ThreadPoolExecutor(
            max_workers=max(1, options.lanes), thread_name_prefix="sendrail-lane"
        )
        self._lanes: dict[str, list[Lane]] = {}
        self._limits: dict[str, int] = {}
        self._results: queue.SimpleQueue[Result] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = max(1, options.lanes)
        self._busy_lanes = 0  # lanes with work, running or waiting for a thread
        self._sending = 0
        self.peak = 0  # most sends in progress at once
        self.in_flight = 0  # submitted and not yet collected (main thread only)

    # --- what placement asks ---------------------------------------------------------------

    def connections(self, mailbox: Mailbox) -> int:
        """How many lanes this mailbox may have at once."""
        if mailbox.id not in self._limits:
            wanted = self._senders.connections(mailbox)
            self._limits[mailbox.id] = max(
                1, min(wanted, self._options.max_connections_cap, self._options.lanes)
            )
        return self._limits[mailbox.id]

    def room(self, mailbox: Mailbox) -> int:
        """How many more messages the mailbox's lanes should take now: what each can send
        within the horizon beyond what it holds, and what lanes not yet opened could."""
        limit = self.connections(mailbox)
        horizon = self._options.lane_horizon_seconds
        with self._lock:
            lanes = self._lanes.get(mailbox.id, [])
            now = time.monotonic()
            share = max(1.0, self._busy_lanes / self._threads)  # lanes take turns on threads
            room = sum(lane.room(now, horizon, share) for lane in lanes if not lane.dead)
            return room + max(0, limit - len(lanes)) * int(horizon / latency_prior(mailbox) / share)

    def unreachable(self, mailbox_id: str) -> bool:
        with self._lock:
            lanes = self._lanes.get(mailbox_id, [])
            return bool(lanes) and all(lane.dead for lane in lanes)

    # --- work in, results out --------------------------------------------------------------

    def submit(self, item: Work) -> None:
        assert item.mailbox is not None
        limit = self.connections(item.mailbox)
        self.in_flight += 1
        with self._lock:
            lanes = self._lanes.setdefault(item.mailbox.id, [])
            now = time.monotonic()
            lane = min(lanes, key=lambda candidate: candidate.expected_wait(now), default=None)
            if lane is None or (lane.expected_wait(now) > 0 and len(lanes) < limit):
                lane = Lane(item.mailbox, self._senders)
                lanes.append(lane)
            lane.items.append(item)
            start = not lane.running
            if start:
                lane.running = True
                self._busy_lanes += 1
        if start:
            self._executor.submit(self._drain, lane)

    def collect(self, timeout: float) -> list[Result]:
        """Results so far; waits up to ``timeout`` seconds for the first one."""
        results: list[Result] = []
        try:
            if timeout > 0:
                results.append(self._results.get(timeout=timeout))
            else:
                results.append(self._results.get_nowait())
        except queue.Empty:
            return results
        while True:
            try:
                results.append(self._results.get_nowait())
            except queue.Empty:
                break
        self.in_flight -= len(results)
        return results

    def stop(self) -> None:
        """No new send starts; what lanes still hold comes back unstarted."""
        self._stopping.set()

    def close(self) -> None:
        """After :meth:`stop` and the results collected: close idle lanes' connections (a
        lane still in a send closes its own when that send ends)."""
        self._stopping.set()
        self._executor.shutdown(wait=False, cancel_futures=False)
        with self._lock:
            idle = [lane for lanes in self._lanes.values() for lane in lanes if not lane.running]
        for lane in idle:
            lane.close()

    # --- a lane's thread -------------------------------------------------------------------

    def _drain(self, lane: Lane) -> None:
        with self._context():
            while self._drain_burst(lane):
                try:
                    self._executor.submit(self._drain, lane)  # other lanes' turn first
                    return
                except RuntimeError:  # the pool is shutting down: finish here
                    continue
        if self._stopping.is_set():
            lane.close()  # the run is over and this lane is empty

    def _drain_burst(self, lane: Lane) -> bool:
        """Send up to ``BURST`` of the lane's messages (all of them once stopping, which
        is quick: nothing new starts); True when the lane still has work."""
        sent = 0
        while True:
            with self._lock:
                stopping = self._stopping.is_set()
                if not lane.items:
                    lane.running = False
                    self._busy_lanes -= 1
                    return False
                if sent >= BURST and not stopping and self._busy_lanes > self._threads:
                    return True  # another lane waits for a thread: let it have this one
                item = lane.items.popleft()
                lane.started = time.monotonic()
                self._sending += 1
                self.peak = max(self.peak, self._sending)
            result = self._one(lane, item, stopping)
            sent += 1
            with self._lock:
                self._sending -= 1
                took = time.monotonic() - (lane.started or time.monotonic())
                lane.latency = took if lane.latency is None else 0.7 * lane.latency + 0.3 * took
                lane.started = None
                if result.down is not None or result.unreachable:
                    for other in self._lanes.get(lane.mailbox.id, []):
                        other.dead = True
            self._results.put(result)

    def _one(self, lane: Lane, item: Work, stopping: bool) -> Result:
        if stopping or lane.dead:
            return unstarted(item, replace=not stopping)
        try:
            return self._attempt(item, lane)
        except Exception as exc:  # a lane must never die silently, whatever went wrong
            log.exception("a send failed unexpectedly")
            # Maybe claimed: its lease is then resolved by a later run; the units stay spent.
            text = f"{type(exc).__name__}: {exc}"[:300]
            return Result(item, Next.LATER, delay=60, unexpected=text)
