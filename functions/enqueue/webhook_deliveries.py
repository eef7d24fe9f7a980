"""The webhook worker: the ``webhooks`` queue's event source feeds queued deliveries to
the ``enqueue`` function; each record is one event for one endpoint (partial batch
failures: a record whose handling broke is retried by SQS, then the dead-letter queue)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from sendrail.services import webhooks

from functions.enqueue.wiring import deps, providers

processor = BatchProcessor(event_type=EventType.SQS)


def _source(event: dict[str, Any]) -> str:
    records = event.get("Records") or [{}]
    return str(records[0].get("eventSourceARN", ""))


def is_webhook_event(event: dict[str, Any]) -> bool:
    """Records from the ``webhooks`` or ``webhook-items`` queue (by the ARN's ending)."""
    return _source(event).endswith((webhooks.QUEUE, webhooks.ITEMS))


def _record(record: SQSRecord) -> None:
    webhooks.deliver(
        deps(), json.loads(record.body), allow_private_hosts=providers().allow_private_hosts
    )


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if _source(event).endswith(webhooks.ITEMS):
        # All or nothing: the items become events in one go (a failure retries the batch).
        webhooks.gather(deps(), [json.loads(r["body"]) for r in event["Records"]])
        return {"batchItemFailures": []}
    response = process_partial_response(
        event=event, record_handler=_record, processor=processor, context=context
    )
    return {"batchItemFailures": list(response["batchItemFailures"])}
