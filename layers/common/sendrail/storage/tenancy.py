"""Tenants, API keys and users (``main`` table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError

from sendrail.domain.models import ApiKey, Role, Session, Tenant, User
from sendrail.errors import Conflict, NotFound
from sendrail.storage.codec import dump, get_or_none, is_conditional_failure, resume_key
from sendrail.storage.tables import MainItem

_GSI1_KEY = ("pk", "sk", "gsi1pk", "gsi1sk")  # a gsi1 query's start key


def _tenant_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


class TenancyRepo:
    # --- tenants ---------------------------------------------------------------------------

    def put_tenant(self, tenant: Tenant) -> None:
        MainItem(
            _tenant_pk(tenant.id),
            "TENANT",
            kind="tenant",
            tenant_id=tenant.id,
            gsi1pk="TENANTS",
            gsi1sk=tenant.id,
            doc=dump(tenant),
        ).save(MainItem.pk.does_not_exist())

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        item = get_or_none(MainItem, _tenant_pk(tenant_id), "TENANT")
        return Tenant.model_validate(item.doc) if item else None

    def list_tenants(
        self, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Tenant], dict[str, Any] | None]:
        start = resume_key(after, _GSI1_KEY, {"gsi1pk": "TENANTS"})
        result = MainItem.gsi1.query("TENANTS", limit=limit, last_evaluated_key=start)
        items = [Tenant.model_validate(i.doc) for i in result]
        return items, result.last_evaluated_key

    # --- API keys --------------------------------------------------------------------------

    def put_key(self, key: ApiKey) -> None:
        MainItem(
            f"KEY#{key.key_hash}",
            "KEY",
            kind="key",
            tenant_id=key.tenant_id,
            gsi1pk=f"T#{key.tenant_id or '-'}#KEYS",
            gsi1sk=key.id,
            doc=dump(key),
        ).save(MainItem.pk.does_not_exist())

    def key_by_hash(self, key_hash: str) -> ApiKey | None:
        item = get_or_none(MainItem, f"KEY#{key_hash}", "KEY")
        return ApiKey.model_validate(item.doc) if item else None

    def list_keys(
        self, tenant_id: str | None, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[ApiKey], dict[str, Any] | None]:
        partition = f"T#{tenant_id or '-'}#KEYS"
        start = resume_key(after, _GSI1_KEY, {"gsi1pk": partition}, {"pk": "KEY#"})
        result = MainItem.gsi1.query(partition, limit=limit, last_evaluated_key=start)
        return [ApiKey.model_validate(i.doc) for i in result], result.last_evaluated_key

    def delete_key(self, tenant_id: str | None, key_id: str) -> bool:
        for item in MainItem.gsi1.query(f"T#{tenant_id or '-'}#KEYS", MainItem.gsi1sk == key_id):
            MainItem(item.pk, item.sk).delete()
            return True
        return False

    # --- users -----------------------------------------------------------------------------

    @staticmethod
    def _user_item(user: User) -> MainItem:
        return MainItem(
            f"USER#{user.email}",
            "USER",
            kind="user",
            tenant_id=user.tenant_id,
            gsi1pk=f"T#{user.tenant_id}#USERS",
            gsi1sk=user.email,
            doc=dump(user),
        )

    def put_user(self, user: User) -> None:
        try:
            self._user_item(user).save(MainItem.pk.does_not_exist())
        except PutError as exc:
            if is_conditional_failure(exc):
                raise Conflict(f"a user with email {user.email} already exists") from exc
            raise

    def get_user(self, email: str) -> User | None:
        item = get_or_none(MainItem, f"USER#{email}", "USER")
        return User.model_validate(item.doc) if item else None

    def save_user(self, user: User) -> None:
        """Overwrite an existing user (role, password, invite); NotFound if it was deleted."""
        try:
            self._user_item(user).save(MainItem.pk.exists())
        except PutError as exc:
            if is_conditional_failure(exc):
                raise NotFound("no such user") from exc
            raise

    def list_users(self, tenant_id: str) -> list[User]:
        """Every user of the tenant (a team: tens, not thousands)."""
        return [User.model_validate(i.doc) for i in MainItem.gsi1.query(f"T#{tenant_id}#USERS")]

    def delete_user(self, email: str) -> None:
        MainItem(f"USER#{email}", "USER").delete()

    # --- sessions --------------------------------------------------------------------------

    def put_session(self, session: Session) -> None:
        MainItem(
            f"SESSION#{session.id}",
            "SESSION",
            kind="session",
            tenant_id=session.tenant_id,
            gsi1pk=f"USER#{session.user_id}#SESSIONS",
            gsi1sk=session.id,
            expires_at=session.expires_at,
            doc=dump(session),
        ).save()

    def get_session(self, session_id: str) -> Session | None:
        item = get_or_none(MainItem, f"SESSION#{session_id}", "SESSION")
        return Session.model_validate(item.doc) if item else None

    def delete_session(self, session_id: str) -> None:
        MainItem(f"SESSION#{session_id}", "SESSION").delete()

    def session_ids(self, user_id: str) -> list[str]:
        return [i.gsi1sk or "" for i in MainItem.gsi1.query(f"USER#{user_id}#SESSIONS")]

    # --- login throttle --------------------------------------------------------------------

    def record_login_failure(self, subject: str, window_key: str, expires: datetime) -> int:
        """One more failed login of ``subject`` (an address, a client, or both) in the window."""
        item = MainItem(f"LOGIN#{subject}", f"W#{window_key}")
        item.update(
            actions=[
                MainItem.failures.add(1),
                MainItem.kind.set("login_throttle"),
                MainItem.expires_at.set(expires),
            ],
        )
        return int(item.failures or 0)

    def login_failures(self, subject: str, window_key: str) -> int:
        item = get_or_none(MainItem, f"LOGIN#{subject}", f"W#{window_key}")
        return int(item.failures or 0) if item else 0


def role_of(value: str) -> Role:
    return Role(value)
