"""Mailboxes (``main`` table, partition of their tenant)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from sendrail.clock import to_rfc3339
from sendrail.domain.models import OAUTH_PROVIDERS, Mailbox, MailboxStatus
from sendrail.errors import Conflict, NotFound
from sendrail.storage.codec import (
    dump,
    get_or_none,
    is_conditional_failure,
    resume_key,
    save_versioned,
)
from sendrail.storage.tables import MainItem

_SEPARATE = {"status", "token_version", "consecutive_errors"}


def _pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def _sk(mailbox_id: str) -> str:
    return f"MBX#{mailbox_id}"


def _token_index(mailbox: Mailbox) -> tuple[str | None, str | None]:
    """Sparse index of OAuth mailboxes by token expiry, for the token refresher."""
    if (
        mailbox.provider in OAUTH_PROVIDERS
        and mailbox.status in (MailboxStatus.ACTIVE, MailboxStatus.PAUSED)
        and mailbox.token_expires_at is not None
    ):
        return "TOKENS", f"{to_rfc3339(mailbox.token_expires_at)}#{mailbox.tenant_id}#{mailbox.id}"
    return None, None


def to_item(mailbox: Mailbox) -> MainItem:
    gsi1pk, gsi1sk = _token_index(mailbox)
    item = MainItem(
        _pk(mailbox.tenant_id),
        _sk(mailbox.id),
        kind="mailbox",
        tenant_id=mailbox.tenant_id,
        status=mailbox.status.value,
        doc=dump(mailbox, exclude=_SEPARATE),
        token_version=mailbox.token_version,
        consecutive_errors=mailbox.consecutive_errors,
        gsi1pk=gsi1pk,
        gsi1sk=gsi1sk,
    )
    return item


def from_item(item: MainItem) -> Mailbox:
    doc: dict[str, Any] = dict(item.doc or {})
    doc["status"] = item.status
    doc["token_version"] = int(item.token_version or 0)
    doc["consecutive_errors"] = int(item.consecutive_errors or 0)
    return Mailbox.model_validate(doc)


class MailboxRepo:
    def create(self, mailbox: Mailbox) -> None:
        save_versioned(to_item(mailbox), None)

    def get(self, tenant_id: str, mailbox_id: str) -> tuple[Mailbox, int] | None:
        item = get_or_none(MainItem, _pk(tenant_id), _sk(mailbox_id))
        if item is None or item.kind != "mailbox":
            return None
        return from_item(item), int(item.version or 0)

    def require(self, tenant_id: str, mailbox_id: str) -> tuple[Mailbox, int]:
        """Like :meth:`get`, for a mailbox that must exist."""
        found = self.get(tenant_id, mailbox_id)
        if found is None:
            raise NotFound("no such mailbox")
        return found

    def page(
        self, tenant_id: str, limit: int | None = None, after: dict[str, Any] | None = None
    ) -> tuple[list[Mailbox], dict[str, Any] | None]:
        result = MainItem.query(
            _pk(tenant_id),
            MainItem.sk.startswith("MBX#"),
            limit=limit,
            last_evaluated_key=resume_key(
                after, ("pk", "sk"), {"pk": _pk(tenant_id)}, {"sk": "MBX#"}
            ),
            consistent_read=True,
        )
        return [from_item(i) for i in result], result.last_evaluated_key

    def all_for_tenant(self, tenant_id: str) -> list[Mailbox]:
        out: list[Mailbox] = []
        after = None
        while True:
            found, after = self.page(tenant_id, None, after)
            out.extend(found)
            if not after:
                return out

    def expiring(self, before: datetime, limit: int = 500) -> list[tuple[str, str]]:
        """(tenant id, mailbox id) of OAuth mailboxes whose access token expires before
        ``before``, soonest first: a query of the sparse token index, never a scan."""
        found = MainItem.gsi1.query(
            "TOKENS", MainItem.gsi1sk < f"{to_rfc3339(before)}#", limit=limit
        )
        out = []
        for item in found:
            _, tenant_id, mailbox_id = str(item.gsi1sk).split("#", 2)
            out.append((tenant_id, mailbox_id))
        return out

    def replace(self, mailbox: Mailbox, version: int) -> int:
        """Save a changed mailbox if nobody changed it since ``version``."""
        try:
            return save_versioned(to_item(mailbox), version)
        except PutError as exc:
            if is_conditional_failure(exc):
                raise Conflict("the mailbox changed meanwhile; read it again") from exc
            raise

    def set_status(
        self,
        tenant_id: str,
        mailbox_id: str,
        status: MailboxStatus,
        *,
        reason: str | None,
        now: datetime,
        paused_until: datetime | None = None,
        only_if: set[MailboxStatus] | None = None,
    ) -> bool:
        """Change status (and reason) in place; with ``only_if``, only from those statuses."""
        current = self.get(tenant_id, mailbox_id)
        if current is None:
            return False
        mailbox, version = current
        if only_if is not None and mailbox.status not in only_if:
            return False
        changed = mailbox.model_copy(
            update={
                "status": status,
                "pause_reason": reason,
                "paused_until": paused_until,
                "updated_at": now,
                "consecutive_errors": 0
                if status is MailboxStatus.ACTIVE
                else mailbox.consecutive_errors,
            }
        )
        try:
            self.replace(changed, version)
        except Conflict:
            return self.set_status(
                tenant_id,
                mailbox_id,
                status,
                reason=reason,
                now=now,
                paused_until=paused_until,
                only_if=only_if,
            )
        return True

    def add_errors(self, tenant_id: str, mailbox_id: str, delta: int) -> int:
        """Adjust the consecutive-error streak (``delta`` < 0 resets it); returns it."""
        item = MainItem(_pk(tenant_id), _sk(mailbox_id))
        try:
            if delta < 0:
                item.update(
                    actions=[MainItem.consecutive_errors.set(0)],
                    condition=MainItem.pk.exists(),
                )
            else:
                item.update(
                    actions=[MainItem.consecutive_errors.add(delta)],
                    condition=MainItem.pk.exists(),
                )
        except UpdateError as exc:
            if is_conditional_failure(exc):
                return 0
            raise
        return int(item.consecutive_errors or 0)
