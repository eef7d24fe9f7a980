from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ConfigDict, Field, field_validator
from sendrail.domain.models import (
    ApiSettings,
    Count,
    DomainThrottle,
    SendingSettings,
    ThrottleScope,
)
from sendrail.errors import NotFound, ValidationFailed
from sendrail.services import rate_limits
from sendrail.services.auth import READ, WRITE
from sendrail.storage.codec import decode_cursor

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import tenant
from functions.enqueue.schemas import Page, page
from functions.enqueue.wiring import deps, settings

router = APIGatewayRouter()

NAME = r"^[a-z0-9][a-z0-9.\-]{0,252}$"


class ThrottleIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    max_per_hour: Count | None = None
    max_per_day: Count | None = None
    max_per_minute: int | None = Field(default=None, ge=0, le=1_000_000)
    scope: ThrottleScope = ThrottleScope.RECIPIENT
    domains: list[str] | None = Field(default=None, max_length=200)

    @field_validator("domains")
    @classmethod
    def _domains(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        import re  # noqa: PLC0415

        cleaned = [d.strip().lower() for d in value]
        bad = [d for d in cleaned if not re.match(NAME, d) or "." not in d]
        if bad:
            raise ValueError(f"not domain names: {bad[:5]}")
        return sorted(set(cleaned))


class ThrottleView(ApiModel):
    name: str
    max_per_hour: int | None
    max_per_day: int | None
    max_per_minute: int | None
    scope: ThrottleScope
    domains: list[str]


def _view(t: DomainThrottle) -> ThrottleView:
    return ThrottleView(
        name=t.name,
        max_per_hour=t.max_per_hour,
        max_per_day=t.max_per_day,
        max_per_minute=t.max_per_minute,
        scope=t.scope,
        domains=t.covers(),
    )


@router.get(
    "/api/settings/sending", summary="The tenant's sending caps and window", tags=["settings"]
)
def get_sending() -> SendingSettings:
    _, tenant_id = tenant(router, READ)
    return deps().settings.sending(tenant_id)


@router.put(
    "/api/settings/sending",
    summary="Replace the tenant's sending caps and window",
    tags=["settings"],
)
def put_sending(body: SendingSettings) -> SendingSettings:
    _, tenant_id = tenant(router, WRITE)
    deps().settings.put_sending(tenant_id, body)
    return body


@router.get("/api/domain-throttles", summary="Domain throttles", tags=["settings"])
def list_throttles(
    limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: Annotated[str | None, Query()] = None
) -> Page[ThrottleView]:
    _, tenant_id = tenant(router, READ)
    items, last = deps().settings.throttle_page(tenant_id, limit, decode_cursor(cursor))
    return Page[ThrottleView].model_validate(page([_view(t) for t in items], last))


@router.put(
    "/api/domain-throttles/<name>", summary="Create or replace a domain throttle", tags=["settings"]
)
def put_throttle(name: str, body: ThrottleIn) -> ThrottleView:
    import re  # noqa: PLC0415

    _, tenant_id = tenant(router, WRITE)
    name = name.strip().lower()
    if not re.match(NAME, name):
        raise ValidationFailed(
            "the throttle name must be a domain or a short group name", details=[{"field": "name"}]
        )
    if body.domains is None and "." not in name:
        raise ValidationFailed("a group name needs its domains", details=[{"field": "domains"}])
    throttle = DomainThrottle(
        tenant_id=tenant_id,
        name=name,
        **body.model_dump(exclude={"domains"}),
        domains=body.domains or [],
    )
    deps().settings.put_throttle(throttle)
    return _view(throttle)


@router.delete(
    "/api/domain-throttles/<name>",
    summary="Remove a domain throttle",
    tags=["settings"],
    responses={204: {"description": "removed"}},
)
def delete_throttle(name: str) -> Response[None]:
    _, tenant_id = tenant(router, WRITE)
    if not deps().settings.delete_throttle(tenant_id, name.strip().lower()):
        raise NotFound("no such throttle")
    return Response(status_code=204)


class ApiSettingsView(ApiSettings):
    effective_api_rate_limit: int = Field(
        description="requests per second each key or session may make now (0: unlimited)"
    )


def _api_view(stored: ApiSettings) -> ApiSettingsView:
    limit = rate_limits.effective(stored, settings().api_rate_limit)
    return ApiSettingsView(**stored.model_dump(), effective_api_rate_limit=limit)


@router.get(
    "/api/settings/api",
    summary="The tenant's API settings (requests per second per key)",
    tags=["settings"],
)
def get_api() -> ApiSettingsView:
    _, tenant_id = tenant(router, READ)
    return _api_view(rate_limits.api_settings(deps(), tenant_id))


@router.put(
    "/api/settings/api",
    summary="Replace the tenant's API settings",
    description="`api_rate_limit`: requests per second allowed to each API key or session "
    "of the tenant (1..10000); null for the platform default (50). Over it: 429 with "
    "Retry-After.",
    tags=["settings"],
)
def put_api(body: ApiSettings) -> ApiSettingsView:
    _, tenant_id = tenant(router, WRITE)
    rate_limits.put_api_settings(deps(), tenant_id, body)
    return _api_view(body)
