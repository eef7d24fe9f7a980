"""Users with passwords (Argon2id) and throttled logins."""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sendrail.domain.addresses import normalize
from sendrail.domain.models import Role, User
from sendrail.errors import TooManyRequests, Unauthorized
from sendrail.services import sessions
from sendrail.services.deps import Deps

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
_hasher = PasswordHasher()  # Argon2id, memory-hard (64 MiB, t=3 by default)
# Verified against when the user does not exist, so timing does not reveal who exists.
_DUMMY = _hasher.hash("not a real password, only for constant-time misses")


def create_owner(deps: Deps, tenant_id: str, email: str, password: str) -> User:
    return create(deps, tenant_id, email, password, Role.OWNER)


def create(deps: Deps, tenant_id: str, email: str, password: str, role: Role) -> User:
    user = User(
        email=normalize(email),
        tenant_id=tenant_id,
        role=role,
        password_hash=_hasher.hash(password),
        created_at=deps.clock.now(),
    )
    deps.tenancy.put_user(user)
    return user


def _window(deps: Deps) -> tuple[str, int]:
    now = deps.clock.now()
    size = int(WINDOW.total_seconds())
    start = int(now.timestamp()) // size * size
    return str(start), start + size - int(now.timestamp())


def login(deps: Deps, email: str, password: str) -> tuple[str, int]:
    """A session token and its expiry (epoch seconds). Throttled per address."""
    try:
        address = normalize(email)
    except ValueError:
        address = email.strip().lower()[:320]
    window, retry_after = _window(deps)
    if deps.tenancy.login_failures(address, window) >= MAX_FAILURES:
        raise TooManyRequests("too many failed logins; try again later", retry_after=retry_after)
    user = deps.tenancy.get_user(address)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY, password)
        if user is None:
            raise VerifyMismatchError
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        deps.tenancy.record_login_failure(address, window, deps.clock.now() + WINDOW * 2)
        raise Unauthorized("wrong email or password") from None
    return sessions.issue(deps, tenant_id=user.tenant_id, role=user.role, email=user.email)
