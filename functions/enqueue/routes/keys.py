from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ConfigDict, Field, SecretStr
from sendrail.domain.models import Role
from sendrail.errors import NotFound, ValidationFailed
from sendrail.services import auth, users
from sendrail.services.auth import OWNER
from sendrail.storage.codec import decode_cursor

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import client_of, tenant
from functions.enqueue.schemas import KeyCreated, KeyView, Page, page, respond
from functions.enqueue.wiring import deps

router = APIGatewayRouter()


class KeyCreate(ApiModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: Role


class LoginRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    password: SecretStr = Field(min_length=1, max_length=1024)


class LoginResult(ApiModel):
    token: str
    expires_at: str


@router.post("/api/auth/login", summary="Log in with email and password", tags=["auth"])
def login(body: LoginRequest) -> LoginResult:
    from datetime import UTC, datetime  # noqa: PLC0415

    from sendrail.clock import to_rfc3339  # noqa: PLC0415

    client = client_of(router)
    token, expires = users.login(deps(), body.email, body.password.get_secret_value(), client)
    return LoginResult(token=token, expires_at=to_rfc3339(datetime.fromtimestamp(expires, UTC)))


@router.post(
    "/api/keys",
    summary="Create an API key (shown once)",
    tags=["keys"],
    responses={
        201: {"description": "created", "content": {"application/json": {"model": KeyCreated}}}
    },
)
def create_key(body: KeyCreate) -> Response[KeyCreated]:
    _, tenant_id = tenant(router, OWNER)
    if body.role is Role.ADMIN:
        raise ValidationFailed("role must be owner, sender or viewer", details=[{"field": "role"}])
    record, raw = auth.mint_key(deps(), tenant_id=tenant_id, name=body.name, role=body.role)
    return respond(
        201,
        KeyCreated(
            id=record.id,
            name=record.name,
            role=record.role.value,
            created_at=record.created_at,
            key=raw,
        ),
    )


@router.get("/api/keys", summary="List API keys (never their secrets)", tags=["keys"])
def list_keys(
    limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: Annotated[str | None, Query()] = None
) -> Page[KeyView]:
    _, tenant_id = tenant(router, OWNER)
    items, last = deps().tenancy.list_keys(tenant_id, limit, decode_cursor(cursor))
    views = [
        KeyView(id=k.id, name=k.name, role=k.role.value, created_at=k.created_at) for k in items
    ]
    return Page[KeyView].model_validate(page(views, last))


@router.delete(
    "/api/keys/<key_id>",
    summary="Revoke an API key at once",
    tags=["keys"],
    responses={204: {"description": "revoked"}},
)
def delete_key(key_id: str) -> Response[None]:
    _, tenant_id = tenant(router, OWNER)
    if not deps().tenancy.delete_key(tenant_id, key_id):
        raise NotFound("no such key")
    return Response(status_code=204)
