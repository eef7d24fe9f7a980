"""The import worker: the ``import`` queue's event source feeds chunks of large recipient
uploads to the ``enqueue`` function; each record is one chunk (partial batch failures)."""

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
from sendrail.observability import logger
from sendrail.services import imports

from functions.enqueue.wiring import deps

processor = BatchProcessor(event_type=EventType.SQS)


def _record(record: SQSRecord) -> None:
    body = json.loads(record.body)
    written = imports.process_chunk(deps(), body)
    logger.info(
        "import chunk",
        extra={
            "import_id": body.get("i"),
            "chunk": body.get("n"),
            "written": written,
            "rows": len(body.get("rows", [])),
        },
    )


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=_record, processor=processor, context=context
    )
    return {"batchItemFailures": list(response["batchItemFailures"])}
