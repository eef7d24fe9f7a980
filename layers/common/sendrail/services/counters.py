"""Recipient counters move in two places at once: on the campaign (its stats) and in the
tenant's queue totals per priority (``/api/queue/stats``), so the queue view is a handful
of reads, never a walk over every campaign."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from sendrail.domain.models import Campaign
from sendrail.services.deps import Deps
from sendrail.storage import stats

QUEUE_COUNTERS = ("queued", "deferred", "sending", "sent", "failed", "cleared")


def queue_bucket(priority: int) -> str:
    return f"queue#p{priority:02d}"


class CampaignCounters(Protocol):
    def add_counts(self, tenant_id: str, campaign_id: str, deltas: Mapping[str, int]) -> None: ...


class StatCounters(Protocol):
    def add(
        self, key: str, bucket: str, deltas: Mapping[str, int], expires: datetime | None = None
    ) -> None: ...


class CounterStore(Protocol):
    """What moving a campaign's counters needs (the port :func:`add` is written against)."""

    @property
    def campaigns(self) -> CampaignCounters: ...

    @property
    def stats(self) -> StatCounters: ...


def add(deps: CounterStore, campaign: Campaign, deltas: Mapping[str, int]) -> None:
    changes = {name: delta for name, delta in deltas.items() if delta}
    if not changes:
        return
    campaign_counters = {k: v for k, v in changes.items() if k != "cleared"}
    deps.campaigns.add_counts(campaign.tenant_id, campaign.id, campaign_counters)
    queue = {k: v for k, v in changes.items() if k in QUEUE_COUNTERS}
    deps.stats.add(stats.tenant_key(campaign.tenant_id), queue_bucket(campaign.priority), queue)


def add_by_id(deps: Deps, tenant_id: str, campaign_id: str, deltas: Mapping[str, int]) -> None:
    campaign = deps.campaigns.get(tenant_id, campaign_id)
    if campaign is not None:
        add(deps, campaign, deltas)


def events(
    deps: Deps,
    tenant_id: str,
    campaign_id: str,
    mailbox_id: str | None,
    deltas: Mapping[str, int],
) -> None:
    """Count tracked events (opens, clicks, bounces, complaints, unsubscribes) where the
    analytics read them: the campaign's hour (its totals are the sum of its hours), the
    tenant's day and, when known, the sending mailbox's day."""
    now = deps.clock.now()
    deps.stats.add(stats.campaign_key(campaign_id), stats.hour_bucket(now), deltas)
    deps.stats.add(stats.tenant_key(tenant_id), stats.day_bucket(now), deltas)
    if mailbox_id:
        deps.stats.add(stats.mailbox_key(mailbox_id), stats.day_bucket(now), deltas)
