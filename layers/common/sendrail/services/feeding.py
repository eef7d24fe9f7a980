"""Feeding SQS from DynamoDB, progressively.

Starting a campaign does not push all of its recipients into SQS at once. Every dispatch
run (and the start itself) feeds each running campaign about as many messages as its
mailboxes can send right now, walking the campaign's recipients in key order with a
cursor stored on the campaign. So:

- SQS stays short: deferrals (limits, windows) cost little, and idle runs are cheap
  (dispatch feeds again whenever its queues run dry, so throughput is not capped by it);
- a campaign that outlives SQS's 14-day retention loses nothing: DynamoDB holds every
  recipient, and a campaign whose feed reached the end while recipients are still
  ``queued`` is fed again from the start after :data:`REFEED_AFTER` (a message that went
  to a DLQ or expired is recovered; duplicates in SQS are harmless, claims are conditional);
- completion is decided from a consistent count of the recipients themselves, never from
  the queue;
- a claim whose dispatcher died is resolved when its SQS message comes back (the message
  is deleted only once the outcome is stored). Where the message cannot come back (it went
  to a DLQ; the campaign was paused or cancelled, so dispatch dropped it), the count that
  decides completion, and the sweep of a cancelled campaign, find the recipients left
  ``sending`` past their lease and hand them to dispatch's recovery
  (:attr:`FeedReport.expired_claims`). No index of claims is kept: it would cost two index
  writes per email.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sendrail.clock import Clock
from sendrail.domain import limits
from sendrail.domain.limits import LimitState
from sendrail.domain.models import (
    Campaign,
    CampaignStatus,
    Mailbox,
    Recipient,
    RecipientStatus,
    SendingSettings,
)
from sendrail.domain.provider_limits import effective
from sendrail.domain.windows import all_open
from sendrail.services import capacity, counters, imports
from sendrail.services.counters import CampaignCounters, CounterStore
from sendrail.services.deps import Deps
from sendrail.services.imports import ImportStore
from sendrail.services.provider_quotas import SesAccountQuota, ses_account_of
from sendrail.storage.queues import Outgoing, band_for

FEED_MIN = 20
FEED_MAX = 500  # per campaign per feeding; dispatch feeds again whenever its queues run dry
UNCAPPED_FEED = 200  # a mailbox with no cap at all counts as this much room
REFEED_AFTER = timedelta(hours=24)


# --- the port: what feeding needs of storage ------------------------------------------------


class QueueSender(Protocol):
    def send(self, queue: str, messages: Sequence[Outgoing]) -> list[str]: ...


class FeedRecipients(Protocol):
    def queued_after(
        self, campaign_id: str, cursor: str | None, limit: int, *, data_field: str | None = None
    ) -> tuple[list[tuple[str, Any]], str | None, bool]: ...

    def count_by_status(self, campaign_id: str) -> dict[str, int]: ...

    def claimed(self, campaign_id: str) -> list[tuple[str, datetime | None]]: ...

    def set_status(
        self,
        campaign_id: str,
        email: str,
        to: RecipientStatus,
        now: datetime,
        *,
        only_from: Iterable[RecipientStatus],
        error: str | None = None,
    ) -> Recipient | None: ...


class FeedCampaigns(CampaignCounters, Protocol):
    def active(self) -> list[Campaign]: ...

    def transition(
        self,
        tenant_id: str,
        campaign_id: str,
        allowed_from: Iterable[CampaignStatus],
        to: CampaignStatus,
        now: datetime,
        *,
        doc_updates: Mapping[str, Any] | None = None,
        counter_set: Mapping[str, int] | None = None,
        feed_reset: bool = False,
    ) -> Campaign | None: ...

    def advance_feed(
        self,
        tenant_id: str,
        campaign_id: str,
        expected: str | None,
        cursor: str | None,
        done: bool,
        now: datetime,
        *,
        deindex: bool = False,
    ) -> bool: ...

    def reset_feed(self, tenant_id: str, campaign_id: str) -> None: ...

    def set_imports_pending(self, tenant_id: str, campaign_id: str, value: int) -> None: ...


class MailboxLister(Protocol):
    def all_for_tenant(self, tenant_id: str) -> list[Mailbox]: ...


class SendingSettingsReader(Protocol):
    def sending(self, tenant_id: str) -> SendingSettings: ...


class LimitReader(Protocol):
    def read(self, subjects: Iterable[str]) -> dict[str, LimitState]: ...


class FeedStore(CounterStore, ImportStore, Protocol):
    """Everything feeding reads and writes; ``Deps`` provides it, and so does the
    benchmarks' in-memory store."""

    @property
    def clock(self) -> Clock: ...

    @property
    def queues(self) -> QueueSender: ...

    @property
    def recipients(self) -> FeedRecipients: ...

    @property
    def campaigns(self) -> FeedCampaigns: ...

    @property
    def mailboxes(self) -> MailboxLister: ...

    @property
    def settings(self) -> SendingSettingsReader: ...

    @property
    def limits(self) -> LimitReader: ...


