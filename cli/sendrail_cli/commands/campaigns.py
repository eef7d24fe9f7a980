"""``sendrail campaigns``: list, show, watch, start, pause, resume, cancel, report."""

from __future__ import annotations

import csv
import io
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.table import Table

from sendrail_cli.client import Client
from sendrail_cli.context import client
from sendrail_cli.output import emit_json, out
from sendrail_cli.watch import watch as watch_campaign

app = typer.Typer(help="Campaigns: list, inspect, watch, control, report.", no_args_is_help=True)

JSON = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
CampaignId = Annotated[str, typer.Argument(help="The campaign's id.")]
STAT_COLUMNS = ("total", "queued", "sent", "failed", "bounced", "suppressed", "cancelled")


class ReportFormat(StrEnum):
    csv = "csv"
    json = "json"


@app.command("list")
def list_campaigns(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    as_json: JSON = False,
) -> None:
    """Campaigns, newest first."""
    page = client(ctx).get("/api/campaigns", limit=limit)
    items = page.get("items", [])
    if as_json:
        emit_json(items)
        return
    table = Table("id", "name", "status", "sent", "queued", "failed", "created")
    for c in items:
        counts = c.get("counts") or {}
        table.add_row(
            c["id"],
            c["name"],
            c["status"],
            str(counts.get("sent", 0)),
            str(counts.get("queued", 0)),
            str(counts.get("failed", 0)),
            str(c.get("created_at")),
        )
    out().print(table)


@app.command()
def show(ctx: typer.Context, campaign_id: CampaignId, as_json: JSON = False) -> None:
    """One campaign with its stats."""
    api = client(ctx)
    campaign = api.get(f"/api/campaigns/{campaign_id}")
    stats = api.get(f"/api/campaigns/{campaign_id}/stats")
    if as_json:
        emit_json({**campaign, "stats": stats})
        return
    out().print(f"[bold]{campaign['name']}[/] ({campaign['id']}): {campaign['status']}")
    out().print(f"subject: {campaign['subject']}", markup=False)
    table = Table("count", "", show_header=False)
    for key in (*STAT_COLUMNS, "opened", "clicked", "replied", "unsubscribed"):
        table.add_row(key, str(stats.get(key, 0)))
    out().print(table)


@app.command()
def watch(
    ctx: typer.Context,
    campaign_id: CampaignId,
    interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 2.0,
) -> None:
    """Live progress until the campaign completes; Ctrl-C detaches without stopping it."""
    watch_campaign(client(ctx), campaign_id, interval=interval)


def _act(ctx: typer.Context, campaign_id: str, action: str, as_json: bool) -> None:
    result = client(ctx).request("POST", f"/api/campaigns/{campaign_id}/{action}").json()
    if as_json:
        emit_json(result)
        return
    out().print(f"Campaign {campaign_id}: {result.get('status')}")


@app.command()
def start(ctx: typer.Context, campaign_id: CampaignId, as_json: JSON = False) -> None:
    """Start a draft (the content check runs first)."""
    _act(ctx, campaign_id, "start", as_json)


@app.command()
def pause(ctx: typer.Context, campaign_id: CampaignId, as_json: JSON = False) -> None:
    """Pause sending."""
    _act(ctx, campaign_id, "pause", as_json)


@app.command()
def resume(ctx: typer.Context, campaign_id: CampaignId, as_json: JSON = False) -> None:
    """Resume a paused campaign."""
    _act(ctx, campaign_id, "resume", as_json)


@app.command()
def cancel(
    ctx: typer.Context,
    campaign_id: CampaignId,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Don't ask.")] = False,
    as_json: JSON = False,
) -> None:
    """Cancel: every unsent recipient is marked cancelled."""
    if not yes:
        typer.confirm(f"Cancel campaign {campaign_id}? Unsent mail will not be sent", abort=True)
    _act(ctx, campaign_id, "cancel", as_json)


def write_report(
    api: Client, campaign_id: str, fmt: ReportFormat, sink: TextIO, page_size: int
) -> int:
    """Every row of the report, following the cursor to the end. Returns the row count."""
    path = f"/api/campaigns/{campaign_id}/report"
    cursor: str | None = None
    rows = 0
    collected: list[dict[str, Any]] = []
    while True:
        reply = api.request(
            "GET", path, query={"format": fmt.value, "limit": page_size, "cursor": cursor}
        )
        if fmt is ReportFormat.json:
            page = reply.json()
            collected.extend(page["items"])
            cursor = page.get("next_cursor")
        else:
            text = reply.text()
            if text and not text.endswith("\n"):
                text += "\n"
            sink.write(text)
            lines = sum(1 for _ in csv.reader(io.StringIO(text)))
            rows += lines - (1 if cursor is None and lines else 0)  # the header comes once
            cursor = {k.lower(): v for k, v in reply.headers.items()}.get("x-next-cursor")
        if not cursor:
            break
    if fmt is ReportFormat.json:
        json.dump(collected, sink, indent=2, default=str)
        sink.write("\n")
        rows = len(collected)
    return rows


@app.command()
def report(
    ctx: typer.Context,
    campaign_id: CampaignId,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="csv or json.")] = ReportFormat.csv,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE (default stdout).")
    ] = None,
    page_size: Annotated[int, typer.Option(help="Rows per request (1..10000).")] = 5000,
) -> None:
    """One row per recipient, every page."""
    api = client(ctx)
    if output is None:
        write_report(api, campaign_id, fmt, sys.stdout, page_size)
        return
    with output.open("w", encoding="utf-8", newline="") as sink:
        rows = write_report(api, campaign_id, fmt, sink, page_size)
    out().print(f"{rows} rows written to {output}")
