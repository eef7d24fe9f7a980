"""``sendrail suppressions``: addresses that never get mail."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import typer
from rich.table import Table

from sendrail_cli.context import client
from sendrail_cli.output import emit_json, out

app = typer.Typer(help="Suppressed addresses: add, list, remove.", no_args_is_help=True)

JSON = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@app.command()
def add(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The address to suppress.")],
    reason: Annotated[str, typer.Option(help="unsubscribed, bounced, complained or manual.")] = (
        "manual"
    ),
    as_json: JSON = False,
) -> None:
    """Suppress an address; its unsent mail stops."""
    result = client(ctx).post("/api/suppressions", {"email": email, "reason": reason})
    if as_json:
        emit_json(result)
        return
    out().print(
        f"Suppressed {result['email']} ({result['reason']}); "
        f"{result.get('stopped', 0)} unsent message(s) stopped"
    )


@app.command("list")
def list_suppressions(ctx: typer.Context, as_json: JSON = False) -> None:
    """Every suppressed address."""
    items = list(client(ctx).pages("/api/suppressions", limit=500))
    if as_json:
        emit_json(items)
        return
    table = Table("email", "reason", "since")
    for s in items:
        table.add_row(s["email"], s["reason"], str(s.get("created_at")))
    out().print(table)


@app.command()
def remove(
    ctx: typer.Context, email: Annotated[str, typer.Argument(help="The address to lift.")]
) -> None:
    """Lift a suppression."""
    client(ctx).request("DELETE", f"/api/suppressions/{quote(email, safe='')}")
    out().print(f"{email} is no longer suppressed")
