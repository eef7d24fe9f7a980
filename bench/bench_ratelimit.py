"""What the per-key API rate limit adds to each authenticated request, against moto.

Every authenticated request already costs one GetItem (the key by its hash). The limit
adds one conditional UpdateItem on the ``limits`` table (``ADD hits 1`` while ``hits <
limit``, TTL a minute after its second): 1 WCU, refused requests included; plus one GetItem
of the tenant's setting per tenant, container and 10 seconds. Measured here in this
process: ``authenticate`` alone, then ``authenticate`` + ``admit`` (admitted requests,
then refused ones), as medians of several runs; wall and CPU microseconds per request and
AWS calls per request, by operation. Moto's latency is not DynamoDB's (a few ms in a
Region): the calls per request are the figure that carries over.

``python bench/bench_ratelimit.py``"""

from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1] / p) for p in ("layers/common", "local", ".")
]

from sendrail.errors import ApiRateLimited  # noqa: E402
from sendrail.services import auth, rate_limits  # noqa: E402
from sendrail.services.deps import Deps  # noqa: E402

from bench.harness import METER, aws, median  # noqa: E402
from bench.quick import sized  # noqa: E402

REQUESTS = sized(400, 20)
RUNS = sized(5, 1)
HIGH = 10**9  # a limit never reached: every request is admitted


def _measure(requests: Callable[[], None]) -> tuple[float, float, float, Counter[str]]:
    """Median wall and CPU microseconds per request over RUNS, the CPU of that spent
    outside AWS calls (ours; inside them is botocore and moto), and calls per run."""
    walls, cpus, ours = [], [], []
    calls: Counter[str] = Counter()
    for _ in range(RUNS):
        METER.reset()
        METER.enabled = True
        wall, cpu = time.perf_counter(), time.thread_time()
        for _ in range(REQUESTS):
            requests()
        walls.append((time.perf_counter() - wall) / REQUESTS * 1e6)
        cpus.append((time.thread_time() - cpu) / REQUESTS * 1e6)
        ours.append(cpus[-1] - METER.cpu_seconds / REQUESTS * 1e6)
        METER.enabled = False
        calls = Counter(METER.calls)
    return median(walls), median(cpus), median(ours), calls


def _report(label: str, wall: float, cpu: float, ours: float, calls: Counter[str]) -> None:
    total = sum(calls.values())
    print(
        f"{label:32s} {wall:7.0f} us wall {cpu:7.0f} us CPU ({ours:5.0f} outside AWS calls) "
        f"{total / REQUESTS:5.2f} calls/req"
    )
    for operation, count in calls.most_common():
        print(f"  {operation:40s} {count / REQUESTS:6.3f}/req")


def main() -> None:
    with aws() as deps:
        _, raw = auth.create_tenant(deps, "bench", tenant_id="ten_bench")
        header = f"Bearer {raw}"

        def authenticate_only() -> None:
            auth.authenticate(deps, header)

        def admitted() -> None:
            rate_limits.admit(deps, auth.authenticate(deps, header), HIGH)

        def refused(d: Deps = deps) -> None:
            with contextlib.suppress(ApiRateLimited):
                rate_limits.admit(d, auth.authenticate(d, header), 1)

        base = _measure(authenticate_only)
        limited = _measure(admitted)
        over = _measure(refused)

    print(f"{REQUESTS} requests per run, median of {RUNS} runs, moto in this process")
    _report("authenticate (before)", *base)
    _report("authenticate + rate limit", *limited)
    _report("authenticate + rate limit, 429", *over)
    print(
        f"added by the limit: {limited[0] - base[0]:.0f} us wall, "
        f"{limited[1] - base[1]:.0f} us CPU ({limited[2] - base[2]:.0f} outside AWS calls), "
        f"{(sum(limited[3].values()) - sum(base[3].values())) / REQUESTS:.2f} AWS calls "
        "per request (1 conditional UpdateItem = 1 WCU; a refused one costs the same)"
    )


if __name__ == "__main__":
    main()
