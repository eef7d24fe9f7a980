"""Adding recipients to a campaign: validate, normalise, de-duplicate, honour suppressions.

Rows are numbered from 1 (for CSV, row 1 is the line after the header)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sendrail.domain.addresses import InvalidAddress, normalize
from sendrail.domain.models import Campaign, CampaignStatus, Recipient, RecipientStatus
from sendrail.errors import Conflict, ValidationFailed
from sendrail.services import counters
from sendrail.services.deps import Deps

MAX_DATA_BYTES = 8 * 1024
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
    """Header row, one ``email`` column (any case); every other column becomes data."""
    reader = csv.reader(io.StringIO(text))
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


def add(deps: Deps, campaign: Campaign, rows: list[Row]) -> ImportResult:
    """Validate and write ``rows``; counts go on the campaign."""
    if campaign.status in CLOSED:
        raise Conflict(f"a {campaign.status.value} campaign takes no more recipients")
    result = ImportResult()
    fresh: dict[str, Row] = {}
    for row in rows:
        if not isinstance(row.email, str) or not row.email.strip():
            result.invalid.append(
                {
                    "row": row.number,
                    "email": row.email if isinstance(row.email, str) else None,
                    "reason": "missing email",
                }
            )
            continue
        try:
            email = normalize(row.email)
        except InvalidAddress as exc:
            result.invalid.append({"row": row.number, "email": row.email[:320], "reason": str(exc)})
            continue
        if len(json.dumps(row.data, default=str)) > MAX_DATA_BYTES:
            result.invalid.append(
                {
                    "row": row.number,
                    "email": email,
                    "reason": f"data is larger than {MAX_DATA_BYTES} bytes",
                }
            )
            continue
        if email in fresh:
            result.duplicates += 1
            continue
        fresh[email] = row
    existing = deps.recipients.existing(campaign.id, fresh)
    result.duplicates += len(existing)
    for email in existing:
        fresh.pop(email)
    suppressed = {e for _, e in deps.suppressions.which((campaign.tenant_id, e) for e in fresh)}
    now = deps.clock.now()
    records = []
    for email, row in fresh.items():
        status = RecipientStatus.SUPPRESSED if email in suppressed else RecipientStatus.QUEUED
        records.append(
            Recipient(
                campaign_id=campaign.id,
                email=email,
                tenant_id=campaign.tenant_id,
                status=status,
                data={k: _scalar(v) for k, v in row.data.items()},
                created_at=now,
                updated_at=now,
            )
        )
    deps.recipients.put_many(records)
    result.suppressed = len(suppressed)
    result.added = len(records) - result.suppressed
    if records:
        counters.add(
            deps,
            campaign,
            {
                "total": len(records),
                "queued": result.added,
                "suppressed": result.suppressed,
            },
        )
        if campaign.status is CampaignStatus.RUNNING and result.added:
            # New work for a running campaign: feed again from the start.
            deps.campaigns.reset_feed(campaign.tenant_id, campaign.id)
    return result


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | dict):
        return value
    return str(value)
