"""Signing in and out from a browser (the dashboard): the credential goes into an
``HttpOnly; SameSite=Lax`` cookie (``Secure`` except on the local stack), and the answer
holds the CSRF token the page sends back on every state-changing request."""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from pydantic import ConfigDict, Field, SecretStr, model_validator
from sendrail.clock import to_rfc3339
from sendrail.services import browser_sessions, sessions, users
from sendrail.services.auth import READ, Principal

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import client_of, need
from functions.enqueue.wiring import deps, settings

router = APIGatewayRouter()


class SignIn(ApiModel):
    """Either ``email`` and ``password``, or ``api_key``."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, min_length=3, max_length=320)
    password: SecretStr | None = Field(default=None, min_length=1, max_length=1024)
    api_key: SecretStr | None = Field(default=None, min_length=1, max_length=256)

    @model_validator(mode="after")
    def _one_way(self) -> SignIn:
        by_password = self.email is not None and self.password is not None
        if by_password == (self.api_key is not None):
            raise ValueError("send either email and password, or api_key")
        return self


class SignedIn(ApiModel):
    tenant_id: str | None
    role: str
    user: str | None = None
    csrf_token: str
    expires_at: str


def _cookie(value: str, max_age: int) -> Cookie:
    return Cookie(
        name=browser_sessions.COOKIE,
        value=value,
        path="/",
        secure=settings().stage != "local",
        http_only=True,
        max_age=max_age,
        same_site=SameSite.LAX_MODE,
    )


@router.post(
    "/api/auth/session",
    summary="Sign in from a browser: sets the session cookie, returns the CSRF token",
    description=(
        "For the dashboard at `/app/`. Send `{email, password}` or `{api_key}`. The answer "
        "sets `sendrail_session` (`HttpOnly; SameSite=Lax; Path=/`, `Secure` when deployed) "
        "and holds `csrf_token`: every request that changes something and is signed in by "
        "the cookie must send it as `X-CSRF-Token` (else `403 csrf_failed`). An API key is "
        "never put in the cookie: it holds a signed reference to the key, for 12 hours. "
        "Bearer callers never need the token."
    ),
    tags=["auth"],
)
def sign_in(body: SignIn) -> Response[SignedIn]:
    if body.email is not None and body.password is not None:
        cookie, expires = users.login(
            deps(), body.email, body.password.get_secret_value(), client_of(router)
        )
        principal = sessions.principal_from_token(deps(), cookie)
    else:
        key = body.api_key.get_secret_value() if body.api_key is not None else ""
        principal, cookie, expires = browser_sessions.for_key(deps(), key)
    max_age = max(0, expires - int(deps().clock.now().timestamp()))
    view = _view(principal, cookie, expires)
    return Response(
        status_code=200,
        content_type="application/json",
        body=view,
        headers={"Cache-Control": "no-store"},
        cookies=[_cookie(cookie, max_age)],
    )


def _view(principal: Principal, cookie: str, expires: int) -> SignedIn:
    return SignedIn(
        tenant_id=principal.tenant_id,
        role=principal.role.value,
        user=principal.user_email,
        csrf_token=browser_sessions.csrf_token(deps(), cookie),
        expires_at=to_rfc3339(datetime.fromtimestamp(expires, UTC)),
    )


@router.delete(
    "/api/auth/session",
    summary="Sign out from a browser: ends the session and clears the cookie",
    description="Needs `X-CSRF-Token` like every cookie write; the session ends at once.",
    tags=["auth"],
    responses={204: {"description": "signed out"}},
)
def sign_out() -> Response[None]:
    principal = need(router, READ)
    if principal.session_id is not None:
        sessions.end(deps(), principal.session_id)
    return Response(status_code=204, cookies=[_cookie("", 0)])