def message_body(campaign: Campaign, email: str, timezone: str | None = None) -> dict[str, str]:
    body = {"t": campaign.tenant_id, "c": campaign.id, "e": email}
    if timezone:
        body["z"] = str(timezone)[:64]
    return body


def enqueue(deps: FeedStore, campaign: Campaign, items: list[tuple[str, str | None]]) -> None:
    if not items:
        return
    queue = band_for(campaign.priority)
    messages = [
        Outgoing(id=str(i), body=message_body(campaign, email, tz))
        for i, (email, tz) in enumerate(items)
    ]
    failed = deps.queues.send(queue, messages)
    if failed:
        raise RuntimeError(f"SQS refused {len(failed)} message(s) for {campaign.id}")


def budget(
    deps: FeedStore,
    campaign: Campaign,
    ses_account: SesAccountQuota | None = None,
    ses_region: str = "",
) -> int:
    """How many messages to feed now: what the campaign's mailboxes can send right away
    under the limits dispatch enforces (``provider_limits.effective``: SES mailboxes within
    the account's quota in ``ses_region`` when ``ses_account`` tells it, all of them
    together), nothing while every window that applies to all recipients is closed."""
    now = deps.clock.now()
    settings = deps.settings.sending(campaign.tenant_id)
    if not settings.enabled:
        return 0
    windows = capacity.windows_for(
        settings,
        campaign.model_copy(update={"window": None})
        if campaign.recipient_timezone_field
        else campaign,
    )
    if windows and not all_open(windows, now):
        return 0
    mailboxes = capacity.pool(campaign, deps.mailboxes.all_for_tenant(campaign.tenant_id))
    if not mailboxes:
        return 0
    ses = ses_account_of(mailboxes, ses_account)
    found = {m.id: effective(m, ses) for m in mailboxes}
    subjects = {
        capacity.mailbox_subject(m.id): capacity.mailbox_rules(m, now, ses, limits=found[m.id])
        for m in mailboxes
    }
    shared = {m.id: capacity.shared_subjects(found[m.id], ses_region) for m in mailboxes}
    shared_rules = {s: rules for pairs in shared.values() for s, rules in pairs}
    states = deps.limits.read([*subjects, *shared_rules])
    # Each mailbox's room, then each group sharing a limit (an SES account) within it.
    groups: dict[tuple[str, ...], int] = {}
    for m in mailboxes:
        subject = capacity.mailbox_subject(m.id)
        available = limits.available(states[subject], subjects[subject], now)
        key = tuple(s for s, _ in shared[m.id])
        groups[key] = groups.get(key, 0) + (UNCAPPED_FEED if available is None else available)
    room = 0
    for key, own in groups.items():
        for subject in key:
            available = limits.available(states[subject], shared_rules[subject], now)
            own = own if available is None else min(own, available)
        room += own
    if room <= 0:
        return 0
    return max(FEED_MIN, min(FEED_MAX, room))


