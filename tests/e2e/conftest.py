"""Starts ``python -m sendrail_local`` (what ``make run`` runs) and drives it over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "sr_admin_e2e"
OWNER = "sr_owner_e2e"


@dataclass
class Http:
    base: str
    token: str | None = OWNER

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        timeout: float = 300,
    ) -> tuple[int, Any, dict[str, str]]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", content_type)
        auth = self.token if token is None else token
        if auth:
            request.add_header("Authorization", f"Bearer {auth}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                text = response.read().decode()
                status, headers = response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            status, headers = error.code, dict(error.headers)
        try:
            return status, json.loads(text) if text else None, headers
        except ValueError:
            return status, text, headers

    def get(self, path: str, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.call("POST", path, body, **kw)

    def advance(self, seconds: float) -> dict[str, Any]:
        status, body, _ = self.post("/_local/clock/advance", {"seconds": seconds}, token="")
        assert status == 200, body
        return dict(body)


@dataclass
class Stack:
    http: Http
    process: subprocess.Popen[bytes]
    smtp_port: int
    log: Path


def start_stack(
    tmp: Path,
    virtual_clock: str | None = "2026-11-23T08:00:00Z",
    extra_env: dict[str, str] | None = None,
) -> Stack:
    port, smtp = free_port(), free_port()
    env = {
        **os.environ,
        "SENDRAIL_PORT": str(port),
        "SENDRAIL_SMTP_SINK_PORT": str(smtp),
        "SENDRAIL_LOCAL_IMAP_PORT": str(free_port()),
        "SENDRAIL_LOCAL_ADMIN_KEY": ADMIN,
        "SENDRAIL_LOCAL_OWNER_KEY": OWNER,
        # Off by default: a virtual second never ends by itself, so a per-second limit
        # would refuse every test's 51st call. Tests of the limit set it (extra_env).
        "SENDRAIL_API_RATE_LIMIT": "0",
        # The authentication check (which the fuzz run calls) asks DNS on 127.0.0.1, where
        # nothing answers: a `timeout` status within a second, never the internet.
        "SENDRAIL_DNS_NAMESERVER": "127.0.0.1",
        "SENDRAIL_DNS_PORT": "9",
        "SENDRAIL_DNS_TIMEOUT": "0.5",
        "SENDRAIL_DNS_BUDGET": "1",
        **(extra_env or {}),
    }
    if virtual_clock:
        env["SENDRAIL_VIRTUAL_CLOCK"] = virtual_clock
    log = tmp / "stack.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "sendrail_local"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    http = Http(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited: {log.read_text()[-3000:]}")
        try:
            if http.get("/health", token="", timeout=2)[0] == 200:
                return Stack(http, process, smtp, log)
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the local stack did not start: {log.read_text()[-3000:]}")


def stop_stack(stack: Stack) -> int:
    stack.process.send_signal(signal.SIGINT)
    try:
        return stack.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    stop_stack(running)
