from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ConfigDict, Field
from sendrail import json_body
from sendrail.domain.models import RecipientStatus
from sendrail.errors import (
    MalformedJson,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from sendrail.services import analytics, campaigns, content_checks, estimates, imports, recipients
from sendrail.services.auth import READ, WRITE
from sendrail.services.campaigns import CampaignCreate, CampaignFields
from sendrail.storage.codec import decode_cursor

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import tenant
from functions.enqueue.routes.content import StartOptions
from functions.enqueue.schemas import (
    CampaignStats,
    CampaignView,
    ImportJobView,
    ImportView,
    InvalidRow,
    Page,
    RecipientView,
    StartResult,
    page,
    respond,
)
from functions.enqueue.wiring import deps, providers, ses_account, settings

router = APIGatewayRouter()


class RecipientIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    data: dict[str, Any] = Field(default_factory=dict)


class RecipientsUpload(ApiModel):
    """JSON upload; ``text/csv`` is accepted too (a header row with an ``email`` column)."""

    model_config = ConfigDict(extra="forbid")

    recipients: list[Any] = Field(max_length=1_000_000)


@router.post(
    "/api/campaigns",
    summary="Create a campaign (draft)",
    tags=["campaigns"],
    responses={
        201: {"description": "created", "content": {"application/json": {"model": CampaignView}}}
    },
)
def create(body: CampaignCreate) -> Response[CampaignView]:
    _, tenant_id = tenant(router, WRITE)
    return respond(201, CampaignView.of(campaigns.create(deps(), tenant_id, body)))


@router.get("/api/campaigns", summary="List campaigns, newest first", tags=["campaigns"])
def list_all(
    limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: Annotated[str | None, Query()] = None
) -> Page[CampaignView]:
    _, tenant_id = tenant(router, READ)
    items, last = deps().campaigns.page(tenant_id, limit, decode_cursor(cursor))
    return Page[CampaignView].model_validate(page([CampaignView.of(c) for c in items], last))


@router.get(
    "/api/campaigns/<campaign_id>", summary="One campaign with its counts", tags=["campaigns"]
)
def get_one(campaign_id: str) -> CampaignView:
    _, tenant_id = tenant(router, READ)
    return CampaignView.of(campaigns.get(deps(), tenant_id, campaign_id))


@router.patch(
    "/api/campaigns/<campaign_id>", summary="Edit a draft or paused campaign", tags=["campaigns"]
)
def patch(campaign_id: str, body: CampaignFields) -> CampaignView:
    _, tenant_id = tenant(router, WRITE)
    return CampaignView.of(campaigns.update(deps(), tenant_id, campaign_id, body))


@router.delete(
    "/api/campaigns/<campaign_id>",
    summary="Delete a draft; cancel a started campaign",
    tags=["campaigns"],
    responses={
        200: {
            "description": "the started campaign, cancelled",
            "content": {"application/json": {"model": CampaignView}},
        },
        204: {"description": "draft deleted"},
    },
)
def delete(campaign_id: str) -> Response[CampaignView | None]:
    _, tenant_id = tenant(router, WRITE)
    result = campaigns.delete(deps(), tenant_id, campaign_id)
    if result is None:
        return Response(status_code=204)
    return Response(status_code=200, content_type="application/json", body=CampaignView.of(result))


def _rows() -> list[recipients.Row]:
    event = router.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    content_type = headers.get("content-type", "application/json").split(";")[0].strip().lower()
    text = event.decoded_body or ""
    if len(text.encode()) > settings().max_body_bytes:
        raise PayloadTooLarge("the upload is larger than 10 MB; split it")
    if content_type in ("text/csv", "application/csv"):
        return recipients.parse_csv(text)
    if content_type != "application/json":
        raise UnsupportedMediaType(
            f"unsupported content type {content_type}; send application/json or text/csv"
        )
    try:
        parsed = json_body.parse(text)
    except ValueError as exc:
        raise MalformedJson(
            "the request body is not valid JSON",
            details=[{"field": "body", "reason": str(exc)[:200]}],
        ) from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("recipients"), list):
        raise ValidationFailed(
            'send {"recipients": [{"email": ..., "data": {...}}]}',
            details=[{"field": "recipients"}],
        )
    return recipients.rows_from_json(parsed["recipients"])


