"""Users with passwords (Argon2id), invitations, roles and throttled logins.

Login throttling counts failures per (address, client) and per client, never per address
alone: five wrong passwords from one client slow that client down and cannot lock the real
user (on another client) out. A distributed guesser is slowed by Argon2id's cost per try."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from sendrail.domain.addresses import normalize
from sendrail.domain.models import Role, User
from sendrail.domain.signing import SignatureError, sign, verify
from sendrail.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from sendrail.ids import new_id, new_secret
from sendrail.services import sessions
from sendrail.services.auth import Principal
from sendrail.services.deps import Deps

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MAX_FAILURES = 5  # per address and client in a window
MAX_CLIENT_FAILURES = 20  # per client in a window, whatever the addresses
WINDOW = timedelta(minutes=15)
INVITE_TTL = timedelta(hours=72)
_INVITE = "invite"


@cache
def _hasher() -> PasswordHasher:
    """Argon2id, memory-hard (64 MiB, t=3 by default); argon2 loads on the first password
    (most of enqueue's cold starts use API keys, never a password)."""
    from argon2 import PasswordHasher  # noqa: PLC0415

    return PasswordHasher()


# Verified against when the user does not exist, so timing does not reveal who exists: a
# stored hash with the hasher's parameters (tests/unit check they still match), not one
# computed at import, which would cost every cold start of enqueue an Argon2 hash.
_DUMMY = (
    "$argon2id$v=19$m=65536,t=3,p=4$FeOsQ+S4yuddS/hlktXfWA$"
    "tEawoJz/zI5TVZ1J40fZ/z9+GgKcHAgFfFm4VGucdoU"
)


@dataclass(frozen=True)
class Added:
    user: User
    invite_token: str | None  # set when the user was invited (no password given)


def create_owner(deps: Deps, tenant_id: str, email: str, password: str) -> User:
    return create(deps, tenant_id, email, password, Role.OWNER)


def create(deps: Deps, tenant_id: str, email: str, password: str | None, role: Role) -> User:
    now = deps.clock.now()
    user = User(
        id=new_id("usr", now),
        email=normalize(email),
        tenant_id=tenant_id,
        role=role,
        password_hash=_hasher().hash(password) if password is not None else None,
        created_at=now,
        invite_nonce=None if password is not None else new_secret(16),
    )
    deps.tenancy.put_user(user)
    return user


def add(deps: Deps, tenant_id: str, email: str, role: Role, password: str | None) -> Added:
    """A new colleague: with a password, ready to log in; without, invited by a link."""
    if role is Role.ADMIN:
        raise ValidationFailed("role must be owner, sender or viewer", details=[{"field": "role"}])
    user = create(deps, tenant_id, email, password, role)
    return Added(user, None if password is not None else _invite_token(deps, user))


def _invite_token(deps: Deps, user: User) -> str:
    expires = int((deps.clock.now() + INVITE_TTL).timestamp())
    claims = {"u": user.id, "e": user.email, "n": user.invite_nonce, "x": expires}
    return sign(deps.signing_key, _INVITE, claims)


def accept_invite(deps: Deps, token: str, password: str) -> tuple[str, int]:
    """Set the invited user's password (once, before the link expires); a new session."""
    try:
        claims = verify(deps.signing_key, _INVITE, token)
    except SignatureError as exc:
        raise BadRequest("the invitation link is not valid") from exc
    if int(claims.get("x", 0)) < deps.clock.now().timestamp():
        raise BadRequest("the invitation link has expired; ask an owner for a new one")
    user = deps.tenancy.get_user(str(claims.get("e", "")))
    if (
        user is None
        or user.id != claims.get("u")
        or user.invite_nonce is None
        or user.invite_nonce != claims.get("n")
    ):
        raise BadRequest("the invitation link was used already or is no longer valid")
    updated = user.model_copy(
        update={"password_hash": _hasher().hash(password), "invite_nonce": None}
    )
    deps.tenancy.save_user(updated)
    return sessions.issue(deps, updated)


def _user(deps: Deps, tenant_id: str, user_id: str) -> User:
    found = next((u for u in deps.tenancy.list_users(tenant_id) if u.id == user_id), None)
    if found is None:
        raise NotFound("no such user")
    return found


def _active_owners(deps: Deps, tenant_id: str) -> list[User]:
    users = deps.tenancy.list_users(tenant_id)
    return [u for u in users if u.role is Role.OWNER and u.password_hash is not None]


def _keep_an_owner(deps: Deps, user: User) -> None:
    owners = _active_owners(deps, user.tenant_id)
    if user.role is Role.OWNER and [u.id for u in owners] == [user.id]:
        raise Conflict("the last owner cannot be removed or demoted; make another owner first")


def list_users(deps: Deps, tenant_id: str) -> list[User]:
    return sorted(deps.tenancy.list_users(tenant_id), key=lambda u: u.created_at)


def change_role(deps: Deps, tenant_id: str, user_id: str, role: Role) -> User:
    if role is Role.ADMIN:
        raise ValidationFailed("role must be owner, sender or viewer", details=[{"field": "role"}])
    user = _user(deps, tenant_id, user_id)
    if role is not Role.OWNER:
        _keep_an_owner(deps, user)
    updated = user.model_copy(update={"role": role})
    deps.tenancy.save_user(updated)
    return updated


def remove(deps: Deps, tenant_id: str, user_id: str) -> None:
    """Delete the user; their sessions stop working at once (they name a user no more)."""
    user = _user(deps, tenant_id, user_id)
    _keep_an_owner(deps, user)
    deps.tenancy.delete_user(user.email)
    sessions.end_all(deps, user.id)


def logout(deps: Deps, principal: Principal) -> None:
    if principal.session_id is None:
        raise BadRequest("only a session can log out; revoke an API key with DELETE /api/keys")
    sessions.end(deps, principal.session_id)


def change_password(
    deps: Deps, principal: Principal, current: str, new: str, client: str = "-"
) -> None:
    """Set the caller's own password; every other session of theirs ends. Wrong current
    passwords count as failed logins (a stolen session cannot guess the password)."""
    if principal.session_id is None or principal.user_email is None:
        raise BadRequest("log in as the user to change their password")
    user = deps.tenancy.get_user(principal.user_email)
    if user is None:
        raise Unauthorized("the session has ended; log in again")
    pair, whole_client = _subjects(user.email, client)
    _throttle(deps, pair, whole_client)
    if not _matches(user, current):
        _failed(deps, pair, whole_client)
        raise Forbidden("the current password is wrong")
    deps.tenancy.save_user(user.model_copy(update={"password_hash": _hasher().hash(new)}))
    sessions.end_all(deps, user.id, keep=principal.session_id)


def _matches(user: User | None, password: str) -> bool:
    stored = user.password_hash if user is not None else None
    from argon2.exceptions import (  # noqa: PLC0415
        InvalidHashError,
        VerificationError,
        VerifyMismatchError,
    )

    try:
        _hasher().verify(stored or _DUMMY, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return stored is not None


def _window(deps: Deps) -> tuple[str, int]:
    now = deps.clock.now()
    size = int(WINDOW.total_seconds())
    start = int(now.timestamp()) // size * size
    return str(start), start + size - int(now.timestamp())


def login(deps: Deps, email: str, password: str, client: str = "-") -> tuple[str, int]:
    """A session token and its expiry (epoch seconds). Throttled per address and client,
    and per client."""
    try:
        address = normalize(email)
    except ValueError:
        address = email.strip().lower()[:320]
    pair, whole_client = _subjects(address, client)
    _throttle(deps, pair, whole_client)
    user = deps.tenancy.get_user(address)
    if user is None or not _matches(user, password):
        if user is None:
            _matches(None, password)  # the same Argon2 cost as a wrong password
        _failed(deps, pair, whole_client)
        raise Unauthorized("wrong email or password")
    return sessions.issue(deps, user)


def _subjects(address: str, client: str) -> tuple[str, str]:
    """The throttle's two counters: this address from this client, and this client."""
    client = client[:64] or "-"
    return f"{address}|{client}", f"client|{client}"


def _throttle(deps: Deps, pair: str, whole_client: str) -> None:
    window, retry_after = _window(deps)
    if (
        deps.tenancy.login_failures(pair, window) >= MAX_FAILURES
        or deps.tenancy.login_failures(whole_client, window) >= MAX_CLIENT_FAILURES
    ):
        raise TooManyRequests("too many failed logins; try again later", retry_after=retry_after)


def _failed(deps: Deps, pair: str, whole_client: str) -> None:
    window, _ = _window(deps)
    expires = deps.clock.now() + WINDOW * 2
    deps.tenancy.record_login_failure(pair, window, expires)
    deps.tenancy.record_login_failure(whole_client, window, expires)
