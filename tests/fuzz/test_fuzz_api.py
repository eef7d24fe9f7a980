"""Schemathesis against the live ``/openapi.json`` of the local stack (what ``make run``
starts), with an owner key: every operation but ``/_local``; positive and negative cases,
positive cases on real objects, and valid cases with one field replaced by a value that
broke a route before (huge numbers, null, extreme dates, deep nesting, forged cursors).
Fails on any 5xx and on any response the document does not describe (status code, content
type, body, headers). Prints the case count.

Bounded: ``SENDRAIL_FUZZ_EXAMPLES`` cases per operation and pass (default 8, >= 1,000 in
all), no shrinking, and a wall-clock budget (``SENDRAIL_FUZZ_BUDGET`` seconds, default 400)
after which no new case is generated. Deterministic by default (the same cases every run);
``SENDRAIL_FUZZ_RANDOM=1`` explores new ones."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyFailure, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from tests.e2e.conftest import OWNER, Http, Stack, start_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("fuzz")]

EXAMPLES = int(os.environ.get("SENDRAIL_FUZZ_EXAMPLES", "8"))
BUDGET = float(os.environ.get("SENDRAIL_FUZZ_BUDGET", "400"))
RANDOM = os.environ.get("SENDRAIL_FUZZ_RANDOM") == "1"
MIN_CASES = 1_000
AUTH = {"Authorization": f"Bearer {OWNER}"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@dataclass
class Run:
    cases: int = 0
    throttled: int = 0  # 429s: documented, but each is a case that reached no route
    started: float = field(default_factory=time.monotonic)
    failures: list[str] = field(default_factory=list)

    def over_budget(self) -> bool:
        return time.monotonic() - self.started > BUDGET


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # start_stack turns the per-key rate limits off (SENDRAIL_API_RATE_LIMIT=0), so that
    # neither the fuzz's own pace nor a fuzzed PUT /api/settings/api can throttle the run.
    running = start_stack(tmp_path_factory.mktemp("fuzz"))
    yield running
    stop_stack(running)


SEEDED = ("campaign_id", "mailbox_id", "message_id", "email", "name")


def path_values(ids: dict[str, str], params: list[str]) -> dict[str, str]:
    return {p: ids[p] for p in params}


def seeded(http: Http) -> dict[str, str]:
    """Real objects for the path parameters of positive cases: a draft campaign with a
    recipient, a mailbox (the local SMTP sink), a message."""
    mailbox = http.post(
        "/api/mailboxes",
        {
            "provider": "smtp",
            "email": "fuzz@example.com",
            "daily_limit": 0,
            "smtp": {"host": "127.0.0.1", "port": 2525, "security": "none"},
        },
    )
    campaign = http.post("/api/campaigns", {"name": "fuzz", "subject": "s", "html": "<p>h</p>"})
    assert mailbox[0] == 201 and campaign[0] == 201, (mailbox, campaign)
    cid = campaign[1]["id"]
    http.post(f"/api/campaigns/{cid}/recipients", {"recipients": [{"email": "r@example.com"}]})
    message = http.post(
        "/api/queue/enqueue", {"to": "m@example.com", "subject": "s", "html": "<p>h</p>"}
    )
    return {
        "campaign_id": cid,
        "mailbox_id": mailbox[1]["id"],
        "message_id": str((message[1] or {}).get("id", "msg")),
        "email": "r@example.com",
        "name": "example.com",
    }


def nested(levels: int) -> Any:
    value: Any = "deep"
    for _ in range(levels):
        value = {"a": value}
    return value


# Values that broke routes before (issue 12): dropped into one field of a valid case.
HOSTILE: list[Any] = [
    None,
    10**39,
    -(10**39),
    1e308,
    "",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    [None, None],
    nested(40),
    "x\r\nBcc: victim@example.com",
    "x" * 20_000,
    True,
]
FORGED_CURSORS = ["eyJwayI6MX0", "eyJwayI6eyJTIjoxfX0", "bnVsbA", "W10"]


def hostile(case: Any, value: Any, pick: int) -> Any:
    """``case`` with one body field (or the body) replaced by ``value``, and a forged
    cursor when the operation takes one."""
    if isinstance(case.body, dict) and case.body:
        key = sorted(case.body)[pick % len(case.body)]
        case.body[key] = value
    elif case.media_type == "application/json":
        case.body = value
    names = {p.name for p in case.operation.query}
    if "cursor" in names:
        case.query = {**(case.query or {}), "cursor": FORGED_CURSORS[pick % len(FORGED_CURSORS)]}
    return case


def fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    run: Run,
    base_url: str,
    session: requests.Session,
    path_parameters: dict[str, str] | None = None,
    *,
    with_hostile_values: bool = False,
) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
    if with_hostile_values:
        strategy = st.builds(hostile, strategy, st.sampled_from(HOSTILE), st.integers(0, 99))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=strategy)
    def one(case: Any) -> None:
        if run.over_budget():
            return
        run.cases += 1
        try:
            response = case.call(base_url=base_url, session=session, headers=AUTH, timeout=60)
        except requests.RequestException as exc:  # no HTTP answer at all: the front's fault
            session.close()  # a fresh connection for the next case
            request = case.as_curl_command()
            raise AssertionError(f"no valid HTTP response ({exc!r}) to:\n{request}") from None
        run.throttled += response.status_code == 429
        case.validate_response(response, checks=CHECKS)

    try:
        one()
    except Unsatisfiable:  # no input to make invalid (e.g. GET /health in negative mode)
        return
    except (AssertionError, FailureGroup, FlakyFailure) as exc:  # recorded; the rest still run
        kind = "hostile values" if with_hostile_values else mode.value
        run.failures.append(f"{operation.label} [{kind}]\n{_summary(exc)}")


def _summary(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 4000 else text[:4000] + " …"


def operations(schema: Any) -> list[Any]:
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/_local"):
            found.append(operation)
    return found


def test_fuzz_every_operation_of_the_live_document(
    stack: Stack, record_property: Callable[[str, object], None]
) -> None:
    base = stack.http.base
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    run = Run()
    session = requests.Session()
    ops = operations(schema)
    assert len(ops) >= 50
    for operation in ops:
        fuzz_operation(operation, GenerationMode.POSITIVE, run, base, session)
        fuzz_operation(operation, GenerationMode.NEGATIVE, run, base, session)
        params = re.findall(r"\{([^}]+)\}", operation.path)
        if not set(params) <= set(SEEDED):
            continue
        # Fresh objects for each pass: an earlier case may have deleted or started them.
        if params:
            known = path_values(seeded(stack.http), params)
            fuzz_operation(operation, GenerationMode.POSITIVE, run, base, session, known)
        known = path_values(seeded(stack.http), params) if params else None
        fuzz_operation(
            operation, GenerationMode.POSITIVE, run, base, session, known, with_hostile_values=True
        )
    elapsed = time.monotonic() - run.started
    record_property("fuzz_cases", run.cases)
    record_property("fuzz_operations", len(ops))
    record_property("fuzz_seconds", round(elapsed, 1))
    record_property("fuzz_throttled", run.throttled)
    print(f"\nfuzz: {run.cases} cases over {len(ops)} operations in {elapsed:.0f} s")
    _write_failures(run, stack.log)
    assert not run.failures, f"{len(run.failures)} operations failed:\n\n" + "\n\n".join(
        run.failures
    )
    assert run.cases >= MIN_CASES, f"only {run.cases} cases (budget {BUDGET:.0f} s reached?)"


def _write_failures(run: Run, log: Path) -> None:
    """Keep the failures and the stack's tracebacks beside the stack log for a human."""
    crashes = _crashes(log)
    if crashes:
        run.failures.append("tracebacks in the stack log:\n" + "\n".join(crashes))
    report = log.with_name("fuzz_failures.txt")
    report.write_text("\n\n".join(run.failures) + "\n")


def _crashes(log: Path) -> list[str]:
    """One line per distinct unhandled error the functions logged: the exception and the
    innermost frame of our own code."""
    seen: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        if '"unhandled error"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        trace = entry.get("stack_trace") or {}
        ours = [f for f in trace.get("frames", []) if "site-packages" not in f.get("file", "")]
        where = ours[-1] if ours else (trace.get("frames") or [{}])[-1]
        key = (
            f"{trace.get('type')}: {' | '.join(str(trace.get('value')).splitlines())[:160]} at "
            f"{where.get('file', '?').split('/work/')[-1]}:{where.get('line')} "
            f"({where.get('function')})"
        )
        seen[key] = seen.get(key, 0) + 1
    return [f"  {count} x {key}" for key, count in seen.items()]
