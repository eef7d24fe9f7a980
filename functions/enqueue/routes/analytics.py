from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from sendrail.clock import parse_rfc3339
from sendrail.errors import BadRequest, PayloadTooLarge, ValidationFailed
from sendrail.services import analytics, bounces, campaigns, mailboxes
from sendrail.services.auth import READ, WRITE
from sendrail.storage.codec import decode_cursor, encode_cursor

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import tenant
from functions.enqueue.wiring import deps

router = APIGatewayRouter()


class TimelineRow(ApiModel):
    start: str
    sent: int
    failed: int
    opened: int
    unique_opens: int
    clicked: int
    unique_clicks: int
    bounced: int
    complained: int
    unsubscribed: int


class Timeline(ApiModel):
    bucket: str
    items: list[TimelineRow]


class ReportPage(ApiModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


class Rates(ApiModel):
    model_config = {"extra": "allow"}

    sent: int
    open_rate: float
    click_rate: float
    bounce_rate: float
    complaint_rate: float
    unsubscribe_rate: float
    click_to_open_rate: float


class BounceResult(ApiModel):
    hard: int
    soft: int
    complaints: int
    unmatched: int
    paused_mailboxes: list[str]
    events: list[dict[str, Any]]


@router.get(
    "/api/campaigns/<campaign_id>/timeline",
    summary="Sends, opens, clicks, bounces per bucket",
    tags=["analytics"],
)
def timeline(
    campaign_id: str, bucket: Annotated[Literal["hour", "day"], Query()] = "hour"
) -> Timeline:
    _, tenant_id = tenant(router, READ)
    campaign = campaigns.get(deps(), tenant_id, campaign_id)
    return Timeline(
        bucket=bucket,
        items=[TimelineRow(**row) for row in analytics.timeline(deps(), campaign, bucket)],
    )


@router.get(
    "/api/campaigns/<campaign_id>/report",
    summary="One row per recipient, CSV or JSON, page by page",
    description=(
        "Pages of `limit` rows (default 5,000, at most 10,000). JSON: `{items, next_cursor}`. "
        "CSV: the header row on the first page only; the next page's cursor is in the "
        '`X-Next-Cursor` header (and a `Link: <...>; rel="next"` header).'
    ),
    tags=["analytics"],
    responses={
        200: {
            "description": "one page of rows",
            "content": {
                "application/json": {"model": ReportPage},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
def report(
    campaign_id: str,
    format: Annotated[Literal["csv", "json"], Query()] = "json",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 5_000,
    cursor: Annotated[str | None, Query()] = None,
) -> Response[Any]:
    _, tenant_id = tenant(router, READ)
    campaign = campaigns.get(deps(), tenant_id, campaign_id)
    rows, last = analytics.report_page(deps(), campaign, limit, decode_cursor(cursor))
    next_cursor = encode_cursor(last)
    if format == "json":
        return Response(
            status_code=200,
            content_type="application/json",
            body=ReportPage(items=rows, next_cursor=next_cursor).model_dump_json(),
        )
    headers = {"Content-Disposition": f'attachment; filename="{campaign_id}-report.csv"'}
    if next_cursor:
        headers["X-Next-Cursor"] = next_cursor
        path = f"/api/campaigns/{campaign_id}/report?format=csv&limit={limit}&cursor={next_cursor}"
        headers["Link"] = f'<{path}>; rel="next"'
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=analytics.as_csv(rows, header=cursor is None),
        headers=headers,
    )


def _period(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    now = deps().clock.now()
    try:
        last = parse_rfc3339(end) if end else now
        first = parse_rfc3339(start) if start else last - timedelta(days=30)
    except ValueError as exc:
        raise ValidationFailed(
            "from and to are RFC 3339 times", details=[{"field": "from"}]
        ) from exc
    return first, last


@router.get(
    "/api/analytics/overview",
    summary="Sends, opens, clicks, bounces and their rates",
    tags=["analytics"],
)
def overview(
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    _, tenant_id = tenant(router, READ)
    first, last = _period(start, end)
    return analytics.overview(deps(), tenant_id, first, last)


@router.get(
    "/api/analytics/campaigns/<campaign_id>",
    summary="Rates for one campaign, with its links",
    tags=["analytics"],
)
def campaign_rates(campaign_id: str) -> Rates:
    _, tenant_id = tenant(router, READ)
    return Rates(
        **analytics.campaign_analytics(deps(), campaigns.get(deps(), tenant_id, campaign_id))
    )


@router.get(
    "/api/analytics/mailboxes/<mailbox_id>", summary="Rates for one mailbox", tags=["analytics"]
)
def mailbox_rates(mailbox_id: str, days: Annotated[int, Query(ge=1, le=90)] = 30) -> Rates:
    _, tenant_id = tenant(router, READ)
    mailboxes.get(deps(), tenant_id, mailbox_id)
    return Rates(**analytics.mailbox_analytics(deps(), mailbox_id, days))


def _raw_body() -> bytes:
    """The request body as the client sent it: a DSN is bytes, in any charset (API Gateway
    hands binary media types over in base64)."""
    event = router.current_event
    text = event.body or ""
    if not event.is_base64_encoded:
        return text.encode("utf-8", "surrogateescape")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise BadRequest("the body is not valid base64", details=[{"field": "body"}]) from exc


@router.post(
    "/api/bounces",
    summary="Classify and apply a raw DSN",
    description="The body is the bounce message itself (message/rfc822, multipart/report or text).",
    tags=["bounces"],
)
def bounce(campaign_id: Annotated[str | None, Query()] = None) -> BounceResult:
    _, tenant_id = tenant(router, WRITE)
    body = _raw_body()
    if not body.strip():
        raise ValidationFailed("send the bounce message as the body", details=[{"field": "body"}])
    if len(body) > 2 * 1024 * 1024:
        raise PayloadTooLarge("a bounce message larger than 2 MB is not a bounce")
    events = bounces.classify_dsn(body)
    applied = bounces.apply(deps(), events, tenant_id=tenant_id)
    return BounceResult(
        hard=applied.hard,
        soft=applied.soft,
        complaints=applied.complaints,
        unmatched=applied.unmatched,
        paused_mailboxes=applied.paused_mailboxes,
        events=[
            {"email": e.email, "kind": e.kind.value, "message_id": e.message_id} for e in events
        ],
    )
