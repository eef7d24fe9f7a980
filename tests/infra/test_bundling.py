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
    "dns/rdtypes/ANY/TXT.py",
    "pydantic/main.py",
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
    "pydantic/v1/main.py",
    "dns/dnssec.py",
    "dns/rdtypes/ANY/RRSIG.py",
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


def test_given_dnspython_trimmed_as_in_the_layer_then_the_authentication_lookups_still_work(
    tmp_path: Path,
) -> None:
    # Given the installed dnspython, trimmed the way the layer trims it
    import shutil
    import subprocess
    import sys

    import dns

    from tests.fakes.dns_server import DnsServer

    site = tmp_path / "site"
    shutil.copytree(
        Path(dns.__file__).parent, site / "dns", ignore=shutil.ignore_patterns("__pycache__")
    )
    trim_unused(site)
    assert not (site / "dns" / "rdtypes" / "ANY" / "RRSIG.py").exists()
    zone = [
        'ok.example. 300 IN TXT "v=spf1 include:_spf.google.com ~all"',
        "ok.example. 300 IN MX 1 aspmx.l.google.com.",
        "ok.example. 300 IN A 192.0.2.1",
        "ok.example. 300 IN AAAA 2001:db8::1",
        "sel._domainkey.ok.example. 300 IN CNAME key.ok.example.",
        'key.ok.example. 300 IN TXT "v=DKIM1; p=abc"',
        "ok.example. 300 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpV"
        "XckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==",
    ]
    server = DnsServer(zone).start()
    try:
        # When a fresh interpreter that sees only the trimmed copy asks what the check asks
        script = (
            "import sys\n"
            "from sendrail.providers.dns_lookup import DnsConfig, DnsLookup\n"
            f"look = DnsLookup(DnsConfig(nameserver='127.0.0.1', port={server.port}, timeout=2))\n"
            "print(look.txt('ok.example').records)\n"
            "print(look.mx('ok.example').records)\n"
            "print(look.addresses('ok.example').records)\n"
            "print(look.txt('sel._domainkey.ok.example').records)\n"
            "print(look.txt('missing.ok.example').outcome)\n"
            "print(look._ask('ok.example', 'DNSKEY').outcome)\n"
            "import dns; print(dns.__file__)\n"
        )
        layer = Path(__file__).resolve().parents[2] / "layers" / "common"
        paths = [str(site), str(layer)]
        done = subprocess.run(
            [
                sys.executable,
                "-I",
                "-c",
                f"import sys; sys.path[:0] = {paths!r}\n" + script,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        server.stop()
    # Then every answer is read, records of dropped types included (as generic records)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "('v=spf1 include:_spf.google.com ~all',)"
    assert lines[1] == "('1 aspmx.l.google.com',)"
    assert lines[2] == "('192.0.2.1', '2001:db8::1')"
    assert lines[3] == "('v=DKIM1; p=abc',)"
    assert lines[4] == "nxdomain"
    assert lines[5] == "ok"
    assert lines[6].startswith(str(site))
