"""Recipients: one item per (campaign or message, normalised address).

The key makes duplicates impossible: the same address in the same campaign is the same
item, however many times it is uploaded or enqueued. Claims are conditional updates
(``queued`` -> ``sending``), so no two dispatchers ever send to the same item.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.update import Action

from sendrail.domain import recipient_data
from sendrail.domain.models import Recipient, RecipientStatus
from sendrail.storage import tables
from sendrail.storage.codec import is_conditional_failure, resume_key
from sendrail.storage.tables import RecipientItem

_CLAIM = (
    "SET #status = :sending, mailbox_id = :mailbox, message_id = :message,"
    " lease_until = :lease, updated_at = :now ADD attempts :one"
)


def _client() -> Any:
    """The botocore client for raw calls: the hot paths (claims, batch writes) and those
    that need ReturnValues pynamodb does not offer (whether an open is the first)."""
    return tables.client(RecipientItem)


def _when(now: datetime) -> str:
    """A timestamp as pynamodb's UTCDateTimeAttribute stores it."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


_TEXTS = ("mailbox_id", "last_error", "message_id", "import_marker")
_TIMES = (
    "sent_at",
    "opened_at",
    "clicked_at",
    "replied_at",
    "next_attempt_at",
    "cleared_at",
    "created_at",
    "updated_at",
)
_PUT_ATTEMPTS = 8


def to_raw(r: Recipient) -> dict[str, Any]:
    """The stored item, in DynamoDB's attribute-value form: the one encoder of recipients
    (what pynamodb's model would write: :func:`to_item` is built from it)."""
    item: dict[str, Any] = {
        "campaign_id": {"S": r.campaign_id},
        "email": {"S": r.email},
        "tenant_id": {"S": r.tenant_id},
        "tenant_email": {"S": f"{r.tenant_id}#{r.email}"},
        "status": {"S": r.status.value},
        "attempts": {"N": str(r.attempts)},
    }
    if r.data:
        item["data"] = {"S": json.dumps(r.data)}
    for name in _TEXTS:
        text = getattr(r, name)
        if text is not None:
            item[name] = {"S": text}
    for name in _TIMES:
        when = getattr(r, name)
        if when is not None:
            item[name] = {"S": _when(when)}
    if r.status is RecipientStatus.SENDING and r.lease_until is not None:
        item["lease_until"] = {"N": json.dumps(r.lease_until.timestamp())}
    return item


