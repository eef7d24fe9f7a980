from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from sendrail.services import browser_sessions
from sendrail.services.auth import READ

from functions.enqueue.auth import need, session_cookie
from functions.enqueue.schemas import BrowserMe, Health, Me
from functions.enqueue.wiring import deps

router = APIGatewayRouter()


@router.get("/health", summary="Liveness", tags=["system"])
def health() -> Health:
    return Health(status="ok")


@router.get("/api/me", summary="Who am I", tags=["auth"])
def me() -> Me | BrowserMe:
    from sendrail.domain.models import Role  # noqa: PLC0415

    principal = need(router, READ | {Role.ADMIN})
    who = Me(tenant_id=principal.tenant_id, role=principal.role.value, user=principal.user_email)
    cookie = session_cookie(router)
    if cookie is None:
        return who
    return BrowserMe(**who.model_dump(), csrf_token=browser_sessions.csrf_token(deps(), cookie))
