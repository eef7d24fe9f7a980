"""Local bundling (no Docker): function code and the shared layer.

Each function's asset holds ``functions/__init__.py`` and ``functions/<name>/``; the layer
holds ``python/sendrail`` plus the runtime dependencies installed for Lambda's platform
(``pip install --platform``), minus what the Lambda runtime already ships (boto3,
botocore) and minus google-api-python-client's discovery documents other than Gmail v1."""

from __future__ import annotations

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


def trim_google_discovery(site: Path) -> None:
    documents = site / "googleapiclient" / "discovery_cache" / "documents"
    if documents.is_dir():
        for doc in documents.iterdir():
            if doc.name != "gmail.v1.json":
                doc.unlink()


def build_layer(out: Path, *, with_dependencies: bool, platform: str, python_version: str) -> None:
    site = out / "python"
    site.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        ROOT / "layers" / "common" / "sendrail",
        site / "sendrail",
        ignore=IGNORE,
        dirs_exist_ok=True,
    )
    if not with_dependencies:
        return
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
            python_version,
            "--only-binary=:all:",
            "--upgrade",
            *runtime_requirements(),
        ],
        check=True,
    )
    for dist in PROVIDED_BY_RUNTIME:
        for path in site.glob(f"{dist.replace('-', '_')}*"):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()
    trim_google_discovery(site)


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


def layer_code(*, with_dependencies: bool, platform: str, python_version: str) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(ROOT / "layers" / "common"),
        bundling=_options(
            lambda out: build_layer(
                out,
                with_dependencies=with_dependencies,
                platform=platform,
                python_version=python_version,
            )
        ),
    )
