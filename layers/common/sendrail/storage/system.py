"""Platform-wide records: the health of the dispatch processor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sendrail.clock import to_rfc3339
from sendrail.storage.codec import get_or_none
from sendrail.storage.tables import MainItem

_PK, _SK = "SYSTEM", "DISPATCH"


class SystemRepo:
    def record_dispatch(self, at: datetime, outcome: dict[str, Any], error: str | None) -> None:
        """Remember the last run (and the last error, which outlives clean runs)."""
        current = get_or_none(MainItem, _PK, _SK)
        doc: dict[str, Any] = dict(current.doc or {}) if current else {}
        doc.update({"last_run_at": to_rfc3339(at), "last_run": outcome})
        if error:
            doc.update({"last_error": error[:500], "last_error_at": to_rfc3339(at)})
        MainItem(_PK, _SK, kind="system", doc=doc).save()

    def dispatch_health(self) -> dict[str, Any]:
        item = get_or_none(MainItem, _PK, _SK, consistent=False)
        return dict(item.doc or {}) if item else {}
