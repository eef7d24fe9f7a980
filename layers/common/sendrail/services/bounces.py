"""Bounces and complaints: classified, then applied.

Hard bounces and complaints suppress the address for the tenant (and stop its unsent
mail); the recipient of a hard bounce shows ``bounced``; soft bounces are counted. A
mailbox whose bounce or complaint rate over the last seven days passes the tenant's
threshold (SES's review levels by default) is paused with the reason.

Raw DSNs are classified with flufl.bounce and the RFC 3464 ``Status:`` codes of their
``message/delivery-status`` part (5.x.x permanent, 4.x.x transient)."""

from __future__ import annotations

import email
import re
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses
from enum import StrEnum
from typing import Any

from sendrail.domain.addresses import InvalidAddress, normalize
from sendrail.domain.models import MailboxStatus, Recipient, RecipientStatus, SuppressionReason
from sendrail.errors import ValidationFailed
from sendrail.observability import count, logger
from sendrail.services import counters, suppressions, webhooks
from sendrail.services.deps import Deps
from sendrail.storage import stats


class Kind(StrEnum):
    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"


@dataclass(frozen=True)
class Event:
    email: str
    kind: Kind
    detail: str = ""
    message_id: str | None = None  # the original message's Message-ID, when known


@dataclass
class Applied:
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    unmatched: int = 0
    paused_mailboxes: list[str] = field(default_factory=list)


_STATUS = re.compile(r"^\s*([245])\.\d{1,3}\.\d{1,3}\s*$")
_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


def _address(value: bytes | str) -> str | None:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    text = text.strip().strip("<>")
    if text.lower().startswith("rfc822;"):
        text = text[7:].strip()
    try:
        return normalize(text)
    except InvalidAddress:
        return None


def _original_message_id(message: Message) -> str | None:
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "text/rfc822-headers"):
            payload: Any = part.get_payload()
            if isinstance(payload, list) and payload:
                found = payload[0].get("Message-ID")
                if found:
                    return str(found).strip()
            else:  # text/rfc822-headers, maybe quoted-printable: parse the decoded headers
                raw = part.get_payload(decode=True)
                text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload)
                found = HeaderParser().parsestr(text.lstrip()).get("Message-ID")
                match = _MESSAGE_ID.search(str(found or ""))
                if match:
                    return match.group(0)
    return None


def _delivery_status(message: Message) -> dict[str, Kind]:
    """Per final recipient, hard or soft, from RFC 3464 status codes."""
    found: dict[str, Kind] = {}
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks: Any = part.get_payload()
        for block in blocks if isinstance(blocks, list) else []:
            recipient = block.get("Final-Recipient") or block.get("Original-Recipient")
            status = _STATUS.match(str(block.get("Status", "")))
            address = _address(str(recipient)) if recipient else None
            if address and status:
                if status.group(1) == "5":
                    found[address] = Kind.HARD
                elif status.group(1) == "4":
                    found.setdefault(address, Kind.SOFT)
    return found


def _usable_from(message: Message) -> None:
    """flufl.bounce's detectors read the first address of ``From`` and raise IndexError
    when there is none (no ``From``, or an empty one): such a message is classified as
    from the null sender ``<>``, which is what it says."""
    if not getaddresses([str(message.get("from", ""))]):
        del message["from"]
        message["From"] = "<>"


def classify_dsn(raw: bytes) -> list[Event]:
    from flufl.bounce import all_failures  # noqa: PLC0415 - only bounce intake needs it

    message = email.message_from_bytes(raw)
    if not message.keys():
        raise ValidationFailed(
            "the body is not a mail message (no header could be read)",
            details=[{"field": "body", "reason": "not a DSN"}],
        )
    _usable_from(message)
    temporary, permanent = all_failures(message)
    kinds: dict[str, Kind] = {}
    for value in permanent:
        if (address := _address(value)) is not None:
            kinds[address] = Kind.HARD
    for value in temporary:
        if (address := _address(value)) is not None:
            kinds.setdefault(address, Kind.SOFT)
    kinds.update(_delivery_status(message))  # explicit status codes win
    original = _original_message_id(message)
    return [Event(address, kind, "DSN", original) for address, kind in sorted(kinds.items())]


def classify_ses(notification: dict[str, Any]) -> list[Event]:
    """SES's Bounce/Complaint notifications (or event publishing's ``eventType``)."""
    kind = notification.get("notificationType") or notification.get("eventType")
    mail = notification.get("mail") or {}
    message_id = (mail.get("commonHeaders") or {}).get("messageId")
    for header in mail.get("headers") or []:
        if str(header.get("name", "")).lower() == "message-id":
            message_id = header.get("value")
    events = []
    if kind == "Bounce":
        bounce = notification.get("bounce") or {}
        hard = bounce.get("bounceType") == "Permanent"
        for r in bounce.get("bouncedRecipients") or []:
            address = _address(str(r.get("emailAddress", "")))
            if address:
                detail = str(r.get("diagnosticCode") or bounce.get("bounceSubType") or "")[:300]
                events.append(Event(address, Kind.HARD if hard else Kind.SOFT, detail, message_id))
    elif kind == "Complaint":
        complaint = notification.get("complaint") or {}
        for r in complaint.get("complainedRecipients") or []:
            address = _address(str(r.get("emailAddress", "")))
            if address:
                detail = str(complaint.get("complaintFeedbackType") or "complaint")
                events.append(Event(address, Kind.COMPLAINT, detail, message_id))
    return events


