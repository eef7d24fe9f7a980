"""``--dist loadgroup`` keeps an ``xdist_group`` on one worker (tests/conftest.py repairs
pytest-xdist's node-id suffix under pytest 9): without it the browser and e2e groups each
started a stack per worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULE = """
import os
from pathlib import Path

import pytest

@pytest.mark.xdist_group("together")
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_where(n):
    out = Path(os.environ["WHERE_OUT"]) / f"where-{n}"
    out.write_text(os.environ.get("PYTEST_XDIST_WORKER", "-"))
"""


def test_given_a_group_and_two_workers_then_its_tests_share_one_worker(tmp_path: Path) -> None:
    (tmp_path / "test_grouped.py").write_text(MODULE)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-n", "2"]
    command += ["--dist", "loadgroup", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
    run = subprocess.run(
        [*command, str(tmp_path / "test_grouped.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "WHERE_OUT": str(tmp_path)},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    workers = {(tmp_path / f"where-{n}").read_text() for n in (1, 2, 3, 4)}
    assert len(workers) == 1, workers
