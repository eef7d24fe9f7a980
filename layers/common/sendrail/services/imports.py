"""Large recipient uploads, written in the background.

The API validates, normalises and de-duplicates the whole upload at once (a 100,000-row
CSV takes a few seconds), then hands the valid rows to the ``import`` SQS queue in chunks
of at most ~1,000 rows / 200 KB; the ``enqueue`` function, fed by that queue, writes each
chunk with batched DynamoDB calls. A chunk is recorded once (its number goes into the
import's set of done chunks with a condition), and the recipients it writes carry its
marker, so a chunk delivered twice counts the same rows the same way. The campaign's
``imports_pending`` keeps it from completing until every chunk is in."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Protocol

from sendrail.domain.models import Campaign
from sendrail.errors import NotFound
from sendrail.ids import new_id
from sendrail.services import recipients
from sendrail.services.deps import Deps
from sendrail.services.recipients import Prepared, Valid
from sendrail.storage.imports import ImportJob
from sendrail.storage.queues import Outgoing

QUEUE = "import"
CHUNK_ROWS = 1000
CHUNK_BYTES = 200 * 1024
INVALID_KEPT = 1000  # invalid rows listed on the import (all are counted)
RECORD_RETENTION = timedelta(days=30)


def _chunks(valid: list[Valid]) -> list[list[Valid]]:
    out: list[list[Valid]] = []
    current: list[Valid] = []
    size = 0
    for row in valid:
        row_size = len(row.email) + len(json.dumps(row.data, default=str)) + 16
        if current and (len(current) >= CHUNK_ROWS or size + row_size > CHUNK_BYTES):
            out.append(current)
            current, size = [], 0
        current.append(row)
        size += row_size
    if current:
        out.append(current)
    return out


def start(deps: Deps, campaign: Campaign, prepared: Prepared) -> ImportJob:
    now = deps.clock.now()
    chunks = _chunks(prepared.valid)
    job = ImportJob(
        id=new_id("imp", now),
        tenant_id=campaign.tenant_id,
        campaign_id=campaign.id,
        rows=len(prepared.valid),
        chunks=len(chunks),
        invalid=prepared.invalid[:INVALID_KEPT],
        invalid_count=len(prepared.invalid),
        duplicates_in_upload=prepared.duplicates,
        created_at=now,
    )
    deps.imports.create(job)
    deps.campaigns.add_imports_pending(campaign.tenant_id, campaign.id, len(chunks))
    messages = [
        Outgoing(
            id=str(i % 10),
            body={
                "t": campaign.tenant_id,
                "c": campaign.id,
                "i": job.id,
                "n": i,
                "rows": [[v.number, v.email, v.data] for v in chunk],
            },
        )
        for i, chunk in enumerate(chunks)
    ]
    for start_at in range(0, len(messages), 10):
        failed = deps.queues.send(QUEUE, messages[start_at : start_at + 10])
        if failed:
            raise RuntimeError(f"SQS refused {len(failed)} import chunk(s)")
    return job


class ImportRecords(Protocol):
    def for_campaign(self, campaign_id: str) -> list[ImportJob]: ...


class ImportStore(Protocol):
    @property
    def imports(self) -> ImportRecords: ...


def pending_chunks(deps: ImportStore, campaign_id: str) -> int:
    """Chunks of the campaign's imports not recorded yet: the truth behind the campaign's
    ``imports_pending`` hint (which a crash between two writes can leave too high)."""
    jobs = deps.imports.for_campaign(campaign_id)
    return sum(max(0, job.chunks - job.chunks_done) for job in jobs)


def process_chunk(deps: Deps, body: dict[str, Any]) -> bool:
    """Write one chunk; returns False when it had already been recorded (redelivery)."""
    tenant_id, campaign_id, import_id, number = body["t"], body["c"], body["i"], int(body["n"])
    repo = deps.imports
    if repo.is_done(tenant_id, import_id, number):
        return False
    campaign = deps.campaigns.get(tenant_id, campaign_id)
    if campaign is None:
        raise NotFound("the campaign of this import is gone")
    rows = [Valid(int(n), str(email), dict(data)) for n, email, data in body["rows"]]
    result = recipients.write(deps, campaign, rows, marker=f"{import_id}:{number}")
    if not repo.complete_chunk(
        tenant_id,
        import_id,
        number,
        added=result.added,
        duplicates=result.duplicates,
        suppressed=result.suppressed,
    ):
        return False
    deps.campaigns.add_imports_pending(tenant_id, campaign_id, -1)
    job = repo.get(tenant_id, import_id)
    if job is not None and job.done:
        repo.completed_at(tenant_id, import_id, deps.clock.now() + RECORD_RETENTION)
    return True


def get(deps: Deps, tenant_id: str, campaign_id: str, import_id: str) -> ImportJob:
    job = deps.imports.get(tenant_id, import_id)
    if job is None or job.campaign_id != campaign_id:
        raise NotFound("no such import")
    return job
