"""Fires the scheduled functions as the EventBridge rules would.

Wall clock: a background thread fires each schedule at its rate. Virtual clock: nothing
fires until :meth:`Scheduler.advance` moves time; it then runs every invocation that would
have fired meanwhile, in time order, moving the clock to each firing time first. Between
two firings, requests waiting for the world get their turn (at the time reached so far);
one advance runs at a time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sendrail_local.clock import LocalClock
from sendrail_local.world import World

log = logging.getLogger("sendrail.local.scheduler")


@dataclass
class Job:
    name: str
    every: timedelta
    run: Callable[[], None]
    next_at: datetime


class Scheduler:
    def __init__(self, clock: LocalClock, world: World) -> None:
        self._clock = clock
        self._world = world
        self._jobs: list[Job] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._advancing = threading.Lock()  # one advance (or run_now) at a time
        self.runs: dict[str, int] = {}

    def add(self, name: str, every_seconds: float, run: Callable[[], None]) -> None:
        every = timedelta(seconds=every_seconds)
        self._jobs.append(Job(name, every, run, self._clock.now() + every))
        self.runs[name] = 0

    def rates(self) -> dict[str, float]:
        """Each job's rate in seconds."""
        return {job.name: job.every.total_seconds() for job in self._jobs}

    def _fire(self, job: Job) -> None:
        self.runs[job.name] += 1
        try:
            job.run()
        except Exception:
            log.exception("scheduled %s failed", job.name)

    # --- virtual clock -----------------------------------------------------------------------

    def advance(self, seconds: float) -> dict[str, int]:
        """Move the virtual clock by ``seconds``, firing due jobs in order."""
        fired: dict[str, int] = {j.name: 0 for j in self._jobs}
        with self._advancing, self._world.writer:
            target = self._clock.now() + timedelta(seconds=seconds)
            while True:
                due = min(self._jobs, key=lambda j: j.next_at, default=None)
                if due is None or due.next_at > target:
                    break
                self._clock.move_to(due.next_at)
                due.next_at += due.every
                self._fire(due)
                fired[due.name] += 1
                self._world.yield_to_readers()
            self._clock.move_to(target)
        return fired

    # --- wall clock --------------------------------------------------------------------------

    def start_background(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = self._clock.now()
            for job in self._jobs:
                if job.next_at <= now:
                    job.next_at = now + job.every
                    self._fire(job)
            self._stop.wait(0.2)

    def run_now(self, name: str) -> bool:
        for job in self._jobs:
            if job.name == name:
                with self._advancing, self._world.writer:
                    self._fire(job)
                return True
        return False

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
