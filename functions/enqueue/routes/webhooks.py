"""Outgoing webhooks: owners manage the endpoints; deliveries are listed per endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ConfigDict, Field
from sendrail.domain.webhooks import Delivery, EventType, Webhook
from sendrail.services import webhooks
from sendrail.services.auth import OWNER

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import tenant
from functions.enqueue.schemas import respond
from functions.enqueue.wiring import deps, providers

router = APIGatewayRouter()
Url = Annotated[str, Field(min_length=8, max_length=2048)]
Description = Annotated[str, Field(max_length=500)]


class WebhookCreate(ApiModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: list[EventType] = Field(min_length=1, max_length=20)
    description: Description | None = None


class WebhookPatch(ApiModel):
    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: list[EventType] | None = Field(default=None, min_length=1, max_length=20)
    description: Description | None = None
    active: bool | None = None


class WebhookView(ApiModel):
    id: str
    url: str
    events: list[str]
    description: str | None
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, hook: Webhook) -> WebhookView:
        return cls(
            id=hook.id,
            url=hook.url,
            events=hook.events,
            description=hook.description,
            active=hook.active,
            created_at=hook.created_at,
        )


class WebhookCreated(WebhookView):
    secret: str  # shown once


class WebhookList(ApiModel):
    items: list[WebhookView]
    next_cursor: str | None = None


class DeliveryView(ApiModel):
    event_id: str
    type: str
    status_code: int | None
    duration_ms: int
    attempt: int
    at: datetime
    outcome: str
    next_retry_at: datetime | None
    error: str | None

    @classmethod
    def of(cls, d: Delivery) -> DeliveryView:
        return cls(**d.model_dump(exclude={"webhook_id"}))


class DeliveryList(ApiModel):
    items: list[DeliveryView]
    next_cursor: str | None = None


class TestQueued(ApiModel):
    event_id: str
    type: str


def _private() -> bool:
    return providers().allow_private_hosts


@router.post(
    "/api/webhooks",
    summary="Add a webhook endpoint (its signing secret is shown once)",
    tags=["webhooks"],
    responses={
        201: {"description": "created", "content": {"application/json": {"model": WebhookCreated}}}
    },
)
def create_webhook(body: WebhookCreate) -> Response[WebhookCreated]:
    _, tenant_id = tenant(router, OWNER)
    hook, secret = webhooks.create(
        deps(),
        tenant_id,
        body.url,
        [str(e) for e in body.events],
        body.description,
        allow_private_hosts=_private(),
    )
    return respond(201, WebhookCreated(**WebhookView.of(hook).model_dump(), secret=secret))


@router.get("/api/webhooks", summary="List webhook endpoints", tags=["webhooks"])
def list_webhooks() -> WebhookList:
    _, tenant_id = tenant(router, OWNER)
    return WebhookList(items=[WebhookView.of(h) for h in deps().webhooks.list(tenant_id)])


@router.get("/api/webhooks/<webhook_id>", summary="One webhook endpoint", tags=["webhooks"])
def get_webhook(webhook_id: str) -> WebhookView:
    _, tenant_id = tenant(router, OWNER)
    return WebhookView.of(webhooks.get(deps(), tenant_id, webhook_id))


@router.patch("/api/webhooks/<webhook_id>", summary="Change a webhook", tags=["webhooks"])
def patch_webhook(webhook_id: str, body: WebhookPatch) -> WebhookView:
    _, tenant_id = tenant(router, OWNER)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    hook = webhooks.update(deps(), tenant_id, webhook_id, changes, allow_private_hosts=_private())
    return WebhookView.of(hook)


@router.delete(
    "/api/webhooks/<webhook_id>",
    summary="Remove a webhook; queued deliveries to it are dropped",
    tags=["webhooks"],
    responses={204: {"description": "removed"}},
)
def delete_webhook(webhook_id: str) -> Response[None]:
    _, tenant_id = tenant(router, OWNER)
    webhooks.delete(deps(), tenant_id, webhook_id)
    return Response(status_code=204)


@router.get(
    "/api/webhooks/<webhook_id>/deliveries",
    summary="Recent delivery attempts, newest first",
    tags=["webhooks"],
)
def list_deliveries(
    webhook_id: str, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> DeliveryList:
    _, tenant_id = tenant(router, OWNER)
    found = webhooks.deliveries(deps(), tenant_id, webhook_id, limit)
    return DeliveryList(items=[DeliveryView.of(d) for d in found])


@router.post(
    "/api/webhooks/<webhook_id>/test",
    summary="Queue a signed test event to this endpoint",
    tags=["webhooks"],
    responses={
        202: {"description": "queued", "content": {"application/json": {"model": TestQueued}}}
    },
)
def test_webhook(webhook_id: str) -> Response[TestQueued]:
    _, tenant_id = tenant(router, OWNER)
    event = webhooks.send_test(deps(), tenant_id, webhook_id)
    return respond(202, TestQueued(event_id=event["id"], type=event["type"]))
