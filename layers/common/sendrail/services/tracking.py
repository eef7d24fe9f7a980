"""Opens, clicks and unsubscribes, recorded from the public endpoints.

Counters go to the ``stats`` table: the campaign's totals and hour, the tenant's day and
the sending mailbox's day. Machine opens and clicks (privacy proxies, link scanners) are
counted apart (``machine_opens``, ``machine_clicks``) and left out of the rates.

A reader is never failed by our storage: the pixel and the redirect need only the signed
token (:func:`click_url`), and :func:`track` records the hit at once or, when DynamoDB
fails, queues it for the tracking function to record later (:func:`record`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from sendrail.domain import tracking
from sendrail.domain.models import Recipient, SuppressionReason
from sendrail.domain.tracking import Target
from sendrail.observability import count, logger
from sendrail.services import counters, suppressions, webhooks
from sendrail.services.deps import Deps
from sendrail.storage import stats
from sendrail.storage.queues import Outgoing

EVENTS = "events"  # the queue of hits recorded later
# What a failing AWS service raises through boto3 and pynamodb.
STORAGE_ERRORS: tuple[type[Exception], ...] = (BotoCoreError, ClientError, PynamoDBException)


@dataclass(frozen=True)
class Hit:
    """An open or a click, as the public endpoint received it."""

    purpose: str  # tracking.OPEN or tracking.CLICK
    token: str
    user_agent: str | None
    ip: str | None

    def body(self) -> dict[str, Any]:
        return {"p": self.purpose, "t": self.token, "a": self.user_agent, "i": self.ip}

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Hit:
        purpose, token = body.get("p"), body.get("t")
        if purpose not in (tracking.OPEN, tracking.CLICK) or not isinstance(token, str):
            raise ValueError("not a tracking hit")
        agent, ip = body.get("a"), body.get("i")
        return cls(
            purpose,
            token,
            agent if isinstance(agent, str) else None,
            ip if isinstance(ip, str) else None,
        )


def click_url(deps: Deps, token: str) -> str | None:
    """Where a click goes, from the verified token alone (no storage read)."""
    target = tracking.read(deps.signing_key, tracking.CLICK, token)
    return target.url if target is not None else None


def record(deps: Deps, hit: Hit) -> None:
    """Record a hit now; storage failures propagate (see :func:`track`)."""
    if hit.purpose == tracking.OPEN:
        record_open(deps, hit.token, hit.user_agent, hit.ip)
    else:
        record_click(deps, hit.token, hit.user_agent, hit.ip)


def track(deps: Deps, hit: Hit) -> None:
    """Record a hit without ever failing the reader: at once, or, while DynamoDB fails,
    through the ``events`` queue (recorded by the tracking function when it is back). A
    hit that neither could take is logged as lost, with an alert, never dropped silently."""
    try:
        record(deps, hit)
        return
    except STORAGE_ERRORS as exc:
        reason = type(exc).__name__
    try:
        lost = bool(deps.queues.send(EVENTS, [Outgoing(id="0", body=hit.body())]))
    except STORAGE_ERRORS:
        lost = True
    extra = {"purpose": hit.purpose, "reason": reason}
    if lost:
        count("TrackingEventsLost")
        logger.error("tracking event lost", extra={**extra, "alert": "tracking_event_lost"})
    else:
        count("TrackingEventsQueued")
        logger.warning("tracking event queued for later", extra=extra)


def _count(deps: Deps, target: Target, mailbox_id: str | None, deltas: Mapping[str, int]) -> None:
    counters.events(deps, target.tenant_id, target.campaign_id, mailbox_id, deltas)


def _verified(deps: Deps, purpose: str, token: str) -> tuple[Target, Recipient] | None:
    """The token's target and its recipient, if the token verifies, is not a proof's or
    a preview's (those record nothing), and its recipient exists for that tenant; None
    otherwise."""
    target = tracking.read(deps.signing_key, purpose, token)
    if target is None or target.test:
        return None
    recipient = deps.recipients.get(target.campaign_id, target.email)
    if recipient is None or recipient.tenant_id != target.tenant_id:
        return None
    return target, recipient


def record_open(deps: Deps, token: str, user_agent: str | None, ip: str | None) -> bool:
    """Count an open; False (and nothing recorded) for a bad token."""
    found = _verified(deps, tracking.OPEN, token)
    if found is None:
        return False
    target, recipient = found
    if tracking.is_machine(user_agent, ip):
        _count(deps, target, None, {"machine_opens": 1})
        return True
    # A repeat open (the recipient read above says so) writes only the counters; a first
    # one sets opened_at, conditionally, so two first opens at once count one.
    first = recipient.opened_at is None and bool(
        deps.recipients.mark_opened(target.campaign_id, target.email, deps.clock.now())
    )
    _count(deps, target, recipient.mailbox_id, {"opened": 1, "unique_opens": int(first)})
    count("Opened")
    if first:  # one webhook event per recipient's first open, not per image load
        webhooks.collect(deps, target.tenant_id, "opened", _event_data(target))
    return True


def link_hash(url: str) -> str:
    return hashlib.blake2s(url.encode(), digest_size=8).hexdigest()


def record_click(deps: Deps, token: str, user_agent: str | None, ip: str | None) -> str | None:
    """Count a click and return where to send the browser; None for a bad token (the
    caller answers 404: a tampered token never redirects)."""
    found = _verified(deps, tracking.CLICK, token)
    if found is None:
        return None
    target, recipient = found
    url = target.url
    if url is None:
        return None
    if tracking.is_machine(user_agent, ip):
        _count(deps, target, None, {"machine_clicks": 1})
        return url
    link = link_hash(url)
    firsts = deps.recipients.mark_clicked(target.campaign_id, target.email, link, deps.clock.now())
    first_ever, first_on_link = firsts if firsts is not None else (False, False)
    _count(deps, target, recipient.mailbox_id, {"clicked": 1, "unique_clicks": int(first_ever)})
    count("Clicked")
    webhooks.emit(deps, target.tenant_id, "clicked", {**_event_data(target), "url": url})
    deps.stats.add(
        stats.campaign_key(target.campaign_id),
        f"link#{link}",
        {"clicks": 1, "unique_clicks": int(first_on_link)},
        labels={"url": url},
    )
    return url


def unsubscribe_target(deps: Deps, token: str) -> Target | None:
    """Whom the token unsubscribes; a proof's or a preview's token shows its page too (and
    :func:`unsubscribe` then suppresses nobody)."""
    target = tracking.read(deps.signing_key, tracking.UNSUBSCRIBE, token)
    if target is not None and target.test:
        return target
    found = _verified(deps, tracking.UNSUBSCRIBE, token)
    return found[0] if found else None


def unsubscribe(deps: Deps, token: str) -> Target | None:
    """Suppress the address for its tenant at once and cancel its unsent mail in every
    campaign (RFC 8058 one-click, or the page's button). None for a bad token."""
    target = unsubscribe_target(deps, token)
    if target is None or target.test:
        return target
    already = deps.suppressions.get(target.tenant_id, target.email) is not None
    suppressions.suppress(deps, target.tenant_id, target.email, SuppressionReason.UNSUBSCRIBED)
    if not already:
        _count(deps, target, None, {"unsubscribed": 1})
        webhooks.emit(deps, target.tenant_id, "unsubscribed", _event_data(target))
    return target


def _event_data(target: Target) -> dict[str, str]:
    """What a webhook event says about a recipient."""
    return {"email": target.email, "campaign_id": target.campaign_id}
