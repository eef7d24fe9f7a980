"""Every benchmark still runs end to end, as ``make bench`` runs it, in a quick run with
its sizes cut to a few (``bench/quick.py``). The benchmarks are run by hand when an
issue's figures are due; this catches one that a change broke in between (an API it
calls, a guard it now meets). ``bench_packages`` is left out: it downloads every wheel
and builds the layer twice (``tests/infra`` builds the layer)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEFT_OUT = {"bench_packages.py"}
BENCHES = sorted(p.name for p in (ROOT / "bench").glob("bench_*.py") if p.name not in LEFT_OUT)


def test_the_benchmarks_are_found() -> None:
    assert len(BENCHES) >= 9 and "bench_throughput.py" in BENCHES


@pytest.mark.parametrize("name", BENCHES)
def test_given_a_quick_run_then_the_benchmark_prints_its_figures(name: str) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / name)],
        cwd=ROOT,
        env={**_own_environment(), "SENDRAIL_BENCH_QUICK": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("quick run"), lines[:3]
    assert len(lines) >= 3 and any(ch.isdigit() for ch in "".join(lines[1:])), result.stdout


def _own_environment() -> dict[str, str]:
    """This process's environment without what tests may have set for themselves (AWS
    endpoints and credentials, sendrail's settings): a benchmark sets up its own."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SENDRAIL_"))}
