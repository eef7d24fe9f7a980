from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ConfigDict, Field, field_validator
from sendrail.errors import ValidationFailed
from sendrail.services import campaigns, estimates, queue_views
from sendrail.services.auth import READ, WRITE

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import tenant
from functions.enqueue.wiring import deps, providers, ses_account

router = APIGatewayRouter()


class PriorityRow(ApiModel):
    queued: int
    deferred: int
    sending: int
    sent: int
    failed: int


class QueueStats(ApiModel):
    total_queued: int
    total_sending: int
    total_sent: int
    total_failed: int
    total_deferred: int
    by_priority: dict[str, PriorityRow]


class ServerAuthentication(ApiModel):
    dmarc_aligned: bool = Field(description="false: mail from this mailbox would fail DMARC")
    dmarc_status: str | None
    checked_at: str


class Server(ApiModel):
    id: str
    email: str
    provider: str
    status: str
    daily_limit: int
    daily_used: int
    daily_remaining: int | None
    hourly_used: int | None
    window_remaining: int | None
    next_available_at: str | None
    effective_limits: dict[str, Any] | None = None
    authentication: ServerAuthentication | None = Field(
        default=None,
        description="the last sender authentication check "
        "(`GET /api/mailboxes/{id}/authentication`), from its cache; null: never checked",
    )


class Servers(ApiModel):
    items: list[Server]
    next_cursor: str | None = None


class QueueStatus(ApiModel):
    """The tenant's view: its window and its own figures; the processor's run counts, errors
    and queue depths are platform figures (``GET /api/admin/queue/status``)."""

    now: str
    enabled: bool
    in_window: bool
    window: dict[str, Any] | None
    next_window_open_at: str | None
    last_run_at: str | None = Field(description="when the processor last ran (any tenant)")
    queued: int
    deferred: int
    sending: int
    failed: int


class Scope(ApiModel):
    """Which campaign a repair touches; leave ``campaign_id`` out (or send no body) for all
    of the tenant's campaigns. An explicit ``null`` or ``""`` is refused, never "all"."""

    model_config = ConfigDict(extra="forbid")

    campaign_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"
    )

    @field_validator("campaign_id", mode="before")
    @classmethod
    def _an_id_when_given(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("give a campaign id, or leave campaign_id out for every campaign")
        return value


def _scope(body: Scope | None) -> str | None:
    """The campaign a repair is limited to, or None for every campaign: only when there is
    no body at all or ``campaign_id`` is left out. (Powertools reads a JSON array sent to an
    object body as its first element, so ``[null, null]`` arrives as no body: refused.)"""
    if body is None:
        raw = router.current_event.decoded_body or ""
        if raw.strip():
            raise ValidationFailed(
                'send {"campaign_id": "..."} or {} (every campaign)',
                details=[{"field": "body", "reason": "not an object"}],
            )
        return None
    return body.campaign_id


class Requeued(ApiModel):
    requeued: int


class Cleared(ApiModel):
    cleared: int


class DayCount(ApiModel):
    date: date
    count: int


class EstimateView(ApiModel):
    remaining: int
    completes_at: datetime | None
    per_day: list[DayCount]
    extrapolated_from: date | None = Field(
        default=None,
        description="the days from this one on are placed at the pace of the last simulated "
        "week (the simulation stops after 400 days or a bounded amount of work); null: "
        "every day was simulated",
    )


@router.get("/api/queue/stats", summary="Queue totals, by priority", tags=["queue"])
def queue_stats() -> QueueStats:
    _, tenant_id = tenant(router, READ)
    totals = queue_views.totals(deps(), tenant_id)
    return QueueStats.model_validate(totals, from_attributes=True)


@router.get("/api/queue/servers", summary="Each mailbox's capacity now", tags=["queue"])
def queue_servers() -> Servers:
    _, tenant_id = tenant(router, READ)
    rows = queue_views.servers(deps(), tenant_id, ses_account)
    return Servers(items=[Server(**row) for row in rows])


@router.get("/api/queue/status", summary="Processor health and the send window", tags=["queue"])
def queue_status() -> QueueStatus:
    _, tenant_id = tenant(router, READ)
    return QueueStatus(**queue_views.status(deps(), tenant_id))


@router.post("/api/queue/retry-failed", summary="Requeue failed recipients", tags=["queue"])
def retry_failed(body: Scope | None = None) -> Requeued:
    _, tenant_id = tenant(router, WRITE)
    scope = _scope(body)
    return Requeued(requeued=queue_views.retry_failed(deps(), tenant_id, scope))


@router.post(
    "/api/queue/clear", summary="Hide failed recipients from the queue views", tags=["queue"]
)
def clear(body: Scope | None = None) -> Cleared:
    _, tenant_id = tenant(router, WRITE)
    scope = _scope(body)
    return Cleared(cleared=queue_views.clear_failed(deps(), tenant_id, scope))


@router.get(
    "/api/campaigns/<campaign_id>/estimate",
    summary="When the campaign will finish",
    tags=["campaigns"],
)
def estimate(campaign_id: str) -> EstimateView:
    _, tenant_id = tenant(router, READ)
    campaign = campaigns.get(deps(), tenant_id, campaign_id)
    found = estimates.estimate(deps(), campaign, ses_account, providers().ses_region)
    return EstimateView(
        remaining=found.remaining,
        completes_at=found.completes_at,
        per_day=[DayCount(date=d, count=n) for d, n in found.per_day],
        extrapolated_from=found.extrapolated_from,
    )
