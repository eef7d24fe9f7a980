"""``sendrail mailboxes``: the sending accounts and today's capacity."""

from __future__ import annotations

import time
import webbrowser
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from sendrail_cli.context import client
from sendrail_cli.output import bar, emit_json, out

app = typer.Typer(
    help="Sending mailboxes: list with capacity, add SMTP, connect Gmail or Outlook.",
    no_args_is_help=True,
)

JSON = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


class OAuthProvider(StrEnum):
    gmail = "gmail"
    outlook = "outlook"


class Security(StrEnum):
    starttls = "starttls"
    tls = "tls"
    none = "none"


@app.command("list")
def list_mailboxes(ctx: typer.Context, as_json: JSON = False) -> None:
    """Mailboxes with status, pause reason and today's use against the daily limit."""
    api = client(ctx)
    mailboxes = list(api.pages("/api/mailboxes", limit=500))
    servers = {s["id"]: s for s in api.get("/api/queue/servers").get("items", [])}
    rows: list[dict[str, Any]] = []
    for m in mailboxes:
        s = servers.get(m["id"], {})
        rows.append(
            {
                "id": m["id"],
                "email": m["email"],
                "provider": m["provider"],
                "status": m["status"],
                "pause_reason": m.get("pause_reason"),
                "tags": m.get("tags", []),
                "daily_limit": s.get("daily_limit", m["daily_limit"]),
                "daily_used": s.get("daily_used", 0),
                "daily_remaining": s.get("daily_remaining"),
                "next_available_at": s.get("next_available_at"),
            }
        )
    if as_json:
        emit_json(rows)
        return
    table = Table("email", "provider", "status", "today", "tags", "pause reason", "id")
    table.columns[3].no_wrap = True  # the capacity bar
    colours = {"active": "green", "paused": "yellow", "needs_reauth": "red"}
    for r in rows:
        table.add_row(
            r["email"],
            r["provider"],
            f"[{colours.get(r['status'], 'white')}]{r['status']}[/]",
            bar(int(r["daily_used"] or 0), r["daily_limit"], width=10),
            ",".join(r["tags"]),
            r["pause_reason"] or "",
            r["id"],
        )
    out().print(table)


@app.command("add-smtp")
def add_smtp(
    ctx: typer.Context,
    email: Annotated[str, typer.Option("--email", help="The From address.")],
    host: Annotated[str, typer.Option("--host", help="SMTP server.")],
    port: Annotated[int, typer.Option("--port")] = 587,
    username: Annotated[str | None, typer.Option("--username")] = None,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            envvar="SENDRAIL_SMTP_PASSWORD",
            help="Asked for (hidden) when a username is given without it.",
        ),
    ] = None,
    security: Annotated[Security, typer.Option("--security")] = Security.starttls,
    from_name: Annotated[str | None, typer.Option("--from-name")] = None,
    daily_limit: Annotated[int, typer.Option("--daily-limit", help="0 = no daily cap.")] = 0,
    hourly_limit: Annotated[int | None, typer.Option("--hourly-limit")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Repeat for several.")] = None,
    as_json: JSON = False,
) -> None:
    """Add an SMTP mailbox (the password is stored encrypted and never shown again)."""
    smtp: dict[str, Any] = {"host": host, "port": port, "security": security.value}
    if username:
        smtp["username"] = username
        smtp["password"] = password or typer.prompt("SMTP password", hide_input=True)
    body: dict[str, Any] = {
        "provider": "smtp",
        "email": email,
        "daily_limit": daily_limit,
        "smtp": smtp,
        "tags": tag or [],
    }
    if from_name:
        body["from_name"] = from_name
    if hourly_limit is not None:
        body["hourly_limit"] = hourly_limit
    created = client(ctx).post("/api/mailboxes", body)
    if as_json:
        emit_json(created)
        return
    out().print(f"Mailbox [bold]{created['id']}[/] ({created['email']}): {created['status']}")


@app.command()
def connect(
    ctx: typer.Context,
    provider: Annotated[OAuthProvider, typer.Argument(help="gmail or outlook.")],
    email: Annotated[
        str | None, typer.Option("--email", help="The account's address (a new mailbox).")
    ] = None,
    mailbox_id: Annotated[
        str | None, typer.Option("--mailbox", help="Reconnect this mailbox instead.")
    ] = None,
    daily_limit: Annotated[int, typer.Option("--daily-limit", help="0 = no daily cap.")] = 0,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Repeat for several.")] = None,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the consent link in a browser.")
    ] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for consent.")] = 600,
    interval: Annotated[float, typer.Option(help="Seconds between checks.")] = 2.0,
) -> None:
    """Connect a Gmail or Outlook mailbox: print (and open) the consent link, then wait
    until the mailbox is active."""
    api = client(ctx)
    if mailbox_id:
        mailbox = api.post(f"/api/mailboxes/{mailbox_id}/connect")
    elif email:
        body = {"provider": provider.value, "email": email, "daily_limit": daily_limit}
        mailbox = api.post("/api/mailboxes", {**body, "tags": tag or []})
    else:
        raise typer.BadParameter("give --email for a new mailbox or --mailbox ID to reconnect")
    link = mailbox.get("authorize_url")
    out().print(f"Open this link to give consent:\n{link}", markup=False, soft_wrap=True)
    if open_browser and link:
        webbrowser.open(link)
    deadline = time.monotonic() + timeout
    status = mailbox["status"]
    while status != "active" and time.monotonic() < deadline:
        time.sleep(interval)
        status = api.get(f"/api/mailboxes/{mailbox['id']}")["status"]
    if status != "active":
        out().print(f"Mailbox {mailbox['id']} is still {status}; run connect again when ready")
        raise typer.Exit(1)
    out().print(f"Mailbox [bold]{mailbox['id']}[/] ({mailbox['email']}): active")
