"""Embedded AWS: moto in this process, with the tables, queues and KMS key the stack needs,
created from the same specs as the CDK app (``sendrail.storage.tables.table_specs`` and
``sendrail.storage.queues.queue_specs``)."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import Any

import boto3
from moto import mock_aws
from moto.core import models as moto_models
from sendrail.services.deps import Deps
from sendrail.storage.queues import SqsQueues, queue_specs
from sendrail.storage.secrets import SecretBox
from sendrail.storage.tables import TableNames, bind, table_specs

from sendrail_local import moto_sqs

REGION = "us-east-1"
_INSTALLED: list[bool] = []  # moto is prepared once per process


@dataclass(frozen=True)
class LocalResources:
    tables: dict[str, str]
    queues: dict[str, str]
    kms_key_id: str


def prepare_moto() -> None:
    """What moto in this process needs before the stack uses it, once per process:

    - each AWS call is atomic, as in AWS (a conditional write checks and writes as one
      step). moto processes requests in the calling thread, so concurrent invocations of
      the local stack (HTTP requests, scheduled runs, racing dispatchers in tests) take
      turns per call, exactly as DynamoDB serialises writes to one item;
    - SQS queue attributes are computed only when read (:mod:`sendrail_local.moto_sqs`):
      moto otherwise walks the whole queue for every message sent or received."""
    if _INSTALLED:
        return
    stubber = moto_models.botocore_stubber
    lock = threading.RLock()
    original = stubber.process_request

    def process_request(request: Any) -> Any:
        with lock:
            return original(request)

    stubber.process_request = process_request  # type: ignore[method-assign]
    moto_sqs.install()
    _INSTALLED.append(True)


def fake_credentials() -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        os.environ[name] = value


class EmbeddedAws:
    """Starts moto and creates every resource; ``stop()`` tears it down."""

    def __init__(self, prefix: str = "sendrail-local-") -> None:
        self.prefix = prefix
        self._mock = mock_aws()

    def start(self) -> LocalResources:
        fake_credentials()
        self._mock.start()
        prepare_moto()
        return create_resources(self.prefix)

    def stop(self) -> None:
        self._mock.stop()


def create_resources(prefix: str) -> LocalResources:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    names = TableNames.with_prefix(prefix)
    for spec in table_specs():
        key_schema = [{"AttributeName": spec.hash_key, "KeyType": "HASH"}]
        if spec.range_key:
            key_schema.append({"AttributeName": spec.range_key, "KeyType": "RANGE"})
        request: dict[str, Any] = {
            "TableName": getattr(names, spec.logical),
            "KeySchema": key_schema,
            "AttributeDefinitions": [
                {"AttributeName": n, "AttributeType": t} for n, t in spec.attribute_types.items()
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if spec.indexes:
            request["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index.name,
                    "KeySchema": [{"AttributeName": index.hash_key, "KeyType": "HASH"}]
                    + (
                        [{"AttributeName": index.range_key, "KeyType": "RANGE"}]
                        if index.range_key
                        else []
                    ),
                    "Projection": {"ProjectionType": index.projection},
                }
                for index in spec.indexes
            ]
        dynamodb.create_table(**request)
        if spec.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=request["TableName"],
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )
    sqs: Any = boto3.client("sqs", region_name=REGION)
    urls: dict[str, str] = {}
    for queue in sorted(queue_specs(), key=lambda q: q.max_receive_count is not None):  # DLQs first
        attributes: dict[str, Any] = {
            "VisibilityTimeout": str(queue.visibility_timeout),
            "MessageRetentionPeriod": str(queue.retention_seconds),
        }
        if queue.dead_letter:
            dlq_arn = sqs.get_queue_attributes(
                QueueUrl=urls[queue.dead_letter], AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receive_count}
            )
        urls[queue.logical] = sqs.create_queue(
            QueueName=f"{prefix}{queue.logical}", Attributes=attributes
        )["QueueUrl"]
    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.create_key(Description="sendrail local secrets")["KeyMetadata"]["KeyId"]
    return LocalResources(
        tables={logical: getattr(names, logical) for logical in TableNames.__dataclass_fields__},
        queues=urls,
        kms_key_id=key_id,
    )


def deps_on(prefix: str, signing_key: bytes) -> Deps:
    """Fresh resources under ``prefix`` (:func:`create_resources`), the tables bound to
    them, and the services' dependencies over them: for the benchmarks and tests that call
    the services directly. Wherever AWS is at the time (moto here, or an endpoint)."""
    resources = create_resources(prefix)
    bind(TableNames(**resources.tables), REGION)
    return Deps(
        queues=SqsQueues(resources.queues, REGION),
        secrets=SecretBox(resources.kms_key_id, REGION),
        signing_key=signing_key,
        public_base_url="http://127.0.0.1:9",
        tracking_base_url="http://127.0.0.1:9",
    )