def feed(
    deps: FeedStore,
    campaign: Campaign,
    limit: int | None = None,
    ses_account: SesAccountQuota | None = None,
    ses_region: str = "",
) -> int:
    """Feed one running campaign; returns how many messages went to SQS.

    Each page is *claimed* first: the cursor moves conditionally from where this feeder
    found it, and only the feeder whose move succeeded enqueues that page, so two
    dispatchers feeding at once do not both enqueue it. (A feeder that dies between the
    two leaves its page out of SQS; the daily recount in :func:`run` feeds it again.)"""
    if campaign.status is not CampaignStatus.RUNNING or campaign.feed_done:
        return 0
    wanted = budget(deps, campaign, ses_account, ses_region) if limit is None else limit
    if wanted <= 0:
        return 0
    cursor = campaign.feed_cursor
    fed = 0
    for _ in range(5):  # a few pages at most per run
        found, after, done = deps.recipients.queued_after(
            campaign.id,
            cursor,
            max(wanted - fed, FEED_MIN),
            data_field=campaign.recipient_timezone_field,
        )
        if not deps.campaigns.advance_feed(
            campaign.tenant_id, campaign.id, cursor, None if done else after, done, deps.clock.now()
        ):
            break  # another feeder took this page
        enqueue(
            deps, campaign, [(email, tz if isinstance(tz, str) else None) for email, tz in found]
        )
        fed += len(found)
        cursor = after
        if done or fed >= wanted:
            break
    return fed


def sweep_cancelled(
    deps: FeedStore,
    campaign: Campaign,
    budget: int = 5000,
    expired: list[tuple[str, str]] | None = None,
) -> int:
    """Mark up to ``budget`` unsent recipients of a cancelled campaign ``cancelled``. The
    sweep ends once no recipient is left ``sending``: expired claims are added to
    ``expired`` for dispatch's recovery."""
    if campaign.status is not CampaignStatus.CANCELLED or campaign.feed_done:
        return 0
    now = deps.clock.now()
    cancelled = 0
    seen = 0
    cursor = campaign.feed_cursor
    done = False
    while seen < budget:
        found, cursor, done = deps.recipients.queued_after(campaign.id, cursor, min(1000, budget))
        seen += max(len(found), 1)
        for email, _ in found:
            if deps.recipients.set_status(
                campaign.id,
                email,
                RecipientStatus.CANCELLED,
                now,
                only_from=[RecipientStatus.QUEUED],
            ):
                cancelled += 1
        if done:
            break
    if cancelled:
        counters.add(deps, campaign, {"queued": -cancelled, "cancelled": cancelled})
    if done and _claims_left(deps, campaign, now, expired):
        done = False  # claims still out: look again next run (their messages are dropped)
    deps.campaigns.advance_feed(
        campaign.tenant_id,
        campaign.id,
        campaign.feed_cursor,
        None if done else cursor,
        done,
        now,
        deindex=done,
    )
    return cancelled


def delete_recipients(deps: Deps, campaign: Campaign) -> int:
    return deps.recipients.delete_all(campaign.id)


@dataclass
class FeedReport:
    active: int = 0  # campaigns in the active index (scheduled, running, paused, cancelling)
    started: int = 0
    fed: int = 0
    completed: int = 0
    swept: int = 0
    completed_campaigns: list[tuple[str, str]] = field(default_factory=list)  # (tenant, id)
    # (campaign, email) left ``sending`` by a dispatcher that died: for recovery to resolve
    expired_claims: list[tuple[str, str]] = field(default_factory=list)