@router.post(
    "/api/campaigns/<campaign_id>/recipients",
    summary="Add recipients (JSON or text/csv)",
    description=(
        "Every row is validated at once. Up to `sync_import_rows` valid rows (5,000) are "
        "written before the reply (200); a larger upload is accepted (202) and written in "
        "the background: `job` tells its progress, also at "
        "`GET /api/campaigns/{id}/imports/{job.id}`. Rows are numbered from 1 (CSV: the line "
        "after the header)."
    ),
    tags=["campaigns"],
    openapi_extensions={"x-csv": "text/csv body accepted: header row, an email column"},
    responses={
        200: {
            "description": "written",
            "content": {"application/json": {"model": ImportView}},
        },
        202: {
            "description": "accepted, written in the background",
            "content": {"application/json": {"model": ImportView}},
        },
    },
)
def add_recipients(campaign_id: str) -> Response[ImportView]:
    _, tenant_id = tenant(router, WRITE)
    campaign = campaigns.get(deps(), tenant_id, campaign_id)
    prepared = recipients.prepare(_rows())
    invalid = [InvalidRow(**i) for i in prepared.invalid[: imports.INVALID_KEPT]]
    if len(prepared.valid) > settings().sync_import_rows:
        job = imports.start(deps(), campaign, prepared)
        return respond(
            202,
            ImportView(
                added=0,
                duplicates=prepared.duplicates,
                suppressed=0,
                invalid=invalid,
                job=ImportJobView.of(job),
            ),
        )
    result = recipients.write(deps(), campaign, prepared.valid)
    return respond(
        200,
        ImportView(
            added=result.added,
            duplicates=result.duplicates + prepared.duplicates,
            suppressed=result.suppressed,
            invalid=invalid,
        ),
    )


@router.get(
    "/api/campaigns/<campaign_id>/imports/<import_id>",
    summary="Progress of a background import",
    tags=["campaigns"],
)
def get_import(campaign_id: str, import_id: str) -> ImportJobView:
    _, tenant_id = tenant(router, READ)
    campaigns.get(deps(), tenant_id, campaign_id)
    return ImportJobView.of(imports.get(deps(), tenant_id, campaign_id, import_id))


@router.get(
    "/api/campaigns/<campaign_id>/recipients",
    summary="Recipients and their status",
    tags=["campaigns"],
)
def list_recipients(
    campaign_id: str,
    status: Annotated[RecipientStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query()] = None,
) -> Page[RecipientView]:
    _, tenant_id = tenant(router, READ)
    campaigns.get(deps(), tenant_id, campaign_id)
    items, last = deps().recipients.page(
        campaign_id, limit=limit, after=decode_cursor(cursor), status=status
    )
    return Page[RecipientView].model_validate(page([RecipientView.of(r) for r in items], last))


@router.post(
    "/api/campaigns/<campaign_id>/start",
    summary="Start sending",
    description=(
        "Runs the content check first: any `error` finding answers 422 "
        '`content_check_failed` (findings in `details`) unless an owner sends `{"force": true}`.'
    ),
    tags=["campaigns"],
    responses={
        202: {"description": "started", "content": {"application/json": {"model": StartResult}}}
    },
)
def start(campaign_id: str, body: StartOptions | None = None) -> Response[StartResult]:
    principal, tenant_id = tenant(router, WRITE)
    draft = campaigns.get(deps(), tenant_id, campaign_id)
    force = body.force if body else False
    content_checks.before_start(deps(), draft, force=force, role=principal.role)
    campaign = campaigns.start(deps(), tenant_id, campaign_id)
    found = estimates.estimate(deps(), campaign, ses_account, providers().ses_region)
    estimate = {
        "remaining": found.remaining,
        "completes_at": found.completes_at,
        "per_day": [{"date": d.isoformat(), "count": n} for d, n in found.per_day],
        "extrapolated_from": found.extrapolated_from,
    }
    return respond(
        202,
        StartResult(status=campaign.status.value, queued=campaign.counts.queued, estimate=estimate),
    )


@router.post("/api/campaigns/<campaign_id>/pause", summary="Pause sending", tags=["campaigns"])
def pause(campaign_id: str) -> CampaignView:
    _, tenant_id = tenant(router, WRITE)
    return CampaignView.of(campaigns.pause(deps(), tenant_id, campaign_id))


@router.post("/api/campaigns/<campaign_id>/resume", summary="Resume sending", tags=["campaigns"])
def resume(campaign_id: str) -> CampaignView:
    _, tenant_id = tenant(router, WRITE)
    return CampaignView.of(campaigns.resume(deps(), tenant_id, campaign_id))


@router.post(
    "/api/campaigns/<campaign_id>/cancel",
    summary="Cancel; unsent recipients become cancelled",
    tags=["campaigns"],
)
def cancel(campaign_id: str) -> CampaignView:
    _, tenant_id = tenant(router, WRITE)
    return CampaignView.of(campaigns.cancel(deps(), tenant_id, campaign_id))


@router.get(
    "/api/campaigns/<campaign_id>/stats",
    summary="Counts by status and tracked events",
    tags=["campaigns"],
)
def stats(campaign_id: str) -> CampaignStats:
    _, tenant_id = tenant(router, READ)
    campaign = campaigns.get(deps(), tenant_id, campaign_id)
    return CampaignStats(**analytics.campaign_totals(deps(), campaign))
