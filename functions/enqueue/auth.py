"""Who is calling, and may they? Every authenticated route calls :func:`need` first.

A caller proves who they are with ``Authorization: Bearer`` (API clients) or, from the
dashboard, with the session cookie; a cookie caller's state-changing requests must also
carry ``X-CSRF-Token`` (see :mod:`sendrail.services.browser_sessions`)."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any, Protocol

from sendrail.domain.models import Role
from sendrail.services import auth, browser_sessions, rate_limits
from sendrail.services.auth import Principal

from functions.enqueue.wiring import deps, settings


class HasEvent(Protocol):
    @property
    def current_event(self) -> Any: ...


def header(app: HasEvent, name: str) -> str | None:
    headers = app.current_event.headers or {}
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def session_cookie(app: HasEvent) -> str | None:
    """The dashboard's session cookie, unless the caller sent a Bearer token (which wins)."""
    raw = header(app, "cookie")
    if not raw or header(app, "authorization"):
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(browser_sessions.COOKIE)
    return morsel.value if morsel is not None and morsel.value else None


def need(app: HasEvent, roles: frozenset[Role]) -> Principal:
    cookie = session_cookie(app)
    if cookie is not None:
        principal = browser_sessions.principal_from_cookie(deps(), cookie)
        browser_sessions.check_csrf(
            deps(),
            app.current_event.http_method,
            cookie,
            header(app, browser_sessions.CSRF_HEADER),
        )
    else:
        principal = auth.authenticate(deps(), header(app, "authorization"))
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