def try_complete(
    deps: FeedStore, campaign: Campaign, expired: list[tuple[str, str]] | None = None
) -> bool:
    """Complete the campaign if a consistent count finds nothing queued or sending;
    otherwise repair the counters and feed again from the start. While claims are out,
    nothing is repaired, and those whose lease expired are added to ``expired``."""
    counted = deps.recipients.count_by_status(campaign.id)
    verified = {
        name: counted.get(name, 0)
        for name in (
            "queued",
            "deferred",
            "sending",
            "sent",
            "failed",
            "cancelled",
            "suppressed",
            "bounced",
        )
    }
    verified["total"] = sum(n for status, n in counted.items() if status != "deferred")
    now = deps.clock.now()
    if verified["sending"]:
        # Claims are out (counters count a claim only with its outcome): the counters are
        # repaired once their dispatchers, or recovery for the expired ones, settle them.
        if expired is not None:
            _claims_left(deps, campaign, now, expired)
    else:
        # Repair drift (a dispatcher that died between two counter updates) on the campaign
        # and the tenant's queue totals alike, then complete if nothing is left.
        counters.add(
            deps,
            campaign,
            {name: verified[name] - getattr(campaign.counts, name) for name in verified},
        )
        if verified["queued"] == 0:
            moved = deps.campaigns.transition(
                campaign.tenant_id,
                campaign.id,
                {CampaignStatus.RUNNING},
                CampaignStatus.COMPLETED,
                now,
                doc_updates={"completed_at": now},
            )
            return moved is not None
    if verified["queued"]:
        deps.campaigns.reset_feed(campaign.tenant_id, campaign.id)
    return False


def _claims_left(
    deps: FeedStore, campaign: Campaign, now: datetime, expired: list[tuple[str, str]] | None
) -> bool:
    """Add the campaign's expired claims to ``expired`` (dispatch's recovery resolves
    them); True if claims remain that will not be: live ones, or any when there is no
    ``expired`` to add to."""
    left = False
    for email, lease_until in deps.recipients.claimed(campaign.id):
        if expired is not None and (lease_until is None or lease_until <= now):
            expired.append((campaign.id, email))
        else:
            left = True
    return left


def run(
    deps: FeedStore, ses_account: SesAccountQuota | None = None, ses_region: str = ""
) -> FeedReport:
    """Look after every active campaign: start the due scheduled ones, feed the running
    ones, complete the finished ones, sweep the cancelled ones."""
    report = FeedReport()
    now = deps.clock.now()
    for campaign in deps.campaigns.active():
        tenant_id, campaign_id = campaign.tenant_id, campaign.id
        report.active += 1
        if campaign.status is CampaignStatus.SCHEDULED:
            if campaign.scheduled_at is None or campaign.scheduled_at <= now:
                started = deps.campaigns.transition(
                    tenant_id,
                    campaign_id,
                    {CampaignStatus.SCHEDULED},
                    CampaignStatus.RUNNING,
                    now,
                    doc_updates={"started_at": now},
                    feed_reset=True,
                )
                if started is None:
                    continue
                report.started += 1
                campaign = started
            else:
                continue
        if campaign.status is CampaignStatus.CANCELLED:
            report.swept += sweep_cancelled(deps, campaign, expired=report.expired_claims)
            continue
        if campaign.status is not CampaignStatus.RUNNING:
            continue
        if not campaign.feed_done:
            report.fed += feed(deps, campaign, ses_account=ses_account, ses_region=ses_region)
            continue
        counts = campaign.counts
        stale = campaign.fed_at is None or now - campaign.fed_at > REFEED_AFTER
        finished = (counts.queued <= 0 and counts.sending <= 0) or stale
        if campaign.imports_pending > 0:
            # Recipients are still being imported; once nothing else is left, check the
            # import records themselves (the counter is only a hint).
            if finished and imports.pending_chunks(deps, campaign.id) == 0:
                deps.campaigns.set_imports_pending(tenant_id, campaign_id, 0)
            continue
        # Counters say done, or recipients are still queued a day after the feed ended (a
        # message lost to a DLQ or to SQS's retention): count for real, then complete, or
        # repair the counters and feed again from the start.
        if finished and try_complete(deps, campaign, report.expired_claims):
            report.completed += 1
            report.completed_campaigns.append((tenant_id, campaign_id))
    return report
