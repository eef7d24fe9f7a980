"""Recipient imports that run in the background, one record per upload (``main`` table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pynamodb.exceptions import UpdateError

from sendrail.storage.codec import dump, get_or_none, is_conditional_failure
from sendrail.storage.tables import MainItem


class ImportJob(BaseModel):
    id: str
    tenant_id: str
    campaign_id: str
    rows: int  # valid rows handed to the background
    chunks: int
    invalid: list[dict[str, Any]] = []  # pydantic copies it per instance
    invalid_count: int = 0
    duplicates_in_upload: int = 0
    created_at: datetime
    # progress, from the counters
    chunks_done: int = 0
    added: int = 0
    duplicates: int = 0
    suppressed: int = 0

    @property
    def done(self) -> bool:
        return self.chunks_done >= self.chunks


def _pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def _sk(import_id: str) -> str:
    return f"IMPORT#{import_id}"


_PROGRESS = {"chunks_done", "added", "duplicates", "suppressed"}


class ImportRepo:
    def create(self, job: ImportJob) -> None:
        MainItem(
            _pk(job.tenant_id),
            _sk(job.id),
            kind="import",
            tenant_id=job.tenant_id,
            gsi1pk=f"IMPORTS#{job.campaign_id}",
            gsi1sk=job.id,
            doc=dump(job, exclude=_PROGRESS),
            n_added=0,
            n_duplicates=0,
            n_suppressed=0,
        ).save(MainItem.pk.does_not_exist())

    def get(self, tenant_id: str, import_id: str) -> ImportJob | None:
        item = get_or_none(MainItem, _pk(tenant_id), _sk(import_id))
        if item is None or item.kind != "import":
            return None
        return self._job(item)

    def for_campaign(self, campaign_id: str) -> list[ImportJob]:
        return [self._job(i) for i in MainItem.gsi1.query(f"IMPORTS#{campaign_id}")]

    @staticmethod
    def _job(item: MainItem) -> ImportJob:
        return ImportJob.model_validate(
            {
                **(item.doc or {}),
                "chunks_done": len(item.done_chunks or ()),
                "added": int(item.n_added or 0),
                "duplicates": int(item.n_duplicates or 0),
                "suppressed": int(item.n_suppressed or 0),
            }
        )

    def is_done(self, tenant_id: str, import_id: str, chunk: int) -> bool:
        item = get_or_none(MainItem, _pk(tenant_id), _sk(import_id))
        return item is not None and chunk in (item.done_chunks or set())

    def complete_chunk(
        self,
        tenant_id: str,
        import_id: str,
        chunk: int,
        *,
        added: int,
        duplicates: int,
        suppressed: int,
    ) -> bool:
        """Record a chunk's outcome once; False if it was already recorded."""
        try:
            MainItem(_pk(tenant_id), _sk(import_id)).update(
                actions=[
                    MainItem.done_chunks.add({chunk}),
                    MainItem.n_added.add(added),
                    MainItem.n_duplicates.add(duplicates),
                    MainItem.n_suppressed.add(suppressed),
                ],
                condition=MainItem.pk.exists() & ~MainItem.done_chunks.contains(chunk),
            )
        except UpdateError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def completed_at(self, tenant_id: str, import_id: str, when: datetime) -> None:
        MainItem(_pk(tenant_id), _sk(import_id)).update(
            actions=[MainItem.expires_at.set(when)], condition=MainItem.pk.exists()
        )
