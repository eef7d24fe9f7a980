"""Package sizes and cold imports.

1. Builds the Lambda layer as ``cdk deploy`` does (``infra.bundling.build_layer``: our
   package plus its runtime dependencies for Python 3.12 on arm64, boto3 left to the
   runtime, google-api-python-client's discovery documents trimmed to Gmail v1) and prints
   its unzipped size and each function's package size. Lambda allows 250 MB unzipped for a
   function and its layers; our target for the layer is 60 MB.
2. Imports each handler module in a fresh interpreter, several times, and prints the
   median: providers' libraries are imported lazily, so dispatch's cold import must stay
   small (target 300 ms) with all four providers available.

Needs the package index for step 1 (pip downloads the arm64 wheels); ``--no-layer``
skips it."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUNS = 7
HANDLERS = ("enqueue", "dispatch", "tracking", "token_refresh")


def size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def layer_sizes() -> None:
    from infra.bundling import build_layer, copy_function  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        layer = Path(tmp) / "layer"
        build_layer(
            layer, with_dependencies=True, platform="manylinux2014_aarch64", python_version="3.12"
        )
        site = layer / "python"
        total = size(layer)
        print(f"layer, unzipped: {total / 1e6:.1f} MB (target <= 60 MB)")
        biggest = sorted(((size(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True)[
            :8
        ]
        for bytes_, name in biggest:
            print(f"  {name:<32} {bytes_ / 1e6:6.1f} MB")
        documents = site / "googleapiclient" / "discovery_cache" / "documents"
        if documents.exists():
            kept = sorted(p.name for p in documents.iterdir())
            print(f"  discovery documents kept: {kept}")
        for name in HANDLERS:
            out = Path(tmp) / f"fn-{name}"
            copy_function(name, out)
            print(f"function {name:<14} {size(out) / 1e3:7.1f} kB")


def cold_imports() -> None:
    code = (
        "import time; t = time.perf_counter(); import functions.{name}.handler; "
        "print(time.perf_counter() - t)"
    )
    env_prefix = [sys.executable, "-X", "frozen_modules=on", "-c"]
    for name in HANDLERS:
        times = []
        for _ in range(RUNS):
            result = subprocess.run(
                [*env_prefix, code.format(name=name)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
                env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "0"},
            )
            times.append(float(result.stdout.strip().splitlines()[-1]))
        print(
            f"cold import {name:<14} median {statistics.median(times) * 1000:6.0f} ms "
            f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}, {RUNS} runs)"
        )
    lazy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, functions.dispatch.handler; "
            "print(sorted(m for m in ('googleapiclient', 'msal', 'smtplib', 'httplib2') "
            "if m in sys.modules))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"provider libraries loaded by importing dispatch: {lazy.stdout.strip()}")


if __name__ == "__main__":
    cold_imports()
    if "--no-layer" not in sys.argv:
        layer_sizes()
