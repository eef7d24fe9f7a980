"""Who may run while the virtual clock moves.

Requests and event-source deliveries only read the clock: any number run side by side
(Lambda runs them in separate containers). Moving the clock and firing scheduled functions
(``/_local/clock/advance``, ``/_local/run/…``) needs the world to itself, so that no
request sees time jump under it. Writers are preferred: once one waits, new readers queue
behind it, so a stream of requests cannot starve a clock advance.

A long advance (days of scheduled runs) gives the readers that wait a turn between its
steps (:meth:`World.yield_to_readers`): a request made meanwhile is answered at the time
the advance has reached, within a step, instead of after the whole advance."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType


class World:
    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers: dict[int, int] = {}  # thread id -> depth
        self._writer: int | None = None
        self._writer_depth = 0
        self._writers_waiting = 0
        self._readers_waiting = 0
        self._readers_turn = False  # a writer stepped aside for the readers that wait
        self.reader = _Side(self.acquire_shared, self.release_shared)
        self.writer = _Side(self.acquire_exclusive, self.release_exclusive)

    def acquire_shared(self) -> None:
        me = threading.get_ident()
        with self._cond:
            if self._writer == me or me in self._readers:  # nested: already inside
                self._readers[me] = self._readers.get(me, 0) + 1
                return
            self._readers_waiting += 1
            try:
                while self._writer is not None or (
                    self._writers_waiting and not self._readers_turn
                ):
                    self._cond.wait()
            finally:
                self._readers_waiting -= 1
            self._readers[me] = 1
            self._cond.notify_all()  # a writer stepping aside waits for the queue to empty

    def release_shared(self) -> None:
        me = threading.get_ident()
        with self._cond:
            depth = self._readers[me] - 1
            if depth:
                self._readers[me] = depth
            else:
                del self._readers[me]
                self._cond.notify_all()

    def acquire_exclusive(self) -> None:
        me = threading.get_ident()
        with self._cond:
            if self._writer == me:
                self._writer_depth += 1
                return
            if me in self._readers:
                raise RuntimeError("a reader cannot take the world exclusively (deadlock)")
            self._take(me)

    def yield_to_readers(self) -> None:
        """For the writer, between two steps of its work: the readers waiting now enter
        (and any that come while they do), then the writer has the world alone again once
        they have left. Free when none waits; nothing when the writer holds the world more
        than once (an outer holder has not finished its step)."""
        me = threading.get_ident()
        with self._cond:
            if self._writer != me:
                raise RuntimeError("only the writer may step aside")
            if self._writer_depth != 1 or not self._readers_waiting:
                return
            self._writer, self._writer_depth = None, 0
            self._readers_turn = True
            self._cond.notify_all()
            try:
                while self._readers_waiting:
                    self._cond.wait()
            finally:
                self._readers_turn = False
            self._take(me)

    def _take(self, me: int) -> None:
        """Wait (holding the condition) until no one else is inside, then be the writer;
        readers that come meanwhile queue behind."""
        self._writers_waiting += 1
        try:
            while self._writer is not None or self._readers:
                self._cond.wait()
        finally:
            self._writers_waiting -= 1
        self._writer, self._writer_depth = me, 1

    def release_exclusive(self) -> None:
        with self._cond:
            self._writer_depth -= 1
            if not self._writer_depth:
                self._writer = None
                self._cond.notify_all()


class _Side:
    """A reusable context manager for one side of the lock."""

    def __init__(self, enter: Callable[[], None], leave: Callable[[], None]) -> None:
        self._enter = enter
        self._leave = leave

    def __enter__(self) -> None:
        self._enter()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._leave()
