"""Shared set-up for the benchmarks: moto in this process with the stack's resources, an
SMTP sink, and counters of AWS calls taken with botocore's event hooks."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.handlers
from moto import mock_aws
from sendrail.services.deps import Deps
from sendrail_local.aws import deps_on, fake_credentials, prepare_moto


@dataclass
class CallMeter:
    """Counts AWS calls (service.operation) and the time spent in them; hooks are added to
    botocore's built-in handlers, so every client created afterwards reports here."""

    calls: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0  # wall seconds inside calls, summed over threads
    cpu_seconds: float = 0.0  # CPU seconds of the calling threads inside calls (moto's work)
    enabled: bool = False
    _started: dict[int, tuple[float, float]] = field(default_factory=dict)

    def before(self, model: Any = None, context: Any = None, **_: Any) -> None:
        if self.enabled and model is not None:
            self.calls[f"{model.service_model.service_id}.{model.name}"] += 1
            if context is not None:
                self._started[id(context)] = (time.perf_counter(), time.thread_time())

    def after(self, context: Any = None, **_: Any) -> None:
        started = self._started.pop(id(context), None) if context is not None else None
        if started is not None:
            self.seconds += time.perf_counter() - started[0]
            self.cpu_seconds += time.thread_time() - started[1]

    def reset(self) -> None:
        self.calls.clear()
        self.seconds = 0.0
        self.cpu_seconds = 0.0

    def total(self) -> int:
        return sum(self.calls.values())


SIGNING_KEY = b"bench-signing-key"
warnings.filterwarnings("ignore", message="No application metrics to publish")
METER = CallMeter()
botocore.handlers.BUILTIN_HANDLERS.append(("before-call", METER.before))
botocore.handlers.BUILTIN_HANDLERS.append(("after-call", METER.after))


@contextmanager
def aws(prefix: str = "bench-") -> Iterator[Deps]:
    """moto in this process: its CPU is this process's, measured per call by ``METER``."""
    fake_credentials()
    with mock_aws():
        prepare_moto()
        yield deps_on(prefix, SIGNING_KEY)


@contextmanager
def moto_server(port: int) -> Iterator[str]:
    """moto in a process of its own, as AWS is to a Lambda; yields its endpoint."""
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):  # bounded: at most about 30 seconds
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError("moto_server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def aws_at(endpoint: str, prefix: str = "bench-") -> Iterator[Deps]:
    """Every client (ours, pynamodb's) pointed at ``endpoint`` (``moto_server``)."""
    fake_credentials()
    previous = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        yield deps_on(prefix, SIGNING_KEY)
    finally:
        if previous is None:
            os.environ.pop("AWS_ENDPOINT_URL", None)
        else:
            os.environ["AWS_ENDPOINT_URL"] = previous


def median(values: list[float]) -> float:
    return statistics.median(values)
