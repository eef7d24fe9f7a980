from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ConfigDict, Field
from sendrail.domain.models import Suppression, SuppressionReason
from sendrail.services import suppressions
from sendrail.services.auth import READ, WRITE
from sendrail.storage.codec import decode_cursor

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import tenant
from functions.enqueue.schemas import Page, page, respond
from functions.enqueue.wiring import deps

router = APIGatewayRouter()


class SuppressionIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    reason: SuppressionReason = SuppressionReason.MANUAL


class SuppressionView(ApiModel):
    email: str
    reason: SuppressionReason
    created_at: datetime


class Suppressed(SuppressionView):
    stopped: int = Field(description="unsent messages to this address that were cancelled")


def _view(s: Suppression) -> SuppressionView:
    return SuppressionView(email=s.email, reason=s.reason, created_at=s.created_at)


@router.get("/api/suppressions", summary="Suppressed addresses", tags=["suppressions"])
def list_all(
    limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: Annotated[str | None, Query()] = None
) -> Page[SuppressionView]:
    _, tenant_id = tenant(router, READ)
    items, last = deps().suppressions.page(tenant_id, limit, decode_cursor(cursor))
    return Page[SuppressionView].model_validate(page([_view(s) for s in items], last))


@router.post(
    "/api/suppressions",
    summary="Suppress an address (stops its unsent mail)",
    tags=["suppressions"],
    responses={
        201: {"description": "suppressed", "content": {"application/json": {"model": Suppressed}}}
    },
)
def create(body: SuppressionIn) -> Response[Suppressed]:
    _, tenant_id = tenant(router, WRITE)
    record, stopped = suppressions.suppress(deps(), tenant_id, body.email, body.reason)
    return respond(201, Suppressed(**_view(record).model_dump(), stopped=stopped))


@router.delete(
    "/api/suppressions/<email>",
    summary="Lift a suppression",
    tags=["suppressions"],
    responses={204: {"description": "lifted"}},
)
def delete(email: str) -> Response[None]:
    from urllib.parse import unquote  # noqa: PLC0415

    _, tenant_id = tenant(router, WRITE)
    suppressions.unsuppress(deps(), tenant_id, unquote(email))
    return Response(status_code=204)
