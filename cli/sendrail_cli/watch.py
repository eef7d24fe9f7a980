"""A campaign's live progress: sent, failed and bounced against its total, the rate seen
while watching and the ETA from the server's estimate. Ctrl-C detaches; the campaign
keeps running."""

from __future__ import annotations

import time
from typing import Any

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

from sendrail_cli.client import ApiError, Client
from sendrail_cli.output import out

FINAL = frozenset({"completed", "cancelled"})
MISSES_ALLOWED = 5  # polls in a row that may go unanswered (a network blip) before giving up


def _done(stats: dict[str, Any]) -> int:
    return sum(int(stats.get(k, 0)) for k in ("sent", "failed", "bounced"))


def _goal(stats: dict[str, Any]) -> int:
    # Suppressed and cancelled recipients are never sent: they are not part of the goal.
    total = int(stats.get("total", 0))
    return max(total - int(stats.get("suppressed", 0)) - int(stats.get("cancelled", 0)), 0)


def watch(api: Client, campaign_id: str, interval: float = 2.0) -> str:
    """Poll until the campaign is completed or cancelled. Returns the last status;
    ``"detached"`` after Ctrl-C."""
    started = time.monotonic()
    first_done: int | None = None
    status = "unknown"
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[counts]}"),
        console=out(),
        transient=False,
    )
    try:
        out().print(f"Watching {campaign_id} (Ctrl-C detaches; the campaign keeps running)")
        with progress:
            task = progress.add_task("sending", total=None, counts="")
            misses = 0
            while True:
                try:
                    campaign = api.get(f"/api/campaigns/{campaign_id}")
                    stats = api.get(f"/api/campaigns/{campaign_id}/stats")
                    status = str(campaign["status"])
                    estimate = (
                        api.get(f"/api/campaigns/{campaign_id}/estimate")
                        if status not in FINAL
                        else {}
                    )
                except ApiError as error:
                    if error.code != "unreachable" or misses >= MISSES_ALLOWED:
                        raise
                    misses += 1
                    progress.update(task, description="no answer, asking again")
                    time.sleep(max(interval, 1.0))
                    continue
                misses = 0
                done = _done(stats)
                first_done = done if first_done is None else first_done
                elapsed = max(time.monotonic() - started, 1e-6)
                rate = (done - first_done) / elapsed * 60
                eta = (
                    "" if status in FINAL else f" · ETA {estimate.get('completes_at') or 'unknown'}"
                )
                counts = (
                    f"sent {stats.get('sent', 0)} · failed {stats.get('failed', 0)} · "
                    f"bounced {stats.get('bounced', 0)} · {rate:.1f}/min{eta} · {status}"
                )
                progress.update(
                    task,
                    total=_goal(stats) or None,
                    completed=done,
                    counts=counts,
                    description=status,
                )
                if status in FINAL:
                    break
                time.sleep(interval)
    except KeyboardInterrupt:
        out().print(
            f"Detached; the campaign keeps running. Watch again: "
            f"sendrail campaigns watch {campaign_id}"
        )
        return "detached"
    out().print(f"Campaign {campaign_id}: {status}")
    return status
