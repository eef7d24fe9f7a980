"""The ``events`` queue's worker: opens and clicks that could not be recorded when they
happened are recorded here, once DynamoDB answers again. A record that fails stays in the
queue (partial batch failures) and is retried until the queue's redrive sends it to the
dead-letter queue, which is alarmed on."""

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
from sendrail.services import tracking

from functions.tracking.wiring import deps

processor = BatchProcessor(event_type=EventType.SQS)


def _record(record: SQSRecord) -> None:
    tracking.record(deps(), tracking.Hit.from_body(json.loads(record.body)))


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=_record, processor=processor, context=context
    )
    return {"batchItemFailures": list(response["batchItemFailures"])}
