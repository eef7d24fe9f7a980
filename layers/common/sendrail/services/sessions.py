"""Session tokens from ``POST /api/auth/login``: HMAC-signed and short-lived, each naming a
stored session so that one can be revoked (sign-out), or all of a user's (removal, a new
password). A token is valid while its signature, its expiry, its session and its user are."""

from __future__ import annotations

from datetime import timedelta

from sendrail.domain.models import Session, User
from sendrail.domain.signing import SignatureError, sign, verify
from sendrail.errors import Unauthorized
from sendrail.ids import new_id
from sendrail.services.auth import Principal
from sendrail.services.deps import Deps

SESSION_TTL = timedelta(hours=12)
_PURPOSE = "session"


def issue(deps: Deps, user: User) -> tuple[str, int]:
    """A new session for ``user``: the token and its expiry (epoch seconds)."""
    now = deps.clock.now()
    expires_at = (now + SESSION_TTL).replace(microsecond=0)
    session = Session(
        id=new_id("ses", now),
        tenant_id=user.tenant_id,
        user_id=user.id,
        email=user.email,
        created_at=now,
        expires_at=expires_at,
    )
    deps.tenancy.put_session(session)
    expires = int(expires_at.timestamp())
    return sign(deps.signing_key, _PURPOSE, {"s": session.id, "x": expires}), expires


def principal_from_token(deps: Deps, token: str) -> Principal:
    try:
        claims = verify(deps.signing_key, _PURPOSE, token)
    except SignatureError as exc:
        raise Unauthorized("the session token is not valid") from exc
    if int(claims.get("x", 0)) < deps.clock.now().timestamp():
        raise Unauthorized("the session token has expired")
    session = deps.tenancy.get_session(str(claims.get("s", "")))
    if session is None:
        raise Unauthorized("the session has ended; log in again")
    user = deps.tenancy.get_user(session.email)
    if user is None or user.id != session.user_id or user.tenant_id != session.tenant_id:
        raise Unauthorized("the session has ended; log in again")
    return Principal(
        role=user.role, tenant_id=user.tenant_id, user_email=user.email, session_id=session.id
    )


def end(deps: Deps, session_id: str) -> None:
    deps.tenancy.delete_session(session_id)


def end_all(deps: Deps, user_id: str, *, keep: str | None = None) -> int:
    """End every session of the user but ``keep``; how many ended."""
    ended = 0
    for session_id in deps.tenancy.session_ids(user_id):
        if session_id != keep:
            deps.tenancy.delete_session(session_id)
            ended += 1
    return ended
