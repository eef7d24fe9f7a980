"""Lambda's SQS event source mapping, locally: poll a queue, invoke the function with the
records, delete the ones it did not report as failed (partial batch responses)."""

from __future__ import annotations

import logging
import threading
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import boto3

from sendrail_local.aws import REGION
from sendrail_local.events import sqs_event

log = logging.getLogger("sendrail.local.event_sources")

RECEIVE_MAX = 10  # SQS hands out at most ten messages a receive


def drain_once(
    queue_url: str,
    invoke: Any,
    *,
    batch_size: int = 1,
    visibility: int = 180,
    region: str = REGION,
    sqs: Any = None,
) -> int:
    """Receive one batch and hand it to ``invoke(event)``; returns how many were handled.
    ``sqs``: the client to use (a poller keeps one: making a client costs several times
    the receive)."""
    sqs = sqs or boto3.client("sqs", region_name=region)
    received = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=batch_size,
        VisibilityTimeout=visibility,
        WaitTimeSeconds=0,
        MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
    ).get("Messages", [])
    if not received:
        return 0
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    try:
        response = invoke(sqs_event(arn, received)) or {}
    except Exception:
        log.exception("the event source's function failed")
        return 0
    failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
    done = [m for m in received if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
            ],
        )
    return len(done)


class SqsEventSource:
    """Polls ``queue_url`` for ``function``: up to ``batch_size`` records an invocation (at
    most one receive's ten; Lambda's mapping gathers larger batches from several)."""

    def __init__(
        self,
        queue_url: str,
        invoke: Any,
        guard: AbstractContextManager[Any] | None = None,
        interval: float = 0.2,
        *,
        function: str = "",
        batch_size: int = 1,
    ) -> None:
        self.queue_url = queue_url
        self.function = function
        self.batch_size = batch_size
        self._invoke = invoke
        self._guard = guard
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="event-source", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        sqs = boto3.client("sqs", region_name=REGION)  # for the poller's life, its thread only
        while not self._stop.is_set():
            with self._guard or nullcontext():
                handled = drain_once(
                    self.queue_url,
                    self._invoke,
                    batch_size=min(self.batch_size, RECEIVE_MAX),
                    sqs=sqs,
                )
            if not handled:
                self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
