"""``sendrail queue``: the send window and the tenant's queue figures."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from sendrail_cli.context import client
from sendrail_cli.output import emit_json, out

app = typer.Typer(
    help="The queue: status of the send window and queued mail.", no_args_is_help=True
)


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Whether sending is enabled and inside the window, and how much mail waits."""
    api = client(ctx)
    found = {**api.get("/api/queue/status"), "totals": api.get("/api/queue/stats")}
    if as_json:
        emit_json(found)
        return
    table = Table("", "", show_header=False)
    for key in ("now", "enabled", "in_window", "next_window_open_at", "last_run_at"):
        table.add_row(key, str(found.get(key)))
    window = found.get("window")
    if window:
        table.add_row(
            "window", f"{window.get('start')}-{window.get('end')} {window.get('timezone')}"
        )
    for key in ("queued", "deferred", "sending", "failed"):
        table.add_row(key, str(found.get(key)))
    out().print(table)
