"""Admission: which received messages may be sent now.

Dropped: malformed bodies (to the dead-letter queue), the same recipient twice in one
intake, campaigns no longer running (resuming feeds again from DynamoDB), suppressed
addresses (marked ``suppressed``). Deferred: mail outside a window that applies to it
(tenant, campaign, the recipient's own timezone), until the windows next overlap, and
mail of a tenant whose sending is disabled. Used by the run's main thread only."""

from __future__ import annotations

import random
import time

from sendrail.domain.models import Campaign, CampaignStatus, RecipientStatus
from sendrail.domain.windows import all_open, next_open_all
from sendrail.services import capacity
from sendrail.services.dispatch.ledger import Ledger
from sendrail.services.dispatch.ports import DispatchStore
from sendrail.services.dispatch.tenants import Tenants
from sendrail.services.dispatch.work import DispatchOptions, DispatchReport, Work
from sendrail.storage.queues import MAX_VISIBILITY, Outgoing, QueueMessage


class Admission:
    def __init__(
        self,
        store: DispatchStore,
        tenants: Tenants,
        ledger: Ledger,
        report: DispatchReport,
        options: DispatchOptions,
        rng: random.Random,
    ) -> None:
        self._store = store
        self._tenants = tenants
        self._ledger = ledger
        self._report = report
        self._options = options
        self._rng = rng
        self._campaigns: dict[tuple[str, str], tuple[Campaign | None, float]] = {}

    def campaign(self, tenant_id: str, campaign_id: str) -> Campaign | None:
        """Read at most once a second (``campaign_ttl_seconds``): a pause is seen at once by
        the next intake of any run."""
        key = (tenant_id, campaign_id)
        cached = self._campaigns.get(key)
        if cached is None or time.monotonic() - cached[1] >= self._options.campaign_ttl_seconds:
            cached = (self._store.campaigns.get(tenant_id, campaign_id), time.monotonic())
            self._campaigns[key] = cached
        return cached[0]

    def admit(self, messages: list[QueueMessage]) -> list[Work]:
        work = self._parse(messages)
        work = self._not_suppressed(work)
        return self._within_windows(work)

    def _parse(self, messages: list[QueueMessage]) -> list[Work]:
        work: list[Work] = []
        seen: set[tuple[str, str, str]] = set()
        for message in messages:
            body = message.body
            t, c, e = body.get("t"), body.get("c"), body.get("e")
            if not (isinstance(t, str) and isinstance(c, str) and isinstance(e, str)):
                self._dead_letter(message, "malformed message body")
                continue
            if (t, c, e) in seen:  # the same recipient twice in one intake
                self._report.skipped += 1
                self._ledger.ack(message, None)
                continue
            seen.add((t, c, e))
            tz = body.get("z")
            item = Work(message, t, c, e, tz if isinstance(tz, str) else None)
            item.campaign = self.campaign(t, c)
            if item.campaign is None or item.campaign.status is not CampaignStatus.RUNNING:
                # Paused: resuming feeds again from DynamoDB. Cancelled/completed/gone:
                # nothing to send. Either way this message has done its job.
                self._report.skipped += 1
                self._ledger.ack(message, None)
                continue
            work.append(item)
        return work

    def _not_suppressed(self, work: list[Work]) -> list[Work]:
        suppressed = self._store.suppressions.which((w.tenant_id, w.email) for w in work)
        kept = []
        now = self._store.clock.now()
        for item in work:
            if (item.tenant_id, item.email) not in suppressed:
                kept.append(item)
                continue
            changed = self._store.recipients.set_status(
                item.campaign_id,
                item.email,
                RecipientStatus.SUPPRESSED,
                now,
                only_from=[RecipientStatus.QUEUED],
            )
            if changed and item.campaign is not None:
                self._ledger.count(item.campaign, {"queued": -1, "suppressed": 1})
            self._report.skipped += 1
            self._ledger.ack(item.message, None)
        return kept

    def _within_windows(self, work: list[Work]) -> list[Work]:
        now = self._store.clock.now()
        kept = []
        for item in work:
            assert item.campaign is not None
            settings = self._tenants.get(item.tenant_id).policy.settings
            if not settings.enabled:
                self.defer(item, self._options.disabled_retry_seconds)
                continue
            windows = capacity.windows_for(settings, item.campaign, item.timezone)
            if windows and not all_open(windows, now):
                opens = next_open_all(windows, now)
                wait = (opens - now).total_seconds() if opens else MAX_VISIBILITY
                self.defer(item, max(1.0, wait + self._rng.uniform(0, 2)))
                continue
            kept.append(item)
        return kept

    def defer(self, item: Work, seconds: float) -> None:
        self._report.deferred += 1
        self._ledger.ack(item.message, seconds)

    def _dead_letter(self, message: QueueMessage, why: str) -> None:
        self._report.dead_lettered += 1
        self._store.queues.send(
            f"{message.queue}-dlq",
            [Outgoing(id="0", body={"error": why, "raw": message.raw[:200_000]})],
        )
        self._store.queues.delete(message.queue, [message.receipt])
