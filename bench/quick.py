"""Quick runs: every benchmark with its sizes cut to a few, so that the tests can check
that each still runs end to end (``SENDRAIL_BENCH_QUICK=1``; ``tests/integration/
test_benches_run.py``). A quick run's figures mean nothing, and it says so first."""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

QUICK = os.environ.get("SENDRAIL_BENCH_QUICK") == "1"
if QUICK:
    print("quick run (SENDRAIL_BENCH_QUICK=1): sizes cut to a few, the figures mean nothing")


def sized(full: T, quick: T) -> T:
    """``full`` for a real run, ``quick`` for a quick one."""
    return quick if QUICK else full