def _lease_end(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp is not None else None


def from_raw(item: dict[str, Any]) -> Recipient:
    """A recipient from its stored item: the one decoder (values we wrote ourselves, so the
    model is built without validating them again)."""
    data = json.loads(item["data"]["S"]) if "data" in item else {}
    lease = item.get("lease_until")
    fields: dict[str, Any] = {
        "campaign_id": item["campaign_id"]["S"],
        "email": item["email"]["S"],
        "tenant_id": item["tenant_id"]["S"],
        "status": RecipientStatus(item["status"]["S"]),
        "data": recipient_data.clip(data) if isinstance(data, dict) else {},
        "attempts": int(item["attempts"]["N"]) if "attempts" in item else 0,
        "lease_until": _lease_end(float(lease["N"])) if lease else None,
    }
    for name in _TEXTS:
        fields[name] = item[name]["S"] if name in item else None
    for name in _TIMES:
        fields[name] = _parse_when(item[name]["S"]) if name in item else None
    return Recipient.model_construct(**fields)


def to_item(r: Recipient) -> RecipientItem:
    return RecipientItem.from_raw_data(to_raw(r))


def from_item(item: RecipientItem) -> Recipient:
    return from_raw(item.serialize())


def _parse_when(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _put_batches(items: Iterable[dict[str, Any]]) -> int:
    """BatchWriteItem, 25 a call, again for what DynamoDB leaves unprocessed (backing off);
    raises if some are still unwritten after a few tries."""
    client = _client()
    table = RecipientItem.Meta.table_name
    requests = [{"PutRequest": {"Item": item}} for item in items]
    for start in range(0, len(requests), 25):
        chunk = requests[start : start + 25]
        for attempt in range(_PUT_ATTEMPTS):
            answer = client.batch_write_item(RequestItems={table: chunk})
            chunk = answer.get("UnprocessedItems", {}).get(table, [])
            if not chunk:
                break
            time.sleep(min(1.0, 0.05 * 2**attempt))
        else:
            raise RuntimeError(f"DynamoDB left {len(chunk)} recipient(s) unwritten")
    return len(requests)


class RecipientRepo:
    def existing_markers(self, campaign_id: str, emails: Iterable[str]) -> dict[str, str | None]:
        """Which of ``emails`` the campaign has, with the import chunk that wrote each."""
        keys = [(campaign_id, e) for e in set(emails)]
        found: dict[str, str | None] = {}
        for item in RecipientItem.batch_get(
            keys, consistent_read=True, attributes_to_get=["email", "import_marker"]
        ):
            found[item.email] = item.import_marker
        return found

    def get_many(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Recipient]:
        out: dict[tuple[str, str], Recipient] = {}
        for item in RecipientItem.batch_get(keys, consistent_read=True):
            out[(item.campaign_id, item.email)] = from_item(item)
        return out

    def put_many(self, recipients: Iterable[Recipient]) -> int:
        """Blind batch write (25 per call). Callers check :meth:`existing` first."""
        return _put_batches(to_raw(r) for r in recipients)

    def get(self, campaign_id: str, email: str) -> Recipient | None:
        found = _client().get_item(
            TableName=RecipientItem.Meta.table_name,
            Key={"campaign_id": {"S": campaign_id}, "email": {"S": email}},
            ConsistentRead=True,
        )
        return from_raw(found["Item"]) if "Item" in found else None

    def page(
        self,
        campaign_id: str,
        *,
        limit: int,
        after: dict[str, Any] | None = None,
        status: RecipientStatus | None = None,
        consistent: bool = False,
    ) -> tuple[list[Recipient], dict[str, Any] | None]:
        result = RecipientItem.query(
            campaign_id,
            filter_condition=(RecipientItem.status == status.value) if status else None,
            limit=limit,
            last_evaluated_key=resume_key(
                after, ("campaign_id", "email"), {"campaign_id": campaign_id}
            ),
            consistent_read=consistent,
        )
        items = [from_item(i) for i in result]
        return items, result.last_evaluated_key

    def iterate(
        self, campaign_id: str, *, status: RecipientStatus | None = None, page_size: int = 1000
    ) -> Iterator[Recipient]:
        after: dict[str, Any] | None = None
        while True:
            page, after = self.page(campaign_id, limit=page_size, after=after, status=status)
            yield from page
            if not after:
                return

    def queued_after(
        self, campaign_id: str, cursor: str | None, limit: int, *, data_field: str | None = None
    ) -> tuple[list[tuple[str, Any]], str | None, bool]:
        """Recipients still ``queued`` after ``cursor`` in key order, for feeding SQS, with
        the value of one data field if asked. Returns (items, new cursor, reached the end).
        Reads at most ``limit`` items (queued or not): one Query through the client, only
        the attributes needed (every recipient is read here once per feed)."""
        names = {"#status": "status"}
        values: dict[str, Any] = {":campaign": {"S": campaign_id}}
        condition = "campaign_id = :campaign"
        if cursor:
            condition += " AND email > :after"
            values[":after"] = {"S": cursor}
        projection = "email, #status"
        if data_field:
            projection += ", #data"
            names["#data"] = "data"
        page = _client().query(
            TableName=RecipientItem.Meta.table_name,
            KeyConditionExpression=condition,
            ProjectionExpression=projection,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            Limit=limit,
            ConsistentRead=True,
        )
        found: list[tuple[str, Any]] = []
        last = cursor
        for item in page.get("Items", []):
            last = item["email"]["S"]
            if item["status"]["S"] == RecipientStatus.QUEUED.value:
                value = None
                if data_field and "S" in item.get("data", {}):
                    data = json.loads(item["data"]["S"])
                    value = data.get(data_field) if isinstance(data, dict) else None
                found.append((last, value))
        return found, last, "LastEvaluatedKey" not in page

    def delete_all(self, campaign_id: str) -> int:
        count = 0
        with RecipientItem.batch_write() as batch:
            for item in RecipientItem.query(
                campaign_id, attributes_to_get=["campaign_id", "email"]
            ):
                batch.delete(item)
                count += 1
        return count

    def count_by_status(self, campaign_id: str) -> dict[str, int]:
        """Recipients per status, plus ``deferred``: queued ones that already had an attempt."""
        counts: dict[str, int] = {"deferred": 0}
        for item in RecipientItem.query(
            campaign_id, consistent_read=True, attributes_to_get=["status", "attempts"]
        ):
            counts[item.status] = counts.get(item.status, 0) + 1
            if item.status == RecipientStatus.QUEUED.value and (item.attempts or 0) > 0:
                counts["deferred"] += 1
        return counts

    def claim(
        self,
        campaign_id: str,
        email: str,
        *,
        mailbox_id: str,
        message_id: str,
        lease_until: datetime,
        now: datetime,
        allow_from: RecipientStatus = RecipientStatus.QUEUED,
    ) -> Recipient | None:
        """``queued`` -> ``sending`` for one dispatcher; None if not queued any more.

        The hot path (one per email): one UpdateItem with a constant expression through
        the client pynamodb uses, returning the claimed item."""
        client = _client()
        try:
            claimed = client.update_item(
                TableName=RecipientItem.Meta.table_name,
                Key={"campaign_id": {"S": campaign_id}, "email": {"S": email}},
                UpdateExpression=_CLAIM,
                ConditionExpression="#status = :from",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":from": {"S": allow_from.value},
                    ":sending": {"S": RecipientStatus.SENDING.value},
                    ":mailbox": {"S": mailbox_id},
                    ":message": {"S": message_id},
                    ":lease": {"N": repr(lease_until.timestamp())},
                    ":now": {"S": _when(now)},
                    ":one": {"N": "1"},
                },
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except client.exceptions.ConditionalCheckFailedException:
            return None
        return from_raw(claimed)

    def finish_many(self, recipients: Iterable[Recipient]) -> None:
        """Write the outcome of claimed recipients (we hold their claim: blind batch put)."""
        self.put_many(recipients)

    def resolve_claim(self, claimed: Recipient, final: Recipient) -> bool:
        """Replace a ``sending`` recipient whose claim is still ``claimed``'s (same lease)."""
        lease = claimed.lease_until.timestamp() if claimed.lease_until else None
        condition = RecipientItem.status == RecipientStatus.SENDING.value
        condition &= (
            (RecipientItem.lease_until == lease)
            if lease is not None
            else RecipientItem.lease_until.does_not_exist()
        )
        try:
            to_item(final).save(condition)
        except PutError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def requeue_failed(self, recipient: Recipient, now: datetime) -> bool:
        """``failed`` -> ``queued`` with fresh attempts (``/api/queue/retry-failed``)."""
        item = RecipientItem(recipient.campaign_id, recipient.email)
        try:
            item.update(
                actions=[
                    RecipientItem.status.set(RecipientStatus.QUEUED.value),
                    RecipientItem.attempts.set(0),
                    RecipientItem.next_attempt_at.remove(),
                    RecipientItem.updated_at.set(now),
                ],
                condition=(RecipientItem.status == RecipientStatus.FAILED.value)
                & RecipientItem.cleared_at.does_not_exist(),
            )
        except UpdateError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def mark_cleared(self, recipient: Recipient, now: datetime) -> bool:
        item = RecipientItem(recipient.campaign_id, recipient.email)
        try:
            item.update(
                actions=[RecipientItem.cleared_at.set(now)],
                condition=(RecipientItem.status == RecipientStatus.FAILED.value)
                & RecipientItem.cleared_at.does_not_exist(),
            )
        except UpdateError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def mark_opened(self, campaign_id: str, email: str, now: datetime) -> bool | None:
        """Set ``opened_at`` if unset. True: first open; False: opened before; None: no such
        recipient."""
        return self._first(
            campaign_id,
            email,
            "SET opened_at = if_not_exists(opened_at, :now)",
            {":now": {"S": _when(now)}},
            "opened_at",
        )

    def mark_replied(self, campaign_id: str, email: str, now: datetime) -> bool | None:
        """Set ``replied_at`` if unset. True: first reply; False: replied before; None: no
        such recipient."""
        return self._first(
            campaign_id,
            email,
            "SET replied_at = if_not_exists(replied_at, :now)",
            {":now": {"S": _when(now)}},
            "replied_at",
        )

    def mark_clicked(
        self, campaign_id: str, email: str, link: str, now: datetime
    ) -> tuple[bool, bool] | None:
        """Record a click on ``link`` (a short hash). Returns (first click of the recipient,
        first click of this recipient on this link), or None for no such recipient."""
        client = _client()
        try:
            old = client.update_item(
                TableName=RecipientItem.Meta.table_name,
                Key={"campaign_id": {"S": campaign_id}, "email": {"S": email}},
                UpdateExpression=(
                    "SET clicked_at = if_not_exists(clicked_at, :now) ADD clicked_links :l"
                ),
                ConditionExpression="attribute_exists(campaign_id)",
                ExpressionAttributeValues={
                    ":now": {"S": _when(now)},
                    ":l": {"SS": [link]},
                },
                ReturnValues="ALL_OLD",  # UPDATED_OLD omits an unchanged value in moto
            ).get("Attributes", {})
        except client.exceptions.ConditionalCheckFailedException:
            return None
        return "clicked_at" not in old, link not in old.get("clicked_links", {}).get("SS", [])

    def _first(
        self, campaign_id: str, email: str, expression: str, values: dict[str, Any], field: str
    ) -> bool | None:
        client = _client()
        try:
            old = client.update_item(
                TableName=RecipientItem.Meta.table_name,
                Key={"campaign_id": {"S": campaign_id}, "email": {"S": email}},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(campaign_id)",
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",  # UPDATED_OLD omits an unchanged value in moto
            ).get("Attributes", {})
        except client.exceptions.ConditionalCheckFailedException:
            return None
        return field not in old

    def set_status(
        self,
        campaign_id: str,
        email: str,
        to: RecipientStatus,
        now: datetime,
        *,
        only_from: Iterable[RecipientStatus],
        error: str | None = None,
    ) -> Recipient | None:
        """Conditional status change; None when the item is not in one of ``only_from``."""
        allowed = [s.value for s in only_from]
        item = RecipientItem(campaign_id, email)
        actions: list[Action] = [
            RecipientItem.status.set(to.value),
            RecipientItem.updated_at.set(now),
            RecipientItem.lease_until.remove(),
        ]
        if error is not None:
            actions.append(RecipientItem.last_error.set(error))
        try:
            item.update(actions=actions, condition=RecipientItem.status.is_in(*allowed))
        except UpdateError as exc:
            if is_conditional_failure(exc):
                return None
            raise
        return from_item(item)

    def campaigns_of(self, tenant_id: str, email: str) -> list[str]:
        return [i.campaign_id for i in RecipientItem.by_email.query(f"{tenant_id}#{email}")]

    def claimed(self, campaign_id: str) -> list[tuple[str, datetime | None]]:
        """The campaign's recipients in ``sending``, with the end of their claim's lease (a
        consistent read of the campaign's items; rare: see ``services.feeding``)."""
        return [
            (i.email, _lease_end(i.lease_until))
            for i in RecipientItem.query(
                campaign_id,
                filter_condition=RecipientItem.status == RecipientStatus.SENDING.value,
                consistent_read=True,
                attributes_to_get=["email", "lease_until"],
            )
        ]
