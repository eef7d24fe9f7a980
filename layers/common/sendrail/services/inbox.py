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
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesHeaderParser

from sendrail.domain.inbox_classify import Classified, InboxKind, classify
from sendrail.domain.mime import recipient_digest
from sendrail.domain.models import Mailbox, Recipient, Reply, ReplyKind, SuppressionReason
from sendrail.services import bounces, counters, suppressions
from sendrail.services.deps import Deps


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
