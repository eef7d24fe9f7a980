"""Package sizes and cold imports, of what ``cdk deploy`` ships.

1. Sizes: builds the Lambda layer as the stack does (``infra.bundling.build_layer``: our
   package plus its runtime dependencies for arm64, boto3 left to the runtime,
   google-api-python-client's discovery documents trimmed to Gmail v1, bytecode compiled)
   and prints its unzipped size and each function's package size. Lambda allows 250 MB
   unzipped for a function and its layers; our target for the layer is 60 MB.
2. Cold imports: builds the same layer for this machine's platform and imports each
   handler the way the Lambda runtime does: a fresh interpreter without site-packages
   holding what the runtime's bootstrap has loaded already; the function package, the
   layer and the runtime's boto3 on the path; the runtime's variables set (so Powertools'
   Tracer is on and patches, as in AWS); no bytecode written (Lambda's file system is
   read-only). Prints the median of several runs, for every function of
   ``sendrail.functions_spec``. Providers' libraries are imported lazily, so dispatch must
   stay small (target 300 ms) with all four providers available; enqueue (the API, whose
   cold start a caller waits for) loads its routes' heavy helpers (password hashing,
   address validation, DNS, templates, Powertools' OpenAPI models) on first use (target
   350 ms). Then checks that what is loaded lazily (address validation, templates, the
   Gmail client, msal) works inside the trimmed layer. ``--source-only`` also times the
   layer without its bytecode: what a Lambda pays when a package ships only ``.py`` files.

Needs the package index (pip downloads the wheels)."""

from __future__ import annotations

import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sendrail.functions_spec import FUNCTIONS  # noqa: E402

from infra.bundling import (  # noqa: E402
    PROVIDED_BY_RUNTIME,
    PYTHON_VERSION,
    build_layer,
    copy_function,
)

RUNS = 9
HANDLERS = tuple(FUNCTIONS)
# Cold import targets (ms): never lowered to meet a measurement.
TARGETS = {"dispatch": 300, "enqueue": 350}
# What functions load on first use, run inside the trimmed layer: it must all still be there.
SMOKE = """
from sendrail.domain.addresses import normalize
from sendrail.domain.templates import render
from googleapiclient.discovery import build
import flufl.bounce, google.oauth2.credentials, google_auth_httplib2, html2text, msal, nh3, smtplib
assert normalize("Ann@Example.COM") == "ann@example.com"
assert render("Hi {{ name }}", {"name": "Ann"}) == "Hi Ann"
build("gmail", "v1", static_discovery=True, developerKey="unused").users().messages()
import dns.resolver, sendrail.domain.sender_auth
from functions.enqueue.app import openapi_json  # every request model's schema, built
assert '"/api/campaigns"' in openapi_json()
print("ok")
"""
LAZY = ("googleapiclient", "msal", "httplib2", "smtplib", "requests", "jinja2", "email_validator")
# What enqueue's routes use on first use only: hashing a password, validating an address,
# checking a domain's DNS, rendering or checking content, the OpenAPI document's models.
ENQUEUE_LAZY = (
    "argon2",
    "email_validator",
    "dns",
    "sendrail.domain.sender_auth",
    "jinja2",
    "nh3",
    "html2text",
    "imapclient",
    "aws_lambda_powertools.event_handler.openapi.models",
)


