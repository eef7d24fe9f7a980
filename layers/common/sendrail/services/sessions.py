"""Session tokens from ``POST /api/auth/login``: HMAC-signed, short-lived, stateless."""

from __future__ import annotations

from datetime import timedelta

from sendrail.domain.models import Role
from sendrail.domain.signing import SignatureError, sign, verify
from sendrail.errors import Unauthorized
from sendrail.services.auth import Principal
from sendrail.services.deps import Deps

SESSION_TTL = timedelta(hours=12)
_PURPOSE = "session"


def issue(deps: Deps, *, tenant_id: str, role: Role, email: str) -> tuple[str, int]:
    expires = int((deps.clock.now() + SESSION_TTL).timestamp())
    token = sign(
        deps.signing_key, _PURPOSE, {"t": tenant_id, "r": role.value, "u": email, "x": expires}
    )
    return token, expires


def principal_from_token(deps: Deps, token: str) -> Principal:
    try:
        claims = verify(deps.signing_key, _PURPOSE, token)
    except SignatureError as exc:
        raise Unauthorized("the session token is not valid") from exc
    if int(claims.get("x", 0)) < deps.clock.now().timestamp():
        raise Unauthorized("the session token has expired")
    user = deps.tenancy.get_user(str(claims["u"]))
    if user is None or user.tenant_id != claims["t"]:
        raise Unauthorized("the session token is not valid")
    return Principal(role=user.role, tenant_id=user.tenant_id, user_email=user.email)
