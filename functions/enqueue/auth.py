"""Who is calling, and may they? Every authenticated route calls :func:`need` first."""

from __future__ import annotations

from typing import Any, Protocol

from sendrail.domain.models import Role
from sendrail.services import auth, rate_limits
from sendrail.services.auth import Principal

from functions.enqueue.wiring import deps, settings


class HasEvent(Protocol):
    @property
    def current_event(self) -> Any: ...


def need(app: HasEvent, roles: frozenset[Role]) -> Principal:
    headers = app.current_event.headers or {}
    authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    principal = auth.authenticate(deps(), authorization)
    rate_limits.admit(deps(), principal, settings().api_rate_limit)
    auth.require(principal, roles)
    return principal


def client_of(app: HasEvent) -> str:
    """The caller's address as API Gateway saw it (login throttling counts per client)."""
    identity = (app.current_event.raw_event.get("requestContext") or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "-")


def tenant(app: HasEvent, roles: frozenset[Role]) -> tuple[Principal, str]:
    """The caller and their tenant (the admin key has none: 403 on tenant routes)."""
    principal = need(app, roles)
    return principal, principal.tenant()
