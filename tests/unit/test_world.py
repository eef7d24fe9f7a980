"""The local stack's world lock: readers (requests) share it, a writer (clock advance)
has it alone, and a waiting writer is not starved by new readers. Threads are steered with
events; every wait is bounded so a bug fails instead of hanging."""

from __future__ import annotations

import threading

import pytest
from sendrail_local.world import World

BOUND = 10.0


def _until_a_writer_waits(world: World) -> None:
    for _ in range(10_000):  # bounded: at most about ten seconds
        if world._writers_waiting:
            return
        threading.Event().wait(0.001)
    raise AssertionError("the writer never started waiting")


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
