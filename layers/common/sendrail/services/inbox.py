"""Applying what the inbox watcher reads: one message of a sending mailbox's inbox at a time.

- a DSN goes through the bounce service (hard: recipient ``bounced``, suppression, the
  mailbox's rates and automatic pause; soft: counted);
- a human reply sets the recipient's ``replied_at`` (the first one counts ``replied``) and
  is listed by ``GET /api/replies``;
- an auto-reply is counted apart (``auto_replied``) and listed with ``kind: auto_reply``;
- a reply asking to unsubscribe suppresses the address (``unsubscribed``).

A message that is not ours costs no DynamoDB write (and, unless it is a DSN, no read): a
reply names one of our Message-IDs and its sender's address hashes to the one in it
(``mime.recipient_digest``), else it is ignored. Each applied message is claimed once per
mailbox (by its Message-ID), so reading it again after a reset changes nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser

from sendrail.clock import to_rfc3339
from sendrail.domain.inbox_classify import Classified, InboxKind, classify
from sendrail.domain.mime import recipient_digest
from sendrail.domain.models import (
    OAUTH_PROVIDERS,
    Mailbox,
    MailboxStatus,
    Recipient,
    Reply,
    ReplyKind,
    SuppressionReason,
)
from sendrail.providers.base import ProviderConfig
from sendrail.providers.inbox_base import InboxReader, InboxUnavailable
from sendrail.providers.inboxes import open_inbox, readable
from sendrail.services import bounces, counters, suppressions, webhooks
from sendrail.services.deps import Deps
from sendrail.services.oauth import MailboxTokens


@dataclass
class InboxReport:
    read: int = 0
    hard: int = 0
    soft: int = 0
    replies: int = 0
    auto_replies: int = 0
    unsubscribes: int = 0
    ignored: int = 0  # not ours, or nothing to apply
    duplicates: int = 0  # applied on an earlier read
    paused_mailboxes: list[str] = field(default_factory=list)

    def add(self, other: InboxReport) -> None:
        for name in ("read", "hard", "soft", "replies", "auto_replies", "unsubscribes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.ignored += other.ignored
        self.duplicates += other.duplicates
        self.paused_mailboxes += other.paused_mailboxes


def message_key(raw: bytes) -> str:
    """Stable across providers and re-reads: the Message-ID, else the bytes."""
    found = BytesHeaderParser().parsebytes(raw).get("Message-ID")
    basis = str(found).strip().encode() if found else raw
    return hashlib.sha256(basis).hexdigest()[:32]


def handle(
    deps: Deps,
    mailbox: Mailbox,
    raw: bytes,
    received_at: datetime | None = None,
    report: InboxReport | None = None,
) -> InboxKind:
    """Classify and apply one inbox message of ``mailbox``."""
    report = report if report is not None else InboxReport()
    report.read += 1
    found = classify(raw)
    if found.kind is InboxKind.DSN:
        _bounce(deps, mailbox, raw, report)
        return found.kind
    if found.kind is InboxKind.OTHER:
        report.ignored += 1
        return found.kind
    recipient = _recipient(deps, mailbox.tenant_id, found)
    if recipient is None:
        report.ignored += 1
        return found.kind
    now = deps.clock.now()
    if not deps.inbox.claim(mailbox.id, message_key(raw), now):
        report.duplicates += 1
        return found.kind
    when = received_at or found.date or now
    if found.kind is InboxKind.UNSUBSCRIBE:
        report.unsubscribes += 1
        already = deps.suppressions.get(recipient.tenant_id, recipient.email) is not None
        suppressions.suppress(
            deps, recipient.tenant_id, recipient.email, SuppressionReason.UNSUBSCRIBED
        )
        if not already:
            _count(deps, recipient, {"unsubscribed": 1})
            data = {"email": recipient.email, "campaign_id": recipient.campaign_id}
            webhooks.emit(deps, recipient.tenant_id, "unsubscribed", data)
        return found.kind
    if found.kind is InboxKind.REPLY:
        report.replies += 1
        first = deps.recipients.mark_replied(recipient.campaign_id, recipient.email, when)
        if first:
            _count(deps, recipient, {"replied": 1})
        kind = ReplyKind.REPLY
    else:
        report.auto_replies += 1
        _count(deps, recipient, {"auto_replied": 1})
        kind = ReplyKind.AUTO_REPLY
    reply = Reply(
        tenant_id=recipient.tenant_id,
        campaign_id=recipient.campaign_id,
        email=recipient.email,
        mailbox_id=mailbox.id,
        received_at=when,
        subject=found.subject[:300],
        snippet=found.snippet,
        kind=kind,
    )
    deps.inbox.add_reply(reply, message_key(raw))
    if kind is ReplyKind.REPLY:
        data = {
            "email": recipient.email,
            "campaign_id": recipient.campaign_id,
            "mailbox_id": mailbox.id,
            "subject": reply.subject,
            "received_at": to_rfc3339(when),
        }
        webhooks.emit(deps, recipient.tenant_id, "replied", data)
    return found.kind


def _recipient(deps: Deps, tenant_id: str, found: Classified) -> Recipient | None:
    """The recipient of ours the message answers: a Message-ID of ours it names whose
    recipient hash is one of its sender addresses."""
    for ours in found.ours:
        for sender in found.senders:
            if recipient_digest(sender) != ours.digest:
                continue
            recipient = deps.recipients.get(ours.job_id, sender)
            if recipient is not None and recipient.tenant_id == tenant_id:
                return recipient
    return None


def _count(deps: Deps, recipient: Recipient, deltas: dict[str, int]) -> None:
    counters.events(deps, recipient.tenant_id, recipient.campaign_id, recipient.mailbox_id, deltas)


def _bounce(deps: Deps, mailbox: Mailbox, raw: bytes, report: InboxReport) -> None:
    """Apply a DSN's events that concern the mailbox's tenant; nothing is written for a
    bounce of mail that is not ours."""
    events = [
        event
        for event in bounces.classify_dsn(raw)
        if bounces.campaign_of(event.message_id)
        or deps.recipients.campaigns_of(mailbox.tenant_id, event.email)
    ]
    if not events:
        report.ignored += 1
        return
    if not deps.inbox.claim(mailbox.id, message_key(raw), deps.clock.now()):
        report.duplicates += 1
        return
    applied = bounces.apply(deps, events, tenant_id=mailbox.tenant_id)
    report.hard += applied.hard
    report.soft += applied.soft
    report.ignored += int(not (applied.hard or applied.soft or applied.complaints))
    report.paused_mailboxes += applied.paused_mailboxes


# --- reading a mailbox's inbox -----------------------------------------------------------

# Without a checkpoint, a mailbox's inbox is read from its creation, at most this far back
# (a mailbox connected long ago, or given its IMAP settings late, is not read in full).
FIRST_READ = timedelta(days=7)


def watch(
    deps: Deps,
    mailbox: Mailbox,
    reader: InboxReader,
    limit: int = 500,
    should_stop: Callable[[], bool] = lambda: False,
) -> InboxReport:
    """Read and apply the messages that reached ``mailbox`` since its checkpoint (at most
    ``limit``, until ``should_stop()``), then move the checkpoint past the last one
    applied. A failure part-way keeps what was applied; the rest is read next time."""
    report = InboxReport()
    checkpoint = deps.inbox.checkpoint(mailbox.id)
    last = checkpoint
    since = max(mailbox.created_at, deps.clock.now() - FIRST_READ)
    try:
        for message in reader.read(checkpoint, since, limit, should_stop):
            handle(deps, mailbox, message.raw, message.received_at, report)
            last = message.checkpoint
            if should_stop():
                break
    finally:
        if last is not None and last != checkpoint:
            deps.inbox.save_checkpoint(mailbox.id, last)
    return report


def open_reader(deps: Deps, mailbox: Mailbox, config: ProviderConfig) -> InboxReader:
    if mailbox.provider in OAUTH_PROVIDERS:
        return open_inbox(mailbox, None, config, MailboxTokens(deps, config, mailbox))
    secret = deps.secrets.open(mailbox.imap_secret, mailbox.id) if mailbox.imap_secret else None
    return open_inbox(mailbox, secret, config)


WATCHED = frozenset({MailboxStatus.ACTIVE, MailboxStatus.PAUSED})


@dataclass
class WatchReport(InboxReport):
    mailboxes: int = 0
    unavailable: list[str] = field(default_factory=list)


def watch_all(
    deps: Deps,
    config: ProviderConfig,
    limit: int = 500,
    should_stop: Callable[[], bool] = lambda: False,
    opener: Callable[[Deps, Mailbox, ProviderConfig], InboxReader] = open_reader,
) -> WatchReport:
    """One run of the watcher: every readable mailbox (active or paused) of every tenant,
    at most ``limit`` messages each, until ``should_stop()``; a mailbox whose inbox cannot
    be read now is skipped until the next run."""
    total = WatchReport()
    after = None
    while not should_stop():
        tenants, after = deps.tenancy.list_tenants(100, after)
        for tenant in tenants:
            for mailbox in deps.mailboxes.all_for_tenant(tenant.id):
                if should_stop():
                    return total
                if mailbox.status not in WATCHED or not readable(mailbox):
                    continue
                total.mailboxes += 1
                reader = opener(deps, mailbox, config)
                try:
                    total.add(watch(deps, mailbox, reader, limit, should_stop))
                except InboxUnavailable:
                    total.unavailable.append(mailbox.id)
                finally:
                    reader.close()
        if not after:
            break
    return total
