"""Signing in from a browser (the dashboard): the credential lives in an ``HttpOnly``
cookie, and every state-changing request must also carry a CSRF token that only a page of
our origin can read (it comes back from sign-in and ``GET /api/me``).

The cookie holds either a session token (email and password, see :mod:`sessions`) or, for
API-key sign-in, a signed reference to the key's hash with an expiry: never the key itself.
Deleting the key or ending the session stops the cookie at once, as for Bearer callers."""

from __future__ import annotations

import hashlib
import hmac

from sendrail.domain.signing import SignatureError, sign, verify
from sendrail.errors import CsrfFailed, Unauthorized
from sendrail.services import sessions
from sendrail.services.auth import Principal, hash_key
from sendrail.services.deps import Deps

COOKIE = "sendrail_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_KEY_PURPOSE = "dashboard-key"
_CSRF_PURPOSE = "csrf"


def for_key(deps: Deps, raw_key: str) -> tuple[Principal, str, int]:
    """Sign in with an API key: its principal, the cookie value and its expiry (epoch s)."""
    record = deps.tenancy.key_by_hash(hash_key(raw_key))
    if record is None or "." in raw_key:
        raise Unauthorized("the API key is not valid")
    expires = int((deps.clock.now() + sessions.SESSION_TTL).timestamp())
    cookie = sign(deps.signing_key, _KEY_PURPOSE, {"h": record.key_hash, "x": expires})
    principal = Principal(role=record.role, tenant_id=record.tenant_id, key_id=record.id)
    return principal, cookie, expires


def principal_from_cookie(deps: Deps, cookie: str) -> Principal:
    """Who the cookie signs in: a key reference or a session token."""
    try:
        claims = verify(deps.signing_key, _KEY_PURPOSE, cookie)
    except SignatureError:
        return sessions.principal_from_token(deps, cookie)
    if int(claims.get("x", 0)) < deps.clock.now().timestamp():
        raise Unauthorized("the sign-in has expired; sign in again")
    record = deps.tenancy.key_by_hash(str(claims.get("h", "")))
    if record is None:
        raise Unauthorized("the API key is not valid")
    return Principal(role=record.role, tenant_id=record.tenant_id, key_id=record.id)


def csrf_token(deps: Deps, cookie: str) -> str:
    """The CSRF token bound to this cookie (derived, so nothing more is stored)."""
    digest = hashlib.sha256(cookie.encode()).hexdigest()[:32]
    return sign(deps.signing_key, _CSRF_PURPOSE, {"c": digest})


def check_csrf(deps: Deps, method: str, cookie: str, header: str | None) -> None:
    if method.upper() in SAFE_METHODS:
        return
    if not header or not hmac.compare_digest(header.encode(), csrf_token(deps, cookie).encode()):
        raise CsrfFailed(f"send the {CSRF_HEADER} header that sign-in returned")
