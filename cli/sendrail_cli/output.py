"""Printing: JSON for scripts, rich tables for people, one line for errors."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console

BAR_WIDTH = 20


def out() -> Console:
    # Made at each call so it follows sys.stdout (a test runner swaps it).
    return Console(highlight=False)


def err() -> Console:
    return Console(stderr=True, highlight=False)


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def bar(used: int, limit: int | None, width: int = BAR_WIDTH) -> str:
    """``███████░░░ 7/10`` (rich markup); no limit → ``7/∞``."""
    if not limit:
        return f"{used}/∞"
    filled = min(width, round(width * used / limit))
    colour = "red" if used >= limit else "yellow" if used >= 0.8 * limit else "green"
    return f"[{colour}]{'█' * filled}[/][dim]{'░' * (width - filled)}[/] {used}/{limit}"


def fail(message: str, code: int) -> typer.Exit:
    err().print(message, markup=False)
    return typer.Exit(code)
