from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ConfigDict, Field, SecretStr
from sendrail.domain.email_str import EmailStr
from sendrail.services import auth
from sendrail.services.auth import ADMIN
from sendrail.storage.codec import decode_cursor

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import need
from functions.enqueue.schemas import Page, TenantCreated, TenantView, page, respond
from functions.enqueue.wiring import deps

router = APIGatewayRouter()


class TenantCreate(ApiModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    owner_email: EmailStr
    owner_password: SecretStr | None = Field(default=None, min_length=12, max_length=256)


@router.post(
    "/api/admin/tenants",
    summary="Create a tenant",
    tags=["admin"],
    responses={
        201: {"description": "created", "content": {"application/json": {"model": TenantCreated}}}
    },
)
def create_tenant(body: TenantCreate) -> Response[TenantCreated]:
    need(router, ADMIN)
    tenant, owner_key = auth.create_tenant(deps(), body.name)
    if body.owner_password is not None:
        from sendrail.services import users  # noqa: PLC0415

        users.create_owner(
            deps(), tenant.id, str(body.owner_email), body.owner_password.get_secret_value()
        )
    return respond(201, TenantCreated(**tenant.model_dump(), owner_key=owner_key))


@router.get("/api/admin/tenants", summary="List tenants", tags=["admin"])
def list_tenants(
    limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: Annotated[str | None, Query()] = None
) -> Page[TenantView]:
    need(router, ADMIN)
    items, last = deps().tenancy.list_tenants(limit, decode_cursor(cursor))
    return Page[TenantView].model_validate(
        page([TenantView(**t.model_dump()) for t in items], last)
    )


class PlatformStats(ApiModel):
    tenants: int
    sent_today: int
    failed_today: int
    queues: dict[str, dict[str, int]]
    last_dispatch_at: str | None
    last_error: str | None


class PlatformQueueStatus(ApiModel):
    now: str
    last_run_at: str | None
    last_run: dict[str, int] | None
    last_error: str | None
    last_error_at: str | None
    queues: dict[str, dict[str, int]]
    dead_letters: int


@router.get(
    "/api/admin/queue/status",
    summary="The processor's last run and error, and every queue's depth",
    tags=["admin"],
)
def platform_queue_status() -> PlatformQueueStatus:
    need(router, ADMIN)
    from sendrail.services import queue_views  # noqa: PLC0415

    return PlatformQueueStatus(**queue_views.platform_status(deps()))


@router.get("/api/admin/stats", summary="System-wide queue and send figures", tags=["admin"])
def platform_stats() -> PlatformStats:
    need(router, ADMIN)
    from sendrail.services import queue_views  # noqa: PLC0415

    return PlatformStats(**queue_views.platform(deps()))
