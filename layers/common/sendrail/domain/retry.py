"""Retry policy for temporary send errors: exponential backoff with full jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_seconds: float = 60.0
    factor: float = 4.0
    cap_seconds: float = 6 * 3600.0

    def should_retry(self, attempts_made: int) -> bool:
        return attempts_made < self.max_attempts

    def delay(
        self, attempts_made: int, rng: random.Random | None = None, floor: float = 0.0
    ) -> float:
        """Seconds to wait after the ``attempts_made``-th failure: half fixed, half jitter
        (so retries never bunch up), at least ``floor`` (a provider's Retry-After)."""
        ceiling = min(
            self.cap_seconds, self.base_seconds * self.factor ** max(0, attempts_made - 1)
        )
        draw = (rng or random).random()
        return max(floor, ceiling / 2 + draw * ceiling / 2)
