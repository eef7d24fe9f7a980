"""``python -m tests.fakes.run_dispatch``: one dispatch invocation in a process of its own,
as Lambda would run it (used to kill a dispatcher mid-batch, or to race two)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from sendrail_local.events import scheduled_event
from sendrail_local.lambdas import LocalContext

from functions.dispatch.handler import handler

if __name__ == "__main__":
    result = handler(
        scheduled_event("test-dispatch", datetime.now(UTC)), LocalContext("dispatch", 60)
    )
    print(json.dumps(result))
    sys.exit(0)
