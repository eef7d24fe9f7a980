"""Shared fixtures: an in-process moto AWS with the real tables/queues/KMS key, the real
handlers invoked with API Gateway events, and a real SMTP sink."""

from __future__ import annotations

import importlib
import json
import os
import random
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from moto import mock_aws
from sendrail.api_routes import reader_route
from sendrail.clock import SystemClock
from sendrail.functions_spec import FUNCTIONS
from sendrail.services.deps import Deps
from sendrail_local.aws import LocalResources, create_resources, fake_credentials, prepare_moto
from sendrail_local.events import api_gateway_event, http_api_event, scheduled_event
from sendrail_local.lambdas import LocalContext
from sendrail_local.outbox import Outbox
from sendrail_local.sink import SmtpSink

TEST_SIGNING_KEY = "test-signing-key-0123456789abcdef"


# Servers the tests start listen below the kernel's ephemeral range (32768-60999), which
# every client connection draws its own port from: a port found free there may be taken by
# some connection before the server binds it (seen under load: "address already in use").
_LISTEN_PORTS = range(20_000, 32_000)
_PORTS = random.SystemRandom()  # not the test-seeded generator: workers must not agree


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep ``--dist loadgroup`` working: pytest-xdist (3.8) puts an ``xdist_group`` into
    the node id by setting ``item._nodeid``, which pytest 9 no longer reads (``_id``), so
    every group was scattered over the workers (each starting its own local stack). Runs
    after xdist's hook, on the workers only (where ``loadgroup`` is set)."""
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        groups = sorted(
            {
                str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                for m in item.iter_markers("xdist_group")
            }
        )
        if groups and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


def free_port() -> int:
    for _ in range(50):
        port = _PORTS.choice(_LISTEN_PORTS)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # a crowded range: let the kernel choose
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reset_function_caches() -> None:
    """Every function forgets its settings and adapters (read again from the environment)."""
    for spec in FUNCTIONS.values():
        importlib.import_module(spec.wiring).wiring.reset()


