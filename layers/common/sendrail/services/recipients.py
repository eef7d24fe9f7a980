"""Adding recipients to a campaign: validate, normalise, de-duplicate, honour suppressions.

Rows are numbered from 1 (for CSV, row 1 is the line after the header)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sendrail.domain import recipient_data
from sendrail.domain.addresses import InvalidAddress, normalize
from sendrail.domain.models import Campaign, CampaignStatus, Recipient, RecipientStatus
from sendrail.errors import Conflict, ValidationFailed
from sendrail.services import counters
from sendrail.services.deps import Deps

CLOSED = frozenset({CampaignStatus.COMPLETED, CampaignStatus.CANCELLED})


@dataclass(frozen=True)
class Row:
    number: int
    email: Any
    data: dict[str, Any]


@dataclass
class ImportResult:
    added: int = 0
    duplicates: int = 0
    suppressed: int = 0
    invalid: list[dict[str, Any]] = field(default_factory=list)

    def merge(self, other: ImportResult) -> None:
        self.added += other.added
        self.duplicates += other.duplicates
        self.suppressed += other.suppressed
        self.invalid.extend(other.invalid)


def parse_csv(text: str, first_row: int = 1) -> list[Row]:
    """Header row, one ``email`` column (any case); every other column becomes data. A
    malformed CSV (e.g. a cell over the csv module's 131,072-character limit) is
    refused with the line it was found on."""
    reader = csv.reader(io.StringIO(text))
    try:
        return _csv_rows(reader, first_row)
    except csv.Error as exc:
        raise ValidationFailed(
            f"the CSV cannot be read at line {reader.line_num}: {exc}",
            details=[{"field": "body", "line": reader.line_num, "reason": str(exc)[:200]}],
        ) from None


def _csv_rows(reader: Any, first_row: int) -> list[Row]:
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationFailed("the CSV is empty", details=[{"field": "body"}]) from None
    names = [h.strip().lstrip("\ufeff") for h in header]
    lowered = [n.lower() for n in names]
    if "email" not in lowered:
        raise ValidationFailed("the CSV header has no email column", details=[{"field": "email"}])
    email_at = lowered.index("email")
    rows = []
    for offset, values in enumerate(reader):
        if not any(v.strip() for v in values):
            continue
        data = {
            names[i]: values[i]
            for i in range(min(len(names), len(values)))
            if i != email_at and names[i]
        }
        email = values[email_at] if email_at < len(values) else ""
        rows.append(Row(first_row + offset, email, data))
    return rows


def rows_from_json(items: Iterable[Any]) -> list[Row]:
    rows = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict):
            data = item.get("data") or {}
            rows.append(
                Row(number, item.get("email"), data if isinstance(data, dict) else {"_": data})
            )
        else:
            rows.append(Row(number, item, {}))
    return rows


@dataclass(frozen=True)
class Valid:
    number: int
    email: str
    data: dict[str, Any]


@dataclass
class Prepared:
    """An upload checked row by row: normalised, valid, de-duplicated within itself."""

    valid: list[Valid] = field(default_factory=list)
    invalid: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0


def prepare(rows: list[Row]) -> Prepared:
    out = Prepared()
    seen: set[str] = set()
    oversized: list[dict[str, Any]] = []
    for row in rows:
        if not isinstance(row.email, str) or not row.email.strip():
            email = row.email if isinstance(row.email, str) else None
            out.invalid.append({"row": row.number, "email": email, "reason": "missing email"})
            continue
        try:
            email = normalize(row.email)
        except InvalidAddress as exc:
            out.invalid.append({"row": row.number, "email": row.email[:320], "reason": str(exc)})
            continue
        data = {str(k)[:128]: _scalar(v) for k, v in row.data.items()}
        reason = recipient_data.problem(data)
        if reason is not None:
            oversized.append({"field": "data", "row": row.number, "email": email, "reason": reason})
            continue
        if email in seen:
            out.duplicates += 1
            continue
        seen.add(email)
        out.valid.append(Valid(row.number, email, data))
    if oversized:
        # Refused as a whole: data this large or deep is not a mistake in one row.
        raise ValidationFailed(
            f"recipient data is limited to {recipient_data.MAX_BYTES} bytes and "
            f"{recipient_data.MAX_DEPTH} levels of nesting ({len(oversized)} rows over)",
            details=oversized[:20],
        )
    return out


def write(
    deps: Deps, campaign: Campaign, valid: list[Valid], marker: str | None = None
) -> ImportResult:
    """Write valid, de-duplicated rows: addresses already in the campaign are duplicates,
    suppressed ones are recorded as ``suppressed``; counts go on the campaign.

    ``marker`` names the import chunk writing the rows, so a chunk delivered twice counts
    the rows it wrote the first time as its own (added), not as duplicates."""
    if campaign.status in CLOSED:
        raise Conflict(f"a {campaign.status.value} campaign takes no more recipients")
    result = ImportResult()
    existing = deps.recipients.existing_markers(campaign.id, [v.email for v in valid])
    fresh = []
    for v in valid:
        if v.email not in existing:
            fresh.append(v)
        elif marker is not None and existing[v.email] == marker:
            result.added += 1  # written by an earlier delivery of this very chunk
        else:
            result.duplicates += 1
    suppressed = {
        e for _, e in deps.suppressions.which((campaign.tenant_id, v.email) for v in fresh)
    }
    now = deps.clock.now()
    records = [
        Recipient(
            campaign_id=campaign.id,
            email=v.email,
            tenant_id=campaign.tenant_id,
            status=RecipientStatus.SUPPRESSED if v.email in suppressed else RecipientStatus.QUEUED,
            data=v.data,
            import_marker=marker,
            created_at=now,
            updated_at=now,
        )
        for v in fresh
    ]
    deps.recipients.put_many(records)
    newly_added = len(records) - len(suppressed)
    result.added += newly_added
    result.suppressed = len(suppressed)
    if records:
        counters.add(
            deps,
            campaign,
            {
                "total": len(records),
                "queued": newly_added,
                "suppressed": result.suppressed,
            },
        )
        if campaign.status is CampaignStatus.RUNNING and newly_added:
            # New work for a running campaign: feed again from the start.
            deps.campaigns.reset_feed(campaign.tenant_id, campaign.id)
    return result


def add(deps: Deps, campaign: Campaign, rows: list[Row]) -> ImportResult:
    """Validate and write ``rows`` at once (small uploads; see ``services.imports``)."""
    prepared = prepare(rows)
    result = write(deps, campaign, prepared.valid)
    result.duplicates += prepared.duplicates
    result.invalid = prepared.invalid
    return result


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | dict):
        return value
    return str(value)
