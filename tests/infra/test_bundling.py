"""What the layer leaves out of the installed dependencies, on a made-up site-packages."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20,18")

from infra.bundling import trim_unused

KEPT = [
    "googleapiclient/discovery_cache/documents/gmail.v1.json",
    "googleapiclient/discovery.py",
    "email_validator/__init__.py",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/html.py",
    "google/protobuf/descriptor.py",
    "pydantic/py.typed",
    "cryptography/hazmat/bindings/_rust.abi3.so",
    "msal-1.39.0.dist-info/METADATA",
    # the sender authentication check (GET /api/mailboxes/{id}/authentication) reads DNS
    "dns/resolver.py",
    "dnspython-2.9.2.dist-info/METADATA",
]
DROPPED = [
    "googleapiclient/discovery_cache/documents/drive.v3.json",
    "googleapiclient/discovery_cache/documents/youtube.v3.json",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui-bundle.min.js",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui.min.css",
    "bin/normalizer",
    "pydantic_core/_pydantic_core.pyi",
    "markupsafe/_speedups.c",
    "google/api/annotations.proto",
]


def test_given_installed_dependencies_then_only_what_a_function_never_reads_is_dropped(
    tmp_path: Path,
) -> None:
    for name in KEPT + DROPPED:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")

    trim_unused(tmp_path)

    remaining = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert remaining == set(KEPT)
