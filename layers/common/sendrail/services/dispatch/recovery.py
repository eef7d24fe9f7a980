"""Recovery: claims whose dispatcher died between the claim and the outcome.

A recipient left ``sending`` past its lease is resolved when its SQS message comes back
(:meth:`Recovery.after_lost_claim`), or, when that message is gone, once feeding's count
finds it (:meth:`Recovery.expired_claims`): asked of the provider by Message-ID where it
can tell (Gmail, Outlook), else failed as ``unknown_outcome`` (or queued again when the
tenant opted into at-least-once); the write is conditional on the claim still being the
expired one. Also here: what a lane's failed claim means (already sent, cancelled, or
another dispatcher's live claim). Used by the run's main thread only."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from sendrail.domain.delivery import Outcome, settle
from sendrail.domain.models import Campaign, Mailbox, Recipient, RecipientStatus
from sendrail.errors import SendError
from sendrail.providers.base import Sender, SentLookup
from sendrail.services.dispatch.ledger import Ledger
from sendrail.services.dispatch.ports import DispatchStore, SenderSource
from sendrail.services.dispatch.tenants import Tenants
from sendrail.services.dispatch.work import DispatchOptions, DispatchReport, Work

CampaignReader = Callable[[str, str], Campaign | None]


class Recovery:
    def __init__(
        self,
        store: DispatchStore,
        tenants: Tenants,
        senders: SenderSource,
        campaign: CampaignReader,
        ledger: Ledger,
        report: DispatchReport,
        options: DispatchOptions,
    ) -> None:
        self._store = store
        self._tenants = tenants
        self._senders = senders
        self._campaign = campaign
        self._ledger = ledger
        self._report = report
        self._options = options
        self._lookups: dict[str, Sender] = {}

    def expired_claims(self, claims: Iterable[tuple[str, str]]) -> None:
        """Resolve these (campaign, email) if they are still claimed past their lease."""
        now = self._store.clock.now()
        for campaign_id, email in claims:
            current = self._store.recipients.get(campaign_id, email)
            if (
                current is not None
                and current.status is RecipientStatus.SENDING
                and current.lease_until is not None
                and current.lease_until <= now
            ):
                self.resolve(current)

    def after_lost_claim(self, item: Work) -> float | None:
        """A lane's claim failed: the recipient was not ``queued``. Returns when to see the
        message again (None: it has done its job)."""
        current = self._store.recipients.get(item.campaign_id, item.email)
        now = self._store.clock.now()
        if current is None or current.status is not RecipientStatus.SENDING:
            if current is not None and current.status is RecipientStatus.QUEUED:
                return 1.0  # it went back to queued meanwhile: try again
            self._report.skipped += 1  # already sent, failed, cancelled ...
            return None
        if current.lease_until and current.lease_until > now:
            # Another dispatcher's live claim (a duplicate message or a redelivery).
            return (current.lease_until - now).total_seconds() + 30
        self.resolve(current)
        return 1.0

    def resolve(self, recipient: Recipient) -> None:
        now = self._store.clock.now()
        outcome = self._ask_provider(recipient)
        settings = self._tenants.get(recipient.tenant_id).policy.settings
        if outcome is True:
            settled = settle(recipient, Outcome.SENT, now)
        elif outcome is False or settings.at_least_once:
            settled = settle(recipient, Outcome.RELEASED, now, error="claim expired; not sent")
        else:
            settled = settle(
                recipient,
                Outcome.FAILED,
                now,
                error="unknown_outcome: the dispatcher stopped during the send",
            )
        if self._store.recipients.resolve_claim(recipient, settled.recipient):
            self._report.recovered += 1
            campaign = self._campaign(recipient.tenant_id, recipient.campaign_id)
            if campaign is not None:
                self._ledger.count(campaign, settled.delta)

    def close(self) -> None:
        for sender in self._lookups.values():
            try:
                sender.close()
            except (OSError, SendError):
                continue
        self._lookups.clear()

    def _ask_provider(self, recipient: Recipient) -> bool | None:
        mailbox = self._tenants.mailbox(recipient.tenant_id, recipient.mailbox_id or "")
        if mailbox is None or not recipient.message_id:
            return None
        try:
            sender = self._sender(mailbox)
            if not isinstance(sender, SentLookup):
                return None
            since = (recipient.lease_until or self._store.clock.now()) - timedelta(
                seconds=self._options.lease_seconds + 3600
            )
            return sender.was_sent(recipient.message_id, since)
        except SendError:
            return None

    def _sender(self, mailbox: Mailbox) -> Sender:
        if mailbox.id not in self._lookups:
            self._lookups[mailbox.id] = self._senders.open(mailbox)
        return self._lookups[mailbox.id]
