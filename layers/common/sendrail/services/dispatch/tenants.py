"""Per-tenant context for one run: its mailboxes and sending policy, read once and kept for
a short while; a mailbox whose timed pause has ended is made active again on the way."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sendrail.domain.models import Mailbox, MailboxStatus
from sendrail.services.capacity import TenantPolicy
from sendrail.services.dispatch.ports import DispatchStore


@dataclass
class TenantContext:
    policy: TenantPolicy
    mailboxes: dict[str, Mailbox]
    loaded: float


class Tenants:
    """Used by the run's main thread only."""

    def __init__(self, store: DispatchStore, ttl_seconds: float) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._cache: dict[str, TenantContext] = {}

    def get(self, tenant_id: str) -> TenantContext:
        ctx = self._cache.get(tenant_id)
        if ctx and time.monotonic() - ctx.loaded < self._ttl:
            return ctx
        now = self._store.clock.now()
        mailboxes = {}
        for mailbox in self._store.mailboxes.all_for_tenant(tenant_id):
            if (
                mailbox.status is MailboxStatus.PAUSED
                and mailbox.paused_until is not None
                and mailbox.paused_until <= now
                and self._store.mailboxes.set_status(
                    tenant_id,
                    mailbox.id,
                    MailboxStatus.ACTIVE,
                    reason=None,
                    now=now,
                    only_if={MailboxStatus.PAUSED},
                )
            ):
                mailbox = mailbox.model_copy(update={"status": MailboxStatus.ACTIVE})
            mailboxes[mailbox.id] = mailbox
        policy = TenantPolicy.build(
            tenant_id,
            self._store.settings.sending(tenant_id),
            self._store.settings.throttles(tenant_id),
        )
        ctx = TenantContext(policy, mailboxes, time.monotonic())
        self._cache[tenant_id] = ctx
        return ctx

    def mailbox(self, tenant_id: str, mailbox_id: str) -> Mailbox | None:
        return self.get(tenant_id).mailboxes.get(mailbox_id)

    def remember(self, mailbox: Mailbox) -> None:
        """Keep a changed copy (an error streak) for the rest of the cache's life."""
        ctx = self._cache.get(mailbox.tenant_id)
        if ctx is not None:
            ctx.mailboxes[mailbox.id] = mailbox
