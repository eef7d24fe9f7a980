"""The local stack's world lock: readers (requests) share it, a writer (clock advance)
has it alone, and a waiting writer is not starved by new readers. Threads are steered with
events; every wait is bounded so a bug fails instead of hanging."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sendrail_local.clock import LocalClock
from sendrail_local.scheduler import Scheduler
from sendrail_local.world import World

BOUND = 10.0


def _until_a_writer_waits(world: World) -> None:
    _until(lambda: world._writers_waiting > 0, "the writer never started waiting")


def _until_a_reader_waits(world: World) -> None:
    _until(lambda: world._readers_waiting > 0, "the reader never started waiting")


def _until(condition: Callable[[], bool], failure: str) -> None:
    for _ in range(10_000):  # bounded: at most about ten seconds
        if condition():
            return
        threading.Event().wait(0.001)
    raise AssertionError(failure)


def _in_thread(target: object) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


def test_given_a_reader_inside_then_another_reader_enters_too() -> None:
    world = World()
    entered = threading.Event()
    with world.reader:
        _in_thread(lambda: (world.acquire_shared(), entered.set(), world.release_shared()))
        assert entered.wait(BOUND)


def test_given_a_reader_inside_then_a_writer_waits_until_it_leaves() -> None:
    world = World()
    wrote = threading.Event()
    world.acquire_shared()
    writer = _in_thread(lambda: (world.acquire_exclusive(), wrote.set(), world.release_exclusive()))
    _until_a_writer_waits(world)
    assert not wrote.is_set()  # the reader is still inside
    world.release_shared()
    assert wrote.wait(BOUND)
    writer.join(BOUND)


def test_given_a_waiting_writer_then_new_readers_queue_behind_it() -> None:
    world = World()
    order: list[str] = []
    world.acquire_shared()
    writer = _in_thread(
        lambda: (world.acquire_exclusive(), order.append("writer"), world.release_exclusive())
    )
    _until_a_writer_waits(world)
    reader = _in_thread(
        lambda: (world.acquire_shared(), order.append("reader"), world.release_shared())
    )
    world.release_shared()
    writer.join(BOUND)
    reader.join(BOUND)
    assert order == ["writer", "reader"]


def test_given_the_writer_then_it_may_nest_and_read() -> None:
    world = World()
    with world.writer, world.writer, world.reader:
        pass
    with world.reader:  # released fully: others may enter again
        pass


def test_given_a_reader_then_taking_the_world_exclusively_is_refused_not_a_deadlock() -> None:
    world = World()
    with world.reader, pytest.raises(RuntimeError):
        world.acquire_exclusive()


def test_given_a_waiting_reader_when_the_writer_steps_aside_then_it_runs_between_the_steps() -> (
    None
):
    world = World()
    order: list[str] = []
    inside = threading.Event()
    leave = threading.Event()

    def read() -> None:
        with world.reader:
            order.append("reader")
            inside.set()
            assert leave.wait(BOUND)

    with world.writer:
        order.append("step 1")
        reader = _in_thread(read)
        _until_a_reader_waits(world)
        # The reader gets in while the writer steps aside; the writer waits for it to leave.
        releaser = threading.Timer(0.05, lambda: (inside.wait(BOUND), leave.set()))
        releaser.start()
        world.yield_to_readers()
        assert inside.is_set() and leave.is_set()
        order.append("step 2")
    reader.join(BOUND)
    releaser.join(BOUND)
    assert order == ["step 1", "reader", "step 2"]


def test_given_no_reader_waiting_then_stepping_aside_keeps_the_world() -> None:
    world = World()
    with world.writer:
        world.yield_to_readers()
        assert world._writer == threading.get_ident()
        with world.writer:  # nested: an outer step is not finished, nothing happens
            world.yield_to_readers()
            assert world._writer_depth == 2


def test_given_a_reader_then_it_may_not_step_aside_for_others() -> None:
    world = World()
    with world.reader, pytest.raises(RuntimeError):
        world.yield_to_readers()


def test_given_a_long_advance_then_a_request_made_meanwhile_is_answered_before_it_ends() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    clock = LocalClock(start)
    try:
        world = World()
        scheduler = Scheduler(clock, world)
        seen: list[datetime] = []
        runs: list[datetime] = []

        def request() -> None:
            with world.reader:
                seen.append(clock.now())

        def job() -> None:
            runs.append(clock.now())
            if len(runs) == 2:  # a request comes in while the advance is under way
                _in_thread(request)
                _until_a_reader_waits(world)

        scheduler.add("dispatch", 60, job)
        fired = scheduler.advance(3600)
        assert fired == {"dispatch": 60} and len(runs) == 60
        assert seen == [start + timedelta(minutes=2)]  # answered between runs 2 and 3
        assert clock.now() == start + timedelta(hours=1)
    finally:
        clock.stop()
