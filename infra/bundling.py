"""Local bundling (no Docker): function code and the shared layer.

Each function's asset holds ``functions/__init__.py`` and ``functions/<name>/``; the layer
holds ``python/sendrail`` plus the runtime dependencies installed for Lambda's platform
(``pip install --platform``), minus what the Lambda runtime already ships (boto3,
botocore) and minus google-api-python-client's discovery documents other than Gmail v1.

Both are shipped with their bytecode compiled: Lambda's file system is read-only, so a
package without ``.pyc`` files is compiled again on every cold start (about 0.6 s for the
dispatch function's imports). Bytecode only loads in the Python that wrote it, so the
functions run on the Lambda runtime of the Python that builds them (``PYTHON_VERSION``),
as ``sam build`` insists on too; the wheels are fetched for the same version."""

from __future__ import annotations

import compileall
import py_compile
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parents[1]
PROVIDED_BY_RUNTIME = ("boto3", "botocore", "s3transfer", "jmespath")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache")
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
RUNTIMES = {
    "3.11": lambda_.Runtime.PYTHON_3_11,
    "3.12": lambda_.Runtime.PYTHON_3_12,
}
TASK_ROOT = "/var/task"  # where Lambda unpacks a function's code
LAYER_ROOT = "/opt"  # where it unpacks a layer


def runtime() -> lambda_.Runtime:
    """The Lambda runtime matching the Python that builds the bundles."""
    if PYTHON_VERSION not in RUNTIMES:
        raise SystemExit(f"build with Python {' or '.join(RUNTIMES)}, not {PYTHON_VERSION}")
    return RUNTIMES[PYTHON_VERSION]


def compile_bytecode(out: Path, unpacked_at: str) -> None:
    """Write ``__pycache__`` next to every module, recording the path the file will have
    in Lambda (for tracebacks). Hash-based and unchecked: the same source gives the same
    bytes (stable asset hashes), and nothing stats the source at import."""
    ok = compileall.compile_dir(
        out,
        quiet=1,
        ddir=unpacked_at,
        workers=1,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not ok:
        raise SystemExit(f"could not compile the Python files under {out}")


def runtime_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"]) + list(project["optional-dependencies"]["providers"])
    return [r for r in wanted if not r.lower().startswith(PROVIDED_BY_RUNTIME)]


def copy_function(name: str, out: Path) -> None:
    (out / "functions").mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "functions" / "__init__.py", out / "functions" / "__init__.py")
    shutil.copytree(
        ROOT / "functions" / name, out / "functions" / name, ignore=IGNORE, dirs_exist_ok=True
    )
    compile_bytecode(out, TASK_ROOT)


def trim_unused(site: Path) -> None:
    """Drop what a running function never reads, so bytecode fits in the 60 MB budget:
    discovery documents other than Gmail v1 (110 MB of them), Powertools'
    bundled Swagger UI (we serve ``/openapi.json`` only), console scripts, type stubs and
    the C and protobuf sources of already-built modules."""
    documents = site / "googleapiclient" / "discovery_cache" / "documents"
    if documents.is_dir():
        for doc in documents.iterdir():
            if doc.name != "gmail.v1.json":
                doc.unlink()
    trim_dnspython(site / "dns")
    # pydantic's v1 compatibility package: our models, Powertools' and pydantic-settings'
    # are v2; only code that imports ``pydantic.v1`` reads it.
    shutil.rmtree(site / "pydantic" / "v1", ignore_errors=True)
    shutil.rmtree(site / "bin", ignore_errors=True)
    swagger = site / "aws_lambda_powertools" / "event_handler" / "openapi" / "swagger_ui"
    for path in (*swagger.glob("*.js"), *swagger.glob("*.css")):
        path.unlink()
    for pattern in ("*.pyi", "*.c", "*.h", "*.pyx", "*.proto"):
        for path in site.rglob(pattern):
            path.unlink()


# dnspython: the sender authentication check reads TXT, MX, CNAME and addresses through its
# stub resolver. Record types it never asks for are parsed as generic records when a reply
# carries them (dnspython falls back when a type's module is absent); DNSSEC, zones and the
# Windows and Trio backends are never imported.
DNS_RDTYPES_KEPT = {
    "ANY": {"CNAME", "DNAME", "MX", "NS", "OPT", "PTR", "SOA", "SPF", "TSIG", "TXT"},
    "IN": {"A", "AAAA", "HTTPS", "SVCB"},
    "CH": set(),
}
DNS_MODULES_DROPPED = (
    "dnssecalgs",
    "dnssec.py",
    "dnssectypes.py",
    "zone.py",
    "zonefile.py",
    "zonetypes.py",
    "btree.py",
    "btreezone.py",
    "versioned.py",
    "win32util.py",
    "_trio_backend.py",
)


def trim_dnspython(package: Path) -> None:
    if not package.is_dir():
        return
    for name in DNS_MODULES_DROPPED:
        path = package / name
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    for rdclass, kept in DNS_RDTYPES_KEPT.items():
        for module in (package / "rdtypes" / rdclass).glob("*.py"):
            if module.stem != "__init__" and module.stem not in kept:
                module.unlink()


def build_layer(out: Path, *, with_dependencies: bool, platform: str) -> None:
    site = out / "python"
    site.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        ROOT / "layers" / "common" / "sendrail",
        site / "sendrail",
        ignore=IGNORE,
        dirs_exist_ok=True,
    )
    if with_dependencies:
        install_dependencies(site, platform)
    compile_bytecode(out, LAYER_ROOT)


def install_dependencies(site: Path, platform: str) -> None:
    subprocess.run(  # noqa: S603 - our own pip, our own requirement list
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--target",
            str(site),
            "--platform",
            platform,
            "--implementation",
            "cp",
            "--python-version",
            PYTHON_VERSION,
            "--only-binary=:all:",
            "--upgrade",
            *runtime_requirements(),
        ],
        check=True,
    )
    for dist in PROVIDED_BY_RUNTIME:
        for path in site.glob(f"{dist.replace('-', '_')}*"):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()
    trim_unused(site)


@jsii.implements(ILocalBundling)
class _Local:
    def __init__(self, build: Any) -> None:
        self._build = build

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: Any) -> bool:
        self._build(Path(output_dir))
        return True


def _options(build: Any) -> BundlingOptions:
    # The image is never pulled: local bundling always succeeds.
    return BundlingOptions(
        image=DockerImage.from_registry("local-bundling-only"), local=_Local(build)
    )


def function_code(name: str) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(ROOT / "functions" / name),
        bundling=_options(lambda out: copy_function(name, out)),
    )


def layer_code(*, with_dependencies: bool, platform: str) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(ROOT / "layers" / "common"),
        bundling=_options(
            lambda out: build_layer(out, with_dependencies=with_dependencies, platform=platform)
        ),
    )
