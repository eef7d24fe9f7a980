"""The local stack's clock: the wall clock, or a virtual clock that moves only when told.

The virtual clock moves the whole process's time (time-machine), so everything follows
it: our counters and windows, moto's SQS visibility and delays, token expiry."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sendrail.clock import SystemClock


class LocalClock:
    def __init__(self, virtual_start: datetime | None) -> None:
        self.virtual = virtual_start is not None
        self._traveller: Any = None
        self._coordinates: Any = None
        self._lock = threading.RLock()
        self._system = SystemClock()
        if virtual_start is not None:
            import time_machine  # noqa: PLC0415 - only with a virtual clock

            self._traveller = time_machine.travel(virtual_start.astimezone(UTC), tick=False)
            self._coordinates = self._traveller.start()

    def now(self) -> datetime:
        return self._system.now()

    def move_to(self, when: datetime) -> None:
        """Virtual clock only: jump forward to ``when`` (never backwards)."""
        with self._lock:
            delta = (when - self.now()).total_seconds()
            if delta > 0:
                self._coordinates.shift(timedelta(seconds=delta))

    def stop(self) -> None:
        if self._traveller is not None:
            self._traveller.stop()
