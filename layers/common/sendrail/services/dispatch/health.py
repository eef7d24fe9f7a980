"""Mailbox health as the run sees it: an error streak kept in DynamoDB, and a pause (or
``needs_reauth``) when a mailbox cannot send; its mail then goes to the others.

Used by the run's main thread only."""

from __future__ import annotations

from datetime import timedelta

from sendrail.domain.models import Mailbox, MailboxStatus
from sendrail.errors import MailboxSendError, SendError
from sendrail.services.dispatch.ports import DispatchStore
from sendrail.services.dispatch.tenants import Tenants
from sendrail.services.dispatch.work import DispatchOptions, DispatchReport


class MailboxHealth:
    def __init__(
        self,
        store: DispatchStore,
        tenants: Tenants,
        report: DispatchReport,
        options: DispatchOptions,
    ) -> None:
        self._store = store
        self._tenants = tenants
        self._report = report
        self._options = options
        self.paused: set[str] = set()  # mailboxes this run paused: they get nothing more

    def worked(self, mailbox: Mailbox) -> None:
        """The provider answered about the recipient: the streak ends."""
        current = self._tenants.mailbox(mailbox.tenant_id, mailbox.id) or mailbox
        if current.consecutive_errors:
            self._store.mailboxes.add_errors(mailbox.tenant_id, mailbox.id, -1)
            self._tenants.remember(current.model_copy(update={"consecutive_errors": 0}))

    def failed(self, mailbox: Mailbox, exc: SendError) -> None:
        """A temporary failure that was the mailbox's (not the recipient's, not throttling)."""
        streak = self._store.mailboxes.add_errors(mailbox.tenant_id, mailbox.id, 1)
        current = self._tenants.mailbox(mailbox.tenant_id, mailbox.id) or mailbox
        self._tenants.remember(current.model_copy(update={"consecutive_errors": streak}))
        if streak >= self._options.mailbox_error_threshold:
            self.pause(
                mailbox,
                MailboxSendError(
                    f"{streak} consecutive errors, last: {exc.message}", reason="failing"
                ),
            )

    def pause(self, mailbox: Mailbox, exc: MailboxSendError) -> None:
        if mailbox.id in self.paused:
            return
        self.paused.add(mailbox.id)
        self._report.mailboxes_paused += 1
        status = (
            MailboxStatus(exc.status)
            if exc.status in MailboxStatus._value2member_map_
            else MailboxStatus.PAUSED
        )
        now = self._store.clock.now()
        changed = self._store.mailboxes.set_status(
            mailbox.tenant_id,
            mailbox.id,
            status,
            reason=exc.message[:300],
            now=now,
            paused_until=now + timedelta(seconds=exc.retry_after) if exc.retry_after else None,
            only_if={MailboxStatus.ACTIVE},
        )
        if changed:
            kind = "mailbox_needs_reauth" if status is MailboxStatus.NEEDS_REAUTH else None
            data = {"mailbox_id": mailbox.id, "email": mailbox.email, "reason": exc.message[:300]}
            self._report.events.append((mailbox.tenant_id, kind or "mailbox_paused", data))
        if changed and status is MailboxStatus.NEEDS_REAUTH:
            self._report.needs_reauth += 1
