"""Tenant sending settings and domain throttles (``main`` table)."""

from __future__ import annotations

from typing import Any

from sendrail.domain.models import ApiSettings, DomainThrottle, SendingSettings
from sendrail.storage.codec import dump, get_or_none
from sendrail.storage.tables import MainItem


def _pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


class SettingsRepo:
    def sending(self, tenant_id: str) -> SendingSettings:
        item = get_or_none(MainItem, _pk(tenant_id), "SETTINGS#sending")
        return SendingSettings.model_validate(item.doc) if item else SendingSettings()

    def put_sending(self, tenant_id: str, settings: SendingSettings) -> None:
        MainItem(
            _pk(tenant_id),
            "SETTINGS#sending",
            kind="settings",
            tenant_id=tenant_id,
            doc=dump(settings),
        ).save()

    def api(self, tenant_id: str) -> ApiSettings:
        item = get_or_none(MainItem, _pk(tenant_id), "SETTINGS#api")
        return ApiSettings.model_validate(item.doc) if item else ApiSettings()

    def put_api(self, tenant_id: str, settings: ApiSettings) -> None:
        MainItem(
            _pk(tenant_id), "SETTINGS#api", kind="settings", tenant_id=tenant_id, doc=dump(settings)
        ).save()

    def throttles(self, tenant_id: str) -> list[DomainThrottle]:
        return [
            DomainThrottle.model_validate(i.doc)
            for i in MainItem.query(
                _pk(tenant_id), MainItem.sk.startswith("THR#"), consistent_read=True
            )
        ]

    def throttle_page(
        self, tenant_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[DomainThrottle], dict[str, Any] | None]:
        result = MainItem.query(
            _pk(tenant_id), MainItem.sk.startswith("THR#"), limit=limit, last_evaluated_key=after
        )
        return [DomainThrottle.model_validate(i.doc) for i in result], result.last_evaluated_key

    def put_throttle(self, throttle: DomainThrottle) -> None:
        MainItem(
            _pk(throttle.tenant_id),
            f"THR#{throttle.name}",
            kind="throttle",
            tenant_id=throttle.tenant_id,
            doc=dump(throttle),
        ).save()

    def delete_throttle(self, tenant_id: str, name: str) -> bool:
        item = get_or_none(MainItem, _pk(tenant_id), f"THR#{name}")
        if item is None:
            return False
        item.delete()
        return True
