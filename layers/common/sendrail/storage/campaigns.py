"""Campaigns and single messages (``main`` table). A single message is a campaign of
kind ``message`` with one recipient, so dispatch treats both alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.expressions.update import Action

from sendrail.clock import to_rfc3339
from sendrail.domain.models import Campaign, CampaignCounts, CampaignKind, CampaignStatus
from sendrail.errors import Conflict
from sendrail.storage import system
from sendrail.storage.codec import (
    dump,
    get_or_none,
    is_conditional_failure,
    resume_key,
    save_versioned,
)
from sendrail.storage.tables import MainItem

ACTIVE = frozenset({CampaignStatus.SCHEDULED, CampaignStatus.RUNNING})
COUNTERS = (
    "total",
    "queued",
    "deferred",
    "sending",
    "sent",
    "failed",
    "cancelled",
    "suppressed",
    "bounced",
)
_SEPARATE = {"status", "counts", "feed_cursor", "feed_done", "fed_at", "imports_pending", "version"}


def _pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def _sk(campaign_id: str) -> str:
    return f"MSG#{campaign_id}" if campaign_id.startswith("msg_") else f"CAMP#{campaign_id}"


def _active_index(c: Campaign) -> tuple[str | None, str | None]:
    """Sparse index of campaigns dispatch must look after (scheduled or running)."""
    if c.status not in ACTIVE and not (c.status is CampaignStatus.CANCELLED and not c.feed_done):
        return None, None
    when = c.scheduled_at if c.status is CampaignStatus.SCHEDULED else c.started_at
    return "ACTIVE", f"{to_rfc3339(when or c.created_at)}#{c.tenant_id}#{c.id}"


def _to_item(c: Campaign) -> MainItem:
    gsi1pk, gsi1sk = _active_index(c)
    item = MainItem(
        _pk(c.tenant_id),
        _sk(c.id),
        kind=c.kind.value,
        tenant_id=c.tenant_id,
        status=c.status.value,
        doc=dump(c, exclude=_SEPARATE),
        gsi1pk=gsi1pk,
        gsi1sk=gsi1sk,
        feed_cursor=c.feed_cursor,
        feed_done=c.feed_done,
        fed_at=c.fed_at.timestamp() if c.fed_at else None,
        imports_pending=c.imports_pending,
    )
    for name in COUNTERS:
        setattr(item, f"n_{name}", getattr(c.counts, name))
    return item


def _from_item(item: MainItem) -> Campaign:
    doc: dict[str, Any] = dict(item.doc or {})
    doc["status"] = item.status
    doc["counts"] = CampaignCounts(
        **{name: int(getattr(item, f"n_{name}") or 0) for name in COUNTERS}
    )
    doc["feed_cursor"] = item.feed_cursor
    doc["feed_done"] = bool(item.feed_done)
    doc["fed_at"] = (
        datetime.fromtimestamp(float(item.fed_at), UTC) if item.fed_at is not None else None
    )
    doc["imports_pending"] = int(item.imports_pending or 0)
    doc["version"] = int(item.version or 0)
    return Campaign.model_validate(doc)


def _campaign(item: MainItem | None) -> Campaign | None:
    """The campaign (or single message) an item holds; None for no item or another kind."""
    if item is None or item.kind not in (CampaignKind.CAMPAIGN, CampaignKind.MESSAGE):
        return None
    return _from_item(item)


class CampaignRepo:
    def create(self, campaign: Campaign) -> Campaign:
        """Store a new campaign (or message); :class:`Conflict` if the id exists."""
        try:
            save_versioned(_to_item(campaign), None)
        except PutError as exc:
            if is_conditional_failure(exc):
                raise Conflict(f"{campaign.id} exists already") from exc
            raise
        if _active_index(campaign)[0]:  # a direct message: running from the start
            system.wake(campaign.updated_at)
        return campaign.model_copy(update={"version": 1})

    def get(self, tenant_id: str, campaign_id: str) -> Campaign | None:
        return _campaign(get_or_none(MainItem, _pk(tenant_id), _sk(campaign_id)))

    def page(
        self,
        tenant_id: str,
        limit: int,
        after: dict[str, Any] | None,
        kind: CampaignKind = CampaignKind.CAMPAIGN,
    ) -> tuple[list[Campaign], dict[str, Any] | None]:
        prefix = "MSG#" if kind is CampaignKind.MESSAGE else "CAMP#"
        result = MainItem.query(
            _pk(tenant_id),
            MainItem.sk.startswith(prefix),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=resume_key(
                after, ("pk", "sk"), {"pk": _pk(tenant_id)}, {"sk": prefix}
            ),
        )
        return [_from_item(i) for i in result], result.last_evaluated_key

    def replace(self, campaign: Campaign) -> Campaign:
        """Save content changes if nobody changed the campaign since it was read.
        Counters and feed state are left as stored."""
        item = MainItem(_pk(campaign.tenant_id), _sk(campaign.id))
        gsi1pk, gsi1sk = _active_index(campaign)
        actions: list[Action] = [
            MainItem.doc.set(dump(campaign, exclude=_SEPARATE)),
            MainItem.status.set(campaign.status.value),
            MainItem.version.set(campaign.version + 1),
        ]
        actions += (
            [MainItem.gsi1pk.set(gsi1pk), MainItem.gsi1sk.set(gsi1sk)]
            if gsi1pk and gsi1sk
            else [MainItem.gsi1pk.remove(), MainItem.gsi1sk.remove()]
        )
        try:
            item.update(actions=actions, condition=MainItem.version == campaign.version)
        except UpdateError as exc:
            if is_conditional_failure(exc):
                raise Conflict("the campaign changed meanwhile; read it again") from exc
            raise
        return _from_item(item)

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
    ) -> Campaign | None:
        """Move to ``to`` only from one of ``allowed_from``; None if the status was not one
        of them (or the campaign is gone). ``doc_updates`` are timestamp fields."""
        current = self.get(tenant_id, campaign_id)
        if current is None:
            return None
        allowed = set(allowed_from)
        if current.status not in allowed:
            return None
        reset: dict[str, Any] = {"feed_done": False, "feed_cursor": None} if feed_reset else {}
        updated = current.model_copy(
            update={"status": to, "updated_at": now, **reset, **(doc_updates or {})}
        )
        gsi1pk, gsi1sk = _active_index(updated)
        item = MainItem(_pk(tenant_id), _sk(campaign_id))
        actions: list[Action] = [
            MainItem.status.set(to.value),
            MainItem.doc.set(dump(updated, exclude=_SEPARATE)),
            MainItem.version.add(1),
        ]
        actions += (
            [MainItem.gsi1pk.set(gsi1pk), MainItem.gsi1sk.set(gsi1sk)]
            if gsi1pk and gsi1sk
            else [MainItem.gsi1pk.remove(), MainItem.gsi1sk.remove()]
        )
        for name, value in (counter_set or {}).items():
            actions.append(getattr(MainItem, f"n_{name}").set(value))
        if feed_reset:
            actions += [MainItem.feed_cursor.remove(), MainItem.feed_done.set(False)]
        condition = MainItem.status.is_in(*[s.value for s in allowed]) & (
            MainItem.version == current.version
        )
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if is_conditional_failure(exc):
                # Someone else moved it; try again against the new state.
                return self.transition(
                    tenant_id,
                    campaign_id,
                    allowed,
                    to,
                    now,
                    doc_updates=doc_updates,
                    counter_set=counter_set,
                    feed_reset=feed_reset,
                )
            raise
        if gsi1pk:  # now in the active index: dispatch has work to look for
            system.wake(now)
        return _from_item(item)

    def add_counts(self, tenant_id: str, campaign_id: str, deltas: Mapping[str, int]) -> None:
        actions: list[Action] = [getattr(MainItem, f"n_{k}").add(v) for k, v in deltas.items() if v]
        if not actions:
            return
        try:
            MainItem(_pk(tenant_id), _sk(campaign_id)).update(
                actions=actions, condition=MainItem.pk.exists()
            )
        except UpdateError as exc:
            if not is_conditional_failure(exc):
                raise

    def set_counts(self, tenant_id: str, campaign_id: str, counts: CampaignCounts) -> None:
        actions: list[Action] = [
            getattr(MainItem, f"n_{k}").set(getattr(counts, k)) for k in COUNTERS
        ]
        MainItem(_pk(tenant_id), _sk(campaign_id)).update(
            actions=actions, condition=MainItem.pk.exists()
        )

    def set_imports_pending(self, tenant_id: str, campaign_id: str, value: int) -> None:
        MainItem(_pk(tenant_id), _sk(campaign_id)).update(
            actions=[MainItem.imports_pending.set(value)], condition=MainItem.pk.exists()
        )

    def add_imports_pending(self, tenant_id: str, campaign_id: str, delta: int) -> None:
        MainItem(_pk(tenant_id), _sk(campaign_id)).update(
            actions=[MainItem.imports_pending.add(delta)], condition=MainItem.pk.exists()
        )

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
    ) -> bool:
        """Move the feed cursor from ``expected``; False if another feeder moved it.
        ``deindex`` drops the campaign from the active index (a finished sweep)."""
        actions: list[Action] = [MainItem.feed_done.set(done), MainItem.fed_at.set(now.timestamp())]
        actions.append(
            MainItem.feed_cursor.set(cursor) if cursor else MainItem.feed_cursor.remove()
        )
        if deindex:
            actions += [MainItem.gsi1pk.remove(), MainItem.gsi1sk.remove()]
        condition = (
            MainItem.feed_cursor == expected if expected else MainItem.feed_cursor.does_not_exist()
        ) & ~(MainItem.feed_done == True)  # noqa: E712 - a DynamoDB condition, not a bool
        try:
            MainItem(_pk(tenant_id), _sk(campaign_id)).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def reset_feed(self, tenant_id: str, campaign_id: str) -> None:
        """Feed again from the first recipient (always safe: claims are conditional)."""
        try:
            MainItem(_pk(tenant_id), _sk(campaign_id)).update(
                actions=[MainItem.feed_done.set(False), MainItem.feed_cursor.remove()],
                condition=MainItem.pk.exists(),
            )
        except UpdateError as exc:
            if not is_conditional_failure(exc):
                raise

    def active(self) -> list[Campaign]:
        """Every campaign dispatch looks after (scheduled, running, or cancelled and not
        yet swept), in the index's order: one query of the sparse index for the keys, then
        the campaigns themselves, read consistently (the index may lag a write) in batches
        of 100, rather than one read each."""
        keys = []
        for entry in MainItem.gsi1.query("ACTIVE"):
            _, tenant_id, campaign_id = (entry.gsi1sk or "").rsplit("#", 2)
            keys.append((_pk(tenant_id), _sk(campaign_id)))
        found = {
            (item.pk, item.sk): campaign
            for item in MainItem.batch_get(keys, consistent_read=True)
            if (campaign := _campaign(item)) is not None
        }
        return [found[key] for key in keys if key in found]

    def delete_draft(self, tenant_id: str, campaign_id: str) -> bool:
        try:
            MainItem(_pk(tenant_id), _sk(campaign_id)).delete(
                MainItem.status == CampaignStatus.DRAFT.value
            )
        except DeleteError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    # --- idempotency of single messages ---------------------------------------------------

    def claim_idempotency_key(
        self, tenant_id: str, key: str, message_id: str, expires: datetime
    ) -> str:
        """Record ``key`` -> ``message_id`` unless the key exists; returns the stored id."""
        item = MainItem(
            _pk(tenant_id),
            f"IDEM#{key}",
            kind="idempotency",
            tenant_id=tenant_id,
            doc={"message_id": message_id},
            expires_at=expires,
        )
        try:
            item.save(MainItem.pk.does_not_exist())
        except PutError as exc:
            if not is_conditional_failure(exc):
                raise
            existing = get_or_none(MainItem, _pk(tenant_id), f"IDEM#{key}")
            if existing is not None:
                return str((existing.doc or {})["message_id"])
        return message_id