class PublishedMetrics:
    """The Powertools metrics (CloudWatch EMF lines) the handlers printed, by name."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self._seen: dict[str, list[float]] = {}

    def __getitem__(self, name: str) -> list[float]:
        for line in self._capsys.readouterr().out.splitlines():
            if not line.startswith('{"_aws"'):
                continue
            emf = json.loads(line)
            for directive in emf["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = emf[metric["Name"]]
                    values = value if isinstance(value, list) else [value]
                    self._seen.setdefault(metric["Name"], []).extend(values)
        return self._seen.get(name, [])


@pytest.fixture
def published_metrics(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> PublishedMetrics:
    """Given metrics enabled, as in AWS: what the handlers publish."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    return PublishedMetrics(capsys)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalResources]:
    """Given a fresh embedded AWS with every table, queue and the KMS key."""
    fake_credentials()
    with mock_aws():
        prepare_moto()
        resources = create_resources("test-")
        env = {
            "SENDRAIL_STAGE": "local",
            "SENDRAIL_TABLES": json.dumps(resources.tables),
            "SENDRAIL_QUEUES": json.dumps(resources.queues),
            "SENDRAIL_KMS_KEY_ID": resources.kms_key_id,
            "SENDRAIL_SIGNING_KEY": TEST_SIGNING_KEY,
            "SENDRAIL_PUBLIC_BASE_URL": "http://127.0.0.1:9",
            "SENDRAIL_RECEIVE_WAIT_SECONDS": "0",
            "SENDRAIL_STOP_MARGIN_SECONDS": "1",
            # The sink and the fakes listen on 127.0.0.1 (tests of the guard turn this off).
            "SENDRAIL_ALLOW_PRIVATE_HOSTS": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_SERVICE_NAME": "sendrail",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            # Off here: under a frozen clock one second never ends. The rate-limit tests
            # turn it on (tests/integration/test_rate_limits.py).
            "SENDRAIL_API_RATE_LIMIT": "0",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        _reset_function_caches()
        yield resources
        _reset_function_caches()


@pytest.fixture
def deps(aws: LocalResources) -> Deps:
    from functions.enqueue.wiring import deps as enqueue_deps

    return enqueue_deps()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any
    raw: str


class Api:
    """Calls a handler exactly as API Gateway would: the REST API's events, or with
    ``http_api`` the tracking HTTP API's (payload format 2.0, for the readers' routes)."""

    def __init__(self, function: str = "enqueue", *, http_api: bool = False) -> None:
        self.function = function
        self.http_api = http_api
        self.token: str | None = None

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        source_ip: str = "127.0.0.1",
    ) -> Reply:
        from urllib.parse import urlsplit

        hdrs = {"Content-Type": content_type, **(headers or {})}
        auth = token if token is not None else self.token
        if auth:
            hdrs["Authorization"] = f"Bearer {auth}"
        payload = (
            raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        )
        parts = urlsplit(path)
        route_key = reader_route(method, parts.path)
        if self.http_api and route_key is None:
            raise AssertionError(f"the tracking HTTP API has no route for {method} {path}")
        event = (
            http_api_event(
                route_key,
                parts.path,
                parts.query,
                hdrs,
                payload,
                source_ip=source_ip,
                now=datetime.now(UTC),
            )
            if self.http_api and route_key
            else api_gateway_event(
                method,
                parts.path,
                parts.query,
                hdrs,
                payload,
                source_ip=source_ip,
                now=datetime.now(UTC),
            )
        )
        module = __import__(f"functions.{self.function}.handler", fromlist=["handler"])
        result = module.handler(event, LocalContext(self.function, 29))
        text = result.get("body") or ""
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(values)
        return Reply(result["statusCode"], headers, parsed, text)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("PATCH", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.call("DELETE", path, **kw)


@pytest.fixture
def api(deps: Deps) -> Api:
    return Api()


ADMIN_KEY = "sr_admin_testkey"


@pytest.fixture
def admin(deps: Deps) -> str:
    from sendrail.services import auth

    auth.ensure_admin_key(deps, ADMIN_KEY)
    return ADMIN_KEY


@pytest.fixture
def tenant(api: Api, admin: str) -> dict[str, Any]:
    """Given a tenant created by the platform admin; the api client uses its owner key."""
    reply = api.post(
        "/api/admin/tenants", {"name": "Acme", "owner_email": "owner@acme.example"}, token=admin
    )
    assert reply.status == 201, reply.raw
    api.token = reply.body["owner_key"]
    return dict(reply.body)


@pytest.fixture
def sink() -> Iterator[tuple[SmtpSink, Outbox]]:
    """Given a real SMTP server on 127.0.0.1 that keeps what it receives."""
    outbox = Outbox(SystemClock())
    server = SmtpSink(outbox, "127.0.0.1", free_port())
    server.start()
    yield server, outbox
    server.stop()


def run_dispatch() -> Any:
    from functions.dispatch.handler import handler

    return handler(
        scheduled_event("sendrail-dispatch", datetime.now(UTC)), LocalContext("dispatch", 60)
    )


@pytest.fixture
def dispatch(aws: LocalResources) -> Any:
    return run_dispatch


def smtp_mailbox(port: int, **extra: Any) -> dict[str, Any]:
    body = {
        "provider": "smtp",
        "email": extra.pop("email", "sender@example.com"),
        "daily_limit": 100,
        "smtp": {"host": "127.0.0.1", "port": port, "security": "none"},
    }
    body.update(extra)
    return body


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The fuzz run's figures (tests/fuzz), also when xdist ran it on a worker."""
    for report in terminalreporter.getreports("passed") + terminalreporter.getreports("failed"):
        figures = dict(getattr(report, "user_properties", []))
        if report.when == "call" and "fuzz_cases" in figures:
            terminalreporter.write_line(
                f"fuzz: {figures['fuzz_cases']} cases over {figures['fuzz_operations']} "
                f"operations in {figures['fuzz_seconds']} s "
                f"({figures.get('fuzz_throttled', 0)} answered 429)"
            )


os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
