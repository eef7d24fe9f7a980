"""Recipient import: rows per second and AWS calls per row, for a 100,000-row CSV taken by
the API (validated, chunked to SQS) and written by the import worker, all on moto in this
process. Calls are the functions' own (the event source mapping's receive and delete are
Lambda's). Medians of a few runs."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1] / p) for p in ("layers/common", "local", ".")
]

from sendrail_local.event_sources import drain_once  # noqa: E402

from bench.harness import METER, aws, median  # noqa: E402
from bench.quick import sized  # noqa: E402

ROWS = sized(100_000, 600)
RUNS = sized(3, 1)
# Above this many rows an upload is imported in the background (the path measured here):
# the product's default, or fewer for a quick run's few rows.
SYNC_IMPORT_ROWS = sized({}, {"SENDRAIL_SYNC_IMPORT_ROWS": "100"})


def one_run(run: int) -> tuple[float, float, int]:
    with aws(f"imp{run}-") as deps:
        os.environ.update(
            {
                "SENDRAIL_TABLES": json.dumps(
                    {
                        k: f"imp{run}-{k}"
                        for k in ("main", "recipients", "suppressions", "limits", "stats")
                    }
                ),
                "SENDRAIL_QUEUES": json.dumps(deps.queues._urls),
                "SENDRAIL_KMS_KEY_ID": deps.secrets._key_id,
                "SENDRAIL_SIGNING_KEY": "bench",
                **SYNC_IMPORT_ROWS,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "ERROR",
            }
        )
        from sendrail.services import auth  # noqa: PLC0415
        from sendrail_local.events import api_gateway_event  # noqa: PLC0415
        from sendrail_local.lambdas import LocalContext  # noqa: PLC0415

        from functions.enqueue import wiring  # noqa: PLC0415
        from functions.enqueue.handler import handler  # noqa: PLC0415

        wiring.reset()
        _, key = auth.create_tenant(wiring.deps(), "bench")

        def call(
            method: str, path: str, body: bytes, content_type: str = "application/json"
        ) -> dict[str, Any]:
            event = api_gateway_event(
                method,
                path,
                "",
                {"Authorization": f"Bearer {key}", "Content-Type": content_type},
                body,
                source_ip="127.0.0.1",
                now=deps.clock.now(),
            )
            result = handler(event, LocalContext("enqueue", 29))
            return {"status": result["statusCode"], "body": json.loads(result["body"])}

        cid = call(
            "POST",
            "/api/campaigns",
            json.dumps({"name": "b", "subject": "s", "html": "<p>h</p>"}).encode(),
        )["body"]["id"]
        csv = "email,first_name\n" + "".join(f"user{i:06d}@example.com,N{i}\n" for i in range(ROWS))
        METER.reset()
        METER.enabled = True
        started = time.perf_counter()
        accepted = call("POST", f"/api/campaigns/{cid}/recipients", csv.encode(), "text/csv")
        api_seconds = time.perf_counter() - started
        assert accepted["status"] == 202, accepted
        METER.enabled = False

        def worker(event: dict[str, Any]) -> dict[str, Any]:
            # Count the function's own calls; SQS receive/delete are Lambda's (the mapping).
            METER.enabled = True
            try:
                result: dict[str, Any] = handler(event, LocalContext("enqueue", 29))
                return result
            finally:
                METER.enabled = False

        while drain_once(deps.queues.url("import"), worker):
            pass
        total = time.perf_counter() - started
        calls = METER.total()
        by = dict(METER.calls)
        counts = call("GET", f"/api/campaigns/{cid}", b"")["body"]["counts"]
        assert counts["total"] == ROWS, counts
    print(f"  run {run}: accepted in {api_seconds:.1f} s, written in {total:.1f} s; calls {by}")
    return api_seconds, total, calls


def main() -> None:
    results = [one_run(run) for run in range(RUNS)]
    total = median([t for _, t, _ in results])
    print(f"{ROWS} rows, {RUNS} runs (medians), moto in process:")
    print(f"  API accepted the upload in {median([a for a, _, _ in results]):.1f} s (limit 29 s)")
    print(f"  all rows written in {total:.1f} s: {ROWS / total:,.0f} rows/s")
    print(f"  AWS calls per row: {median([c / ROWS for _, _, c in results]):.3f}")


if __name__ == "__main__":
    main()
