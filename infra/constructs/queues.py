"""SQS queues: one per priority band plus the import queue, each with its DLQ, built from
``sendrail.storage.queues.queue_specs``."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from sendrail.storage.queues import queue_specs


class Queues(Construct):
    def __init__(self, scope: Construct, cid: str, *, removal: RemovalPolicy) -> None:
        super().__init__(scope, cid)
        self.by_name: dict[str, sqs.Queue] = {}
        specs = sorted(queue_specs(), key=lambda s: s.max_receive_count is not None)  # DLQs first
        for spec in specs:
            dead_letter = None
            if spec.dead_letter:
                dead_letter = sqs.DeadLetterQueue(
                    queue=self.by_name[spec.dead_letter],
                    max_receive_count=spec.max_receive_count or 1,
                )
            self.by_name[spec.logical] = sqs.Queue(
                self,
                spec.logical.replace("-", " ").title().replace(" ", ""),
                visibility_timeout=Duration.seconds(spec.visibility_timeout),
                retention_period=Duration.seconds(spec.retention_seconds),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                dead_letter_queue=dead_letter,
                removal_policy=removal,
            )

    def urls(self) -> dict[str, str]:
        return {logical: queue.queue_url for logical, queue in self.by_name.items()}

    def send_queues(self) -> list[sqs.Queue]:
        return [q for name, q in self.by_name.items() if name.startswith("send-")]