def size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def layer_sizes(tmp: Path) -> None:
    layer = tmp / "layer-arm64"
    build_layer(layer, with_dependencies=True, platform="manylinux2014_aarch64")
    site = layer / "python"
    print(f"layer (arm64, Python {PYTHON_VERSION}), unzipped: {size(layer) / 1e6:.1f} MB")
    print("  target <= 60 MB")
    biggest = sorted(((size(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True)
    for bytes_, name in biggest[:8]:
        print(f"  {name:<32} {bytes_ / 1e6:6.1f} MB")
    bytecode = sum(f.stat().st_size for f in site.rglob("*.pyc"))
    print(f"  of which bytecode: {bytecode / 1e6:.1f} MB")
    documents = site / "googleapiclient" / "discovery_cache" / "documents"
    if documents.exists():
        print(f"  discovery documents kept: {sorted(p.name for p in documents.iterdir())}")
    for name in HANDLERS:
        out = tmp / f"fn-{name}"
        copy_function(name, out)
        print(f"function {name:<14} {size(out) / 1e3:7.1f} kB")


def runtime_dir(tmp: Path) -> Path:
    """What Lambda's runtime puts on the path after the layer: boto3 and botocore."""
    out = tmp / "runtime"
    out.mkdir()
    import boto3  # noqa: PLC0415

    site = Path(boto3.__file__).parents[1]
    for dist in PROVIDED_BY_RUNTIME:
        shutil.copytree(site / dist, out / dist)
    return out


def lambda_environment(name: str, task_root: Path, layer: Path, runtime: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{task_root}:{layer / 'python'}:{runtime}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(runtime),
        "AWS_LAMBDA_FUNCTION_NAME": f"sendrail-{name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{PYTHON_VERSION}",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "_HANDLER": f"functions.{name}.handler.handler",
        "POWERTOOLS_SERVICE_NAME": "sendrail",
    }


def run(name: str, code: str, task_root: Path, layer: Path, runtime: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=task_root,
        capture_output=True,
        text=True,
        check=True,
        env=lambda_environment(name, task_root, layer, runtime),
    )
    return result.stdout.strip().splitlines()[-1]


# What the runtime's bootstrap (awslambdaric: bootstrap, runtime client, marshaller) has
# imported before it imports the handler; not ours to pay for.
RUNTIME_PRELOADS = "importlib, json, logging, traceback, decimal, math, concurrent.futures"


def cold_imports(tmp: Path, layer: Path, runtime: Path, label: str) -> None:
    """Wall time is what a caller waits for (the target); CPU time beside it is what the
    import costs whatever else the machine runs (a busy machine inflates wall time only)."""
    code = (
        f"import {RUNTIME_PRELOADS}; "
        "import time; t, c = time.perf_counter(), time.process_time(); "
        "import functions.{name}.handler; "
        "print(time.perf_counter() - t, time.process_time() - c)"
    )
    for name in HANDLERS:
        task_root = tmp / f"task-{name}"
        if not task_root.exists():
            copy_function(name, task_root)
        runs = [
            run(name, code.format(name=name), task_root, layer, runtime).split()
            for _ in range(RUNS)
        ]
        times = [float(wall) for wall, _ in runs]
        cpu = statistics.median(float(c) for _, c in runs)
        print(
            f"cold import {name:<14} median {statistics.median(times) * 1000:6.0f} ms "
            f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}, "
            f"CPU median {cpu * 1000:.0f} ms, {RUNS} runs{label})"
        )
        if name in TARGETS:
            print(f"  target <= {TARGETS[name]} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        machine = "aarch64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
        layer = tmp / "layer"
        build_layer(layer, with_dependencies=True, platform=f"manylinux2014_{machine}")
        runtime = runtime_dir(tmp)
        cold_imports(tmp, layer, runtime, "")
        loaded = run(
            "dispatch",
            f"import sys, functions.dispatch.handler; print(sorted(m for m in {LAZY!r} "
            "if m in sys.modules))",
            tmp / "task-dispatch",
            layer,
            runtime,
        )
        print(f"loaded by importing dispatch (want none of {', '.join(LAZY)}): {loaded}")
        loaded = run(
            "enqueue",
            f"import sys, functions.enqueue.handler; print(sorted(m for m in {ENQUEUE_LAZY!r} "
            "if m in sys.modules))",
            tmp / "task-enqueue",
            layer,
            runtime,
        )
        print(f"loaded by importing enqueue (want none of {', '.join(ENQUEUE_LAZY)}): {loaded}")
        smoke = run("enqueue", SMOKE, tmp / "task-enqueue", layer, runtime)
        print(f"lazily loaded parts work inside the layer: {smoke}")
        if "--source-only" in sys.argv:
            for cache in list((layer / "python").rglob("__pycache__")):
                shutil.rmtree(cache)
            cold_imports(tmp, layer, runtime, ", layer without bytecode")
        layer_sizes(tmp)


if __name__ == "__main__":
    main()
