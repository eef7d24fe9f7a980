"""A tenant's users (owners manage them), invitations, sign-out and password changes."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ConfigDict, Field, SecretStr
from sendrail.clock import to_rfc3339
from sendrail.domain.email_str import EmailStr
from sendrail.domain.models import Role, User
from sendrail.services import users
from sendrail.services.auth import OWNER, READ
from sendrail.services.users import INVITE_TTL

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import client_of, need, tenant
from functions.enqueue.schemas import respond
from functions.enqueue.wiring import deps

router = APIGatewayRouter()
Password = Annotated[SecretStr, Field(min_length=12, max_length=256)]


class UserCreate(ApiModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    role: Role
    password: Password | None = None


class UserPatch(ApiModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class UserView(ApiModel):
    id: str
    email: str
    role: str
    status: Literal["active", "invited"]
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserView:
        status: Literal["active", "invited"] = "active" if user.password_hash else "invited"
        return cls(
            id=user.id,
            email=user.email,
            role=user.role.value,
            status=status,
            created_at=user.created_at,
        )


class UserCreated(UserView):
    invite_url: str | None = None
    invite_expires_at: datetime | None = None


class UserList(ApiModel):
    items: list[UserView]
    next_cursor: str | None = None


class PasswordChange(ApiModel):
    model_config = ConfigDict(extra="forbid")

    current_password: SecretStr = Field(min_length=1, max_length=1024)
    new_password: Password


class InviteAccept(ApiModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=4096)
    password: Password


class SessionCreated(ApiModel):
    token: str
    expires_at: str


@router.post(
    "/api/users",
    summary="Add a user (without a password: an invitation link, shown once)",
    tags=["users"],
    responses={
        201: {"description": "created", "content": {"application/json": {"model": UserCreated}}}
    },
)
def create_user(body: UserCreate) -> Response[UserCreated]:
    _, tenant_id = tenant(router, OWNER)
    password = body.password.get_secret_value() if body.password is not None else None
    added = users.add(deps(), tenant_id, str(body.email), body.role, password)
    view = UserCreated(**UserView.of(added.user).model_dump())
    if added.invite_token is not None:
        base = deps().public_base_url.rstrip("/")
        view.invite_url = f"{base}/api/auth/invite?token={added.invite_token}"
        view.invite_expires_at = added.user.created_at + INVITE_TTL
    return respond(201, view)


@router.get("/api/users", summary="List the tenant's users", tags=["users"])
def list_users() -> UserList:
    _, tenant_id = tenant(router, OWNER)
    return UserList(items=[UserView.of(u) for u in users.list_users(deps(), tenant_id)])


@router.patch("/api/users/<user_id>", summary="Change a user's role", tags=["users"])
def patch_user(user_id: str, body: UserPatch) -> UserView:
    _, tenant_id = tenant(router, OWNER)
    return UserView.of(users.change_role(deps(), tenant_id, user_id, body.role))


@router.delete(
    "/api/users/<user_id>",
    summary="Remove a user; their sessions stop working at once",
    tags=["users"],
    responses={204: {"description": "removed"}},
)
def delete_user(user_id: str) -> Response[None]:
    _, tenant_id = tenant(router, OWNER)
    users.remove(deps(), tenant_id, user_id)
    return Response(status_code=204)


@router.post(
    "/api/auth/logout",
    summary="End the calling session",
    tags=["auth"],
    responses={204: {"description": "signed out"}},
)
def logout() -> Response[None]:
    principal = need(router, READ)
    users.logout(deps(), principal)
    return Response(status_code=204)


@router.post(
    "/api/auth/password",
    summary="Change one's own password; every other session ends",
    tags=["auth"],
    responses={204: {"description": "changed"}},
)
def change_password(body: PasswordChange) -> Response[None]:
    principal = need(router, READ)
    users.change_password(
        deps(),
        principal,
        body.current_password.get_secret_value(),
        body.new_password.get_secret_value(),
        client_of(router),
    )
    return Response(status_code=204)


@router.post(
    "/api/auth/invite",
    summary="Accept an invitation: set the password (once) and log in",
    tags=["auth"],
)
def accept_invite(body: InviteAccept) -> SessionCreated:
    token, expires = users.accept_invite(deps(), body.token, body.password.get_secret_value())
    return SessionCreated(token=token, expires_at=to_rfc3339(datetime.fromtimestamp(expires, UTC)))


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer">
<title>sendrail: set your password</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto">
<h1>Set your password</h1>
<form id="f"><input type="hidden" name="token" value="{token}">
<label>Password (12 characters or more)<br>
<input type="password" name="password" minlength="12" required></label>
<button type="submit">Set password</button></form><p id="r"></p>
<script>
document.getElementById("f").addEventListener("submit", async (e) => {{
  e.preventDefault();
  const f = e.target;
  const r = await fetch("invite", {{method: "POST", headers: {{"Content-Type": "application/json"}},
    body: JSON.stringify({{token: f.token.value, password: f.password.value}})}});
  document.getElementById("r").textContent = r.ok
    ? "Your password is set. You can log in now." : (await r.json()).error.message;
}});
</script></body></html>"""


@router.get(
    "/api/auth/invite",
    summary="The page an invitation link opens: it sets the password",
    tags=["auth"],
    responses={200: {"description": "the page", "content": {"text/html": {}}}},
)
def invite_page(token: Annotated[str, Query(min_length=1, max_length=4096)]) -> Response[str]:
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=_PAGE.format(token=html.escape(token, quote=True)),
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
        },
    )
