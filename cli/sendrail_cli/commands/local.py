"""``sendrail local``: the local stack's virtual clock (``make run`` with
``SENDRAIL_VIRTUAL_CLOCK``); a deployment has no such endpoints."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated

import typer

from sendrail_cli.context import client
from sendrail_cli.output import emit_json, out

app = typer.Typer(help="The local stack only: move the virtual clock.", no_args_is_help=True)

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
ADVANCE_TIMEOUT = 60.0  # seconds an advance's answer may take, plus ...
ADVANCE_TIMEOUT_A_DAY = 600.0  # ... this much per virtual day it runs
DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw]?)")


def parse_duration(value: str) -> float:
    """``1d``, ``2h30m``, ``90s``, ``90`` → seconds."""
    text = value.strip().lower()
    parts = DURATION.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise typer.BadParameter("use a duration like 90, 90s, 15m, 2h, 1d or 1d12h")
    return sum(float(n) * UNITS[u or "s"] for n, u in parts)


@app.command()
def advance(
    ctx: typer.Context,
    duration: Annotated[str, typer.Argument(help="How far: 90s, 15m, 2h, 1d, 1d12h.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Move the virtual clock forward, running every scheduled job that falls due."""
    seconds = parse_duration(duration)
    # The stack runs every job that falls due before it answers (a day is 1,440 dispatch
    # runs): wait in proportion, not the minute an ordinary request gets.
    api = replace(
        client(ctx), timeout=ADVANCE_TIMEOUT + seconds / UNITS["d"] * ADVANCE_TIMEOUT_A_DAY
    )
    result = api.request("POST", "/_local/clock/advance", {"seconds": seconds}, auth=False).json()
    if as_json:
        emit_json(result)
        return
    fired = ", ".join(f"{k} {v}x" for k, v in (result.get("fired") or {}).items()) or "nothing"
    out().print(f"Clock now {result.get('now')}; fired {fired}")


@app.command()
def clock(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """The local stack's time, and whether it is virtual."""
    result = client(ctx).request("GET", "/_local/clock", auth=False).json()
    if as_json:
        emit_json(result)
        return
    out().print(f"{result.get('now')} ({'virtual' if result.get('virtual') else 'wall'} clock)")
