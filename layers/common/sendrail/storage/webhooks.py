"""Webhook endpoints and their recent delivery attempts (``main`` table)."""

from __future__ import annotations

import builtins
from datetime import timedelta

from sendrail.clock import to_rfc3339
from sendrail.domain.webhooks import Delivery, Webhook
from sendrail.storage.codec import dump, get_or_none
from sendrail.storage.tables import MainItem

KEEP_DELIVERIES = timedelta(days=7)


class WebhookRepo:
    def put(self, hook: Webhook) -> None:
        MainItem(
            f"T#{hook.tenant_id}",
            f"WEBHOOK#{hook.id}",
            kind="webhook",
            tenant_id=hook.tenant_id,
            doc=dump(hook),
        ).save()

    def get(self, tenant_id: str, webhook_id: str) -> Webhook | None:
        item = get_or_none(MainItem, f"T#{tenant_id}", f"WEBHOOK#{webhook_id}")
        return Webhook.model_validate(item.doc) if item else None

    def list(self, tenant_id: str) -> builtins.list[Webhook]:
        """Every endpoint of the tenant (a handful), oldest first."""
        query = MainItem.query(f"T#{tenant_id}", MainItem.sk.startswith("WEBHOOK#"))
        return [Webhook.model_validate(i.doc) for i in query]

    def delete(self, tenant_id: str, webhook_id: str) -> None:
        MainItem(f"T#{tenant_id}", f"WEBHOOK#{webhook_id}").delete()

    def record(self, delivery: Delivery) -> None:
        MainItem(
            f"WEBHOOK#{delivery.webhook_id}",
            f"D#{to_rfc3339(delivery.at)}#{delivery.event_id}#{delivery.attempt:03d}",
            kind="webhook_delivery",
            expires_at=delivery.at + KEEP_DELIVERIES,
            doc=dump(delivery),
        ).save()

    def deliveries(self, webhook_id: str, limit: int = 50) -> builtins.list[Delivery]:
        """The most recent attempts first."""
        query = MainItem.query(
            f"WEBHOOK#{webhook_id}",
            MainItem.sk.startswith("D#"),
            scan_index_forward=False,
            limit=limit,
        )
        return [Delivery.model_validate(i.doc) for i in query]