def campaign_of(message_id: str | None) -> str | None:
    """Our Message-IDs are ``<campaign id>.<hash>@<domain>``."""
    if not message_id:
        return None
    match = _MESSAGE_ID.search(message_id)
    if match is None:
        return None
    local = match.group(0)[1:].split("@", 1)[0]
    campaign_id = local.split(".", 1)[0]
    return campaign_id if campaign_id.startswith(("cmp_", "msg_")) else None


def apply(deps: Deps, events: list[Event], tenant_id: str | None = None) -> Applied:
    """Apply events; with ``tenant_id`` (an authenticated DSN upload) only that tenant's
    recipients are touched."""
    applied = Applied()
    now = deps.clock.now()
    mailboxes: set[tuple[str, str]] = set()
    for event in events:
        campaign_id = campaign_of(event.message_id)
        recipient = deps.recipients.get(campaign_id, event.email) if campaign_id else None
        if recipient is None and tenant_id is not None:
            for candidate in deps.recipients.campaigns_of(tenant_id, event.email):
                found = deps.recipients.get(candidate, event.email)
                if found is not None and found.status in (
                    RecipientStatus.SENT,
                    RecipientStatus.BOUNCED,
                ):
                    recipient = found
        if recipient is None or (tenant_id is not None and recipient.tenant_id != tenant_id):
            applied.unmatched += 1
            continue
        tenant = recipient.tenant_id
        campaign = deps.campaigns.get(tenant, recipient.campaign_id)
        deltas: dict[str, int] = {}
        if event.kind is Kind.HARD:
            applied.hard += 1
            suppressions.suppress(deps, tenant, event.email, SuppressionReason.BOUNCED)
            moved = deps.recipients.set_status(
                recipient.campaign_id,
                event.email,
                RecipientStatus.BOUNCED,
                now,
                only_from=[RecipientStatus.SENT],
                error=f"bounced: {event.detail}"[:500],
            )
            if moved is not None and campaign is not None:
                counters.add(deps, campaign, {"sent": -1, "bounced": 1})
            deltas = {"bounced": 1}
            if moved is not None:
                webhooks.emit(deps, tenant, "bounced", _event_data(recipient, event))
        elif event.kind is Kind.COMPLAINT:
            applied.complaints += 1
            suppressions.suppress(deps, tenant, event.email, SuppressionReason.COMPLAINED)
            deltas = {"complained": 1}
            webhooks.emit(deps, tenant, "complained", _event_data(recipient, event))
        else:
            applied.soft += 1
            deltas = {"soft_bounced": 1}
        counters.events(deps, tenant, recipient.campaign_id, recipient.mailbox_id, deltas)
        if recipient.mailbox_id and event.kind is not Kind.SOFT:
            mailboxes.add((tenant, recipient.mailbox_id))
    for tenant, mailbox_id in sorted(mailboxes):
        if _pause_if_over(deps, tenant, mailbox_id):
            applied.paused_mailboxes.append(mailbox_id)
    return applied


def _pause_if_over(deps: Deps, tenant_id: str, mailbox_id: str) -> bool:
    settings = deps.settings.sending(tenant_id)
    now = deps.clock.now()
    days = deps.stats.range(
        stats.mailbox_key(mailbox_id),
        stats.day_bucket(now - timedelta(days=6)),
        stats.day_bucket(now),
    )
    sent = sum(d.get("sent", 0) for _, d in days)
    if sent < settings.rate_min_sent:
        return False
    bounced = sum(d.get("bounced", 0) for _, d in days)
    complained = sum(d.get("complained", 0) for _, d in days)
    reason = None
    if bounced / sent >= settings.bounce_rate_pause:
        limit = settings.bounce_rate_pause
        reason = f"bounce rate {bounced / sent:.1%} over 7 days (pause at {limit:.1%})"
    elif complained / sent >= settings.complaint_rate_pause:
        reason = (
            f"complaint rate {complained / sent:.2%} over 7 days "
            f"(pause at {settings.complaint_rate_pause:.2%})"
        )
    if reason is None:
        return False
    paused = deps.mailboxes.set_status(
        tenant_id,
        mailbox_id,
        MailboxStatus.PAUSED,
        reason=reason,
        now=now,
        only_if={MailboxStatus.ACTIVE},
    )
    if paused:  # an operator is alarmed on this (infra/constructs/monitoring.py)
        webhooks.emit(
            deps, tenant_id, "mailbox_paused", {"mailbox_id": mailbox_id, "reason": reason}
        )
        count("MailboxPausedForRate")
        logger.warning(
            "mailbox paused for its rate",
            extra={"tenant_id": tenant_id, "mailbox_id": mailbox_id, "reason": reason},
        )
    return paused


def _event_data(recipient: Recipient, event: Event) -> dict[str, str]:
    """What a ``bounced`` or ``complained`` webhook event says."""
    return {
        "email": event.email,
        "campaign_id": recipient.campaign_id,
        "mailbox_id": recipient.mailbox_id or "",
        "detail": event.detail[:500],
    }
