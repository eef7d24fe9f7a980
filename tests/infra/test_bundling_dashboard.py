"""The dashboard's static files travel with the shared layer (no build step, no CDN)."""

from __future__ import annotations

from pathlib import Path

from infra.bundling import build_layer


def test_given_the_layer_bundle_then_the_dashboard_files_are_in_it(tmp_path: Path) -> None:
    build_layer(tmp_path, with_dependencies=False, platform="manylinux2014_x86_64")
    static = tmp_path / "python" / "sendrail" / "dashboard" / "static"
    for name in ("index.html", "app.js", "api.js", "ui.js", "app.css", "pages/index.js"):
        assert (static / name).is_file(), name
