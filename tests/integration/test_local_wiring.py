"""The local stack registers the functions of ``sendrail.functions_spec``: the same
functions with the same timeouts and memory, the same schedules (virtual clock:
EventBridge's rates) and the same queues feeding them (dispatch once ran 60 s locally and
90 s in AWS).

The stack is assembled in a fresh interpreter: its function runner makes Powertools'
resolver state per thread, which this test process should not inherit."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from sendrail.functions_spec import FUNCTIONS, schedules

REGISTRATIONS = """
import json
from datetime import UTC, datetime
from sendrail_local.stack import LocalConfig, LocalStack

stack = LocalStack(LocalConfig(virtual_start=datetime(2026, 11, 23, tzinfo=UTC)))
stack.schedule()
sources = stack.event_sources({"import": "q/import", "events": "q/events",
    "webhooks": "q/webhooks", "webhook-items": "q/webhook-items"})
contexts = {n: stack.functions.context(n) for n in stack.functions.names()}
print(json.dumps({
    "functions": {n: [c.timeout_seconds, c.memory_limit_in_mb] for n, c in contexts.items()},
    "schedules": stack.scheduler.rates(),
    "sources": sorted([s.function, s.queue_url, s.batch_size] for s in sources),
}))
"""


def _registered() -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", REGISTRATIONS], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_given_the_spec_then_the_local_stack_runs_the_same_functions_schedules_and_sources():
    registered = _registered()
    # Then: exactly the spec's functions, each with its timeout and memory.
    assert registered["functions"] == {
        name: [spec.timeout, spec.memory] for name, spec in FUNCTIONS.items()
    }
    assert registered["functions"]["dispatch"][0] == 90
    # ... fired at the spec's rates (besides the stack's own check of local answers).
    fired = {n: s for n, s in registered["schedules"].items() if n != "local_answers"}
    assert fired == {name: float(every) for name, every in schedules().items()}
    # ... and fed by the spec's queues in the spec's batches.
    assert registered["sources"] == sorted(
        [spec.name, f"q/{source.queue}", source.batch_size]
        for spec in FUNCTIONS.values()
        for source in spec.sources
    )
