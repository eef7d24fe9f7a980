"""``sendrail send``: a campaign from an HTML file and a CSV, checked, estimated,
confirmed, started and watched."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from sendrail_cli.client import Client
from sendrail_cli.context import EXIT_API, client
from sendrail_cli.output import err, out
from sendrail_cli.watch import watch

WINDOW = re.compile(r"^(\d{2}:\d{2})-(\d{2}:\d{2})(?:@(.+))?$")
IMPORT_POLLS = 3600  # at one a second: an hour, far longer than any 10 MB upload takes


def parse_window(value: str) -> dict[str, str]:
    """``08:00-20:00@Europe/Berlin`` → ``{start, end, timezone}`` (UTC without ``@``)."""
    match = WINDOW.match(value.strip())
    if not match:
        raise typer.BadParameter("use HH:MM-HH:MM@Area/City, e.g. 08:00-20:00@Europe/Berlin")
    start, end, zone = match.groups()
    return {"start": start, "end": end, "timezone": zone or "UTC"}


def upload(api: Client, campaign_id: str, csv_text: str, interval: float = 1.0) -> dict[str, Any]:
    """Send the CSV; a large one is imported in the background: follow its job with a
    progress bar. Returns the final counts."""
    result: dict[str, Any] = api.request(
        "POST",
        f"/api/campaigns/{campaign_id}/recipients",
        raw=csv_text.encode(),
        content_type="text/csv",
    ).json()
    job = result.get("job")
    if not job:
        return result
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("chunks"),
        console=out(),
    ) as progress:
        task = progress.add_task("import", total=job["chunks"], completed=job["chunks_done"])
        for _ in range(IMPORT_POLLS):
            if job["status"] == "done":
                break
            time.sleep(interval)
            job = api.get(f"/api/campaigns/{campaign_id}/imports/{job['id']}")
            progress.update(task, completed=job["chunks_done"])
    return {
        "added": job["added"],
        "duplicates": job["duplicates"],
        "suppressed": job["suppressed"],
        "invalid": job["invalid"],
        "invalid_count": job["invalid_count"],
        "job": job,
    }


def show_counts(result: dict[str, Any]) -> None:
    invalid = result.get("invalid") or []
    invalid_count = result.get("invalid_count", len(invalid))
    out().print(
        f"Recipients: [green]{result['added']} added[/], {result['duplicates']} duplicates, "
        f"{invalid_count} invalid, {result['suppressed']} suppressed"
    )
    for row in invalid[:10]:
        out().print(f"  row {row['row']}: {row.get('email') or '?'}: {row['reason']}", markup=False)


def show_findings(check: dict[str, Any]) -> None:
    findings = check.get("findings") or []
    if not findings:
        out().print("Content check: [green]no findings[/]")
        return
    table = Table("severity", "code", "message", title="Content check")
    colours = {"error": "red", "warning": "yellow", "info": "cyan"}
    for f in findings:
        severity = str(f.get("severity"))
        table.add_row(
            f"[{colours.get(severity, 'white')}]{severity}[/]",
            str(f.get("code")),
            str(f.get("message")),
        )
    out().print(table)


def show_estimate(estimate: dict[str, Any]) -> None:
    per_day = estimate.get("per_day") or []
    out().print(
        f"Estimate: {estimate.get('remaining', 0)} to send over {len(per_day)} day(s), "
        f"done by {estimate.get('completes_at') or 'unknown (no capacity)'}"
    )
    if per_day:
        table = Table("date", "count")
        for day in per_day:
            table.add_row(str(day["date"]), str(day["count"]))
        out().print(table)


def send(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="Campaign name.")],
    subject: Annotated[str, typer.Option("--subject", help="Subject ({{ merge }} tags allowed).")],
    html: Annotated[Path, typer.Option("--html", exists=True, dir_okay=False, help="HTML body.")],
    csv: Annotated[
        Path,
        typer.Option("--csv", exists=True, dir_okay=False, help="Recipients: an email column."),
    ],
    text: Annotated[
        Path | None, typer.Option("--text", exists=True, dir_okay=False, help="Plain text body.")
    ] = None,
    mailbox_tag: Annotated[
        list[str] | None, typer.Option("--mailbox-tag", help="Send from mailboxes with this tag.")
    ] = None,
    window: Annotated[
        str | None, typer.Option("--window", help="Send window, e.g. 08:00-20:00@Europe/Berlin.")
    ] = None,
    schedule: Annotated[
        str | None, typer.Option("--schedule", help="Start at this RFC 3339 time.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Create, upload, check and estimate; don't start.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Start without asking.")] = False,
    detach: Annotated[
        bool, typer.Option("--detach", help="Return once started instead of watching.")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between progress polls.")] = 2.0,
) -> None:
    """Create a campaign, upload its CSV, check it, show the estimate, confirm, start, watch."""
    body: dict[str, Any] = {"name": name, "subject": subject, "html": html.read_text()}
    if text:
        body["text"] = text.read_text()
    if mailbox_tag:
        body["mailbox_tags"] = mailbox_tag
    if window:
        body["window"] = parse_window(window)
    if schedule:
        body["scheduled_at"] = schedule
    api = client(ctx)
    campaign = api.post("/api/campaigns", body)
    cid = campaign["id"]
    out().print(f"Campaign [bold]{cid}[/] created ({name})")
    show_counts(upload(api, cid, csv.read_text(encoding="utf-8-sig"), interval=min(interval, 1)))
    check = api.post(f"/api/campaigns/{cid}/check")
    show_findings(check)
    show_estimate(api.get(f"/api/campaigns/{cid}/estimate"))
    if not check.get("ok", True):
        err().print(
            f"error: content_check_failed: fix the errors above; the draft {cid} is kept",
            markup=False,
        )
        raise typer.Exit(EXIT_API)
    if dry_run:
        out().print(f"Dry run: nothing started; draft {cid} kept (sendrail campaigns start {cid}).")
        return
    if not yes:
        typer.confirm(f"Start campaign {cid}?", abort=True)
    started = api.request("POST", f"/api/campaigns/{cid}/start").json()
    out().print(f"Started: {started['status']}, {started['queued']} queued")
    if detach or started["status"] == "scheduled":
        out().print(f"Watch it: sendrail campaigns watch {cid}")
        return
    watch(api, cid, interval=interval)


def register(app: typer.Typer) -> None:
    app.command()(send)
