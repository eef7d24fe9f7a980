"""API keys, principals and role checks.

Keys are 256-bit random strings shown once; only their SHA-256 is stored (a fast hash is
right for high-entropy keys; passwords use Argon2id, see ``services.users``). Lookup is one
consistent GetItem by hash, so a deleted key stops working at once."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sendrail.domain.models import ApiKey, Role, Tenant
from sendrail.errors import Forbidden, NotFound, Unauthorized
from sendrail.ids import new_id, new_secret
from sendrail.services.deps import Deps

KEY_PREFIX = "sr_"


@dataclass(frozen=True)
class Principal:
    role: Role
    tenant_id: str | None  # None only for the platform admin
    key_id: str | None = None
    user_email: str | None = None
    session_id: str | None = None  # set when the caller signed in (not an API key)

    def tenant(self) -> str:
        if self.tenant_id is None:
            raise Forbidden("this route needs a tenant key; the admin key manages tenants only")
        return self.tenant_id


# Which roles may do what: GET-only for viewers, everything but keys/users for senders.
READ = frozenset({Role.OWNER, Role.SENDER, Role.VIEWER})
WRITE = frozenset({Role.OWNER, Role.SENDER})
OWNER = frozenset({Role.OWNER})
ADMIN = frozenset({Role.ADMIN})


def require(principal: Principal, allowed: frozenset[Role]) -> None:
    if principal.role not in allowed:
        raise Forbidden(f"role {principal.role.value} may not do this")


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def mint_key(
    deps: Deps, *, tenant_id: str | None, name: str, role: Role, raw: str | None = None
) -> tuple[ApiKey, str]:
    """Create a key; returns (record, the raw key to show once)."""
    raw = raw or f"{KEY_PREFIX}{new_secret(32)}"
    now = deps.clock.now()
    record = ApiKey(
        id=new_id("key", now),
        tenant_id=tenant_id,
        name=name,
        role=role,
        created_at=now,
        key_hash=hash_key(raw),
    )
    deps.tenancy.put_key(record)
    return record, raw


def authenticate(deps: Deps, authorization: str | None) -> Principal:
    if not authorization:
        raise Unauthorized("missing Authorization: Bearer <token>")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("use Authorization: Bearer <token>")
    if "." not in token:  # API keys have no dots; session tokens are body.mac
        record = deps.tenancy.key_by_hash(hash_key(token))
        if record is None or not hmac.compare_digest(record.key_hash, hash_key(token)):
            raise Unauthorized("the API key is not valid")
        return Principal(role=record.role, tenant_id=record.tenant_id, key_id=record.id)
    from sendrail.services import sessions  # noqa: PLC0415 - only for session tokens

    return sessions.principal_from_token(deps, token)


def create_tenant(
    deps: Deps, name: str, *, tenant_id: str | None = None, owner_key: str | None = None
) -> tuple[Tenant, str]:
    now = deps.clock.now()
    tenant = Tenant(id=tenant_id or new_id("ten", now), name=name, created_at=now)
    deps.tenancy.put_tenant(tenant)
    _, raw = mint_key(deps, tenant_id=tenant.id, name="owner", role=Role.OWNER, raw=owner_key)
    return tenant, raw


def ensure_admin_key(deps: Deps, raw: str) -> None:
    """Install a platform admin key (idempotent): used at install and local start."""
    if deps.tenancy.key_by_hash(hash_key(raw)) is None:
        mint_key(deps, tenant_id=None, name="platform admin", role=Role.ADMIN, raw=raw)


def ensure_tenant(deps: Deps, tenant_id: str, name: str, owner_key: str) -> Tenant:
    """Create the tenant with this owner key unless it exists (idempotent)."""
    existing = deps.tenancy.get_tenant(tenant_id)
    if existing is not None:
        if deps.tenancy.key_by_hash(hash_key(owner_key)) is None:
            mint_key(deps, tenant_id=tenant_id, name="owner", role=Role.OWNER, raw=owner_key)
        return existing
    tenant, _ = create_tenant(deps, name, tenant_id=tenant_id, owner_key=owner_key)
    return tenant


def get_tenant(deps: Deps, tenant_id: str) -> Tenant:
    tenant = deps.tenancy.get_tenant(tenant_id)
    if tenant is None:
        raise NotFound("no such tenant")
    return tenant
