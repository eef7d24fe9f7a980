"""Lanes without sockets: what runs at once, in which order, and what comes back when a
lane goes down or the run stops. The attempt is a stand-in; nothing is timed."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sendrail.domain.models import Mailbox, Provider
from sendrail.errors import MailboxSendError
from sendrail.services.dispatch.lanes import Lanes
from sendrail.services.dispatch.sending import Next, Result
from sendrail.services.dispatch.work import DispatchOptions, Work
from sendrail.storage.queues import QueueMessage

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WAIT = 10.0  # seconds a test waits for lanes before it gives up (never reached when right)


def mailbox(
    name: str, connections: int | None = None, provider: Provider = Provider.SMTP
) -> Mailbox:
    return Mailbox(
        id=name,
        tenant_id="ten_1",
        provider=provider,
        email=f"{name}@example.com",
        max_connections=connections,
        created_at=NOW,
        updated_at=NOW,
    )


def work(box: Mailbox, n: int) -> Work:
    message = QueueMessage("send-normal", f"{box.id}-{n}", f"r{n}", {}, 1, "")
    return Work(message, "ten_1", "cmp_1", f"r{n}@example.org", None, mailbox=box)


class Senders:
    def open(self, mailbox: Mailbox) -> Any:
        raise AssertionError("the stand-in attempt never opens a sender")

    def connections(self, mailbox: Mailbox) -> int:
        return mailbox.max_connections or 1


class Recorder:
    """An attempt that records who ran when, optionally meeting others at a barrier."""

    def __init__(self, barrier: threading.Barrier | None = None) -> None:
        self.barrier = barrier
        self.lock = threading.Lock()
        self.active: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.order: list[str] = []
        self.met = 0

    def __call__(self, item: Work, lane: Any) -> Result:
        assert item.mailbox is not None
        name = item.mailbox.id
        with self.lock:
            self.active[name] += 1
            self.peak[name] = max(self.peak[name], self.active[name])
            self.order.append(item.key)
        if self.barrier is not None:
            self.barrier.wait(WAIT)  # raises BrokenBarrierError unless the others arrive
            with self.lock:
                self.met += 1
        with self.lock:
            self.active[name] -= 1
        return Result(item, Next.DONE, counted_as="sent")


def drain(lanes: Lanes, expected: int) -> list[Result]:
    results: list[Result] = []
    for _ in range(1000):
        if len(results) >= expected:
            break
        results.extend(lanes.collect(0.05))
    return results


def test_given_three_mailboxes_then_their_sends_run_at_the_same_time():
    recorder = Recorder(threading.Barrier(3))
    lanes = Lanes(recorder, Senders(), DispatchOptions(lanes=8))
    for name in "abc":
        lanes.submit(work(mailbox(name), 0))
    results = drain(lanes, 3)
    lanes.close()
    assert recorder.met == 3  # all three were in their send at once
    assert [r.next for r in results] == [Next.DONE] * 3 and lanes.in_flight == 0


def test_given_one_mailbox_then_its_sends_go_one_at_a_time_in_order():
    recorder = Recorder()
    lanes = Lanes(recorder, Senders(), DispatchOptions(lanes=8))
    box = mailbox("a")
    for n in range(6):
        lanes.submit(work(box, n))
    drain(lanes, 6)
    lanes.close()
    assert recorder.peak["a"] == 1
    assert recorder.order == [f"a-{n}" for n in range(6)]


def test_given_threads_for_every_lane_then_a_lane_keeps_its_thread():
    # Yielding the thread after a burst is for lanes waiting for one; with none waiting,
    # handing the lane to another thread every few sends only costs thread switches.
    threads: set[int] = set()

    def attempt(item: Work, lane: Any) -> Result:
        threads.add(threading.get_ident())
        return Result(item, Next.DONE, counted_as="sent")

    lanes = Lanes(attempt, Senders(), DispatchOptions(lanes=8))
    box = mailbox("a")
    for n in range(12):
        lanes.submit(work(box, n))
    results = drain(lanes, 12)
    lanes.close()
    assert len(results) == 12 and len(threads) == 1


def test_given_max_connections_then_one_mailbox_sends_that_many_at_once():
    recorder = Recorder(threading.Barrier(3))
    lanes = Lanes(recorder, Senders(), DispatchOptions(lanes=8))
    box = mailbox("relay", connections=3)
    for n in range(3):
        lanes.submit(work(box, n))
    drain(lanes, 3)
    lanes.close()
    assert recorder.met == 3 and recorder.peak["relay"] == 3


def test_given_a_pool_smaller_than_the_mailboxes_then_every_lane_still_gets_its_turn():
    recorder = Recorder()
    lanes = Lanes(recorder, Senders(), DispatchOptions(lanes=2))
    for name in "abcdef":
        for n in range(5):
            lanes.submit(work(mailbox(name), n))
    results = drain(lanes, 30)
    lanes.close()
    assert len(results) == 30 and sum(recorder.active.values()) == 0
    assert lanes.peak <= 2


def test_given_a_mailbox_that_cannot_send_then_what_its_lane_holds_comes_back_unclaimed():
    first = threading.Event()

    def attempt(item: Work, lane: Any) -> Result:
        first.wait(WAIT)  # the rest queue up behind the first
        return Result(item, Next.REPLACE, down=MailboxSendError("auth refused"))

    lanes = Lanes(attempt, Senders(), DispatchOptions(lanes=4))
    box = mailbox("a")
    for n in range(4):
        lanes.submit(work(box, n))
    first.set()
    results = drain(lanes, 4)
    lanes.close()
    assert results[0].down is not None and not results[0].giveback
    assert all(r.next is Next.REPLACE and r.giveback for r in results[1:])
    assert lanes.unreachable("a")  # it takes nothing more in this run


def test_given_the_run_stops_then_nothing_new_starts_and_the_rest_comes_back():
    release = threading.Event()
    started: list[str] = []

    def attempt(item: Work, lane: Any) -> Result:
        started.append(item.key)
        release.wait(WAIT)
        return Result(item, Next.DONE, counted_as="sent")

    lanes = Lanes(attempt, Senders(), DispatchOptions(lanes=4))
    box = mailbox("a")
    for n in range(5):
        lanes.submit(work(box, n))
    for _ in range(200):  # until the first send is in progress
        if started:
            break
        release.wait(0.01)
    lanes.stop()
    release.set()
    results = drain(lanes, 5)
    lanes.close()
    assert started == ["a-0"]
    assert results[0].next is Next.DONE
    assert all(r.next is Next.LATER and r.delay == 0 and r.giveback for r in results[1:])


def test_given_no_send_measured_yet_then_an_api_mailbox_is_offered_fewer_messages():
    """Before a lane has timed a send, Gmail's and Graph's are assumed slower than an SMTP
    relay's (an HTTPS API call each), so a first placement does not pile onto them the
    horizon's worth of messages that a fast provider would send."""
    options = DispatchOptions(lanes=4, lane_horizon_seconds=5.0)
    lanes = Lanes(Recorder(), Senders(), options)
    try:
        smtp = lanes.room(mailbox("m_smtp"))
        gmail = lanes.room(mailbox("m_gmail", provider=Provider.GMAIL))
        outlook = lanes.room(mailbox("m_outlook", provider=Provider.OUTLOOK))
    finally:
        lanes.close()
    assert smtp == 50  # 5 s at 0.1 s a send
    assert gmail == outlook == 10  # 5 s at 0.5 s a send
