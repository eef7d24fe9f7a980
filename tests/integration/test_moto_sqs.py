"""The local stand-in's SQS queue attributes (``sendrail_local.moto_sqs``): the same
answers as moto's own, each computed only when read."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sqs.models import Queue, sqs_backends
from sendrail_local.aws import REGION, LocalResources
from sendrail_local.moto_sqs import MOTO_ATTRIBUTES, QueueAttributes


def _queue(url: str) -> Queue:
    backend = sqs_backends[DEFAULT_ACCOUNT_ID][REGION]
    return backend.queues[url.rsplit("/", 1)[1]]


@pytest.fixture
def sqs(aws: LocalResources) -> Any:
    return boto3.client("sqs", region_name=REGION)


QUEUES = {
    "plain": {},
    "fifo.fifo": {"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    "kms": {"KmsMasterKeyId": "alias/aws/sqs", "DelaySeconds": "3"},
    "redriven": {"MessageRetentionPeriod": "120"},
}


@pytest.mark.parametrize("name", QUEUES)
def test_every_attribute_is_moto_s_own_in_the_same_order(sqs: Any, name: str) -> None:
    attributes = dict(QUEUES[name])
    if name == "redriven":
        dlq = sqs.create_queue(QueueName="dead")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
        policy = {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": 2}
        attributes["RedrivePolicy"] = json.dumps(policy)
        attributes["Policy"] = json.dumps({"Version": "2012-10-17", "Statement": []})
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    extra = {"MessageGroupId": "g"} if name.endswith(".fifo") else {}
    sqs.send_message(QueueUrl=url, MessageBody="one", **extra)
    sqs.send_message(QueueUrl=url, MessageBody="two", **extra)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
    queue = _queue(url)

    lazy = queue.attributes
    assert isinstance(lazy, QueueAttributes)
    assert list(lazy.items()) == list(MOTO_ATTRIBUTES(queue).items())
    assert lazy == MOTO_ATTRIBUTES(queue)
    assert "Nonsense" not in lazy and lazy.get("Nonsense") is None


def test_get_queue_attributes_answers_counts_and_named_values(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="counted", Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(5)]
    )
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)

    every = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert every["ApproximateNumberOfMessages"] == "3"
    assert every["ApproximateNumberOfMessagesNotVisible"] == "2"
    assert every["ApproximateNumberOfMessagesDelayed"] == "1"
    assert every["VisibilityTimeout"] == "45"
    named = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["VisibilityTimeout", "ApproximateNumberOfMessages"]
    )["Attributes"]
    assert named == {"VisibilityTimeout": "45", "ApproximateNumberOfMessages": "3"}


def test_a_receive_of_ten_walks_the_queue_once(sqs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's own attributes walk the whole queue for each message received; here only
    the receive itself does."""
    url = sqs.create_queue(QueueName="long")["QueueUrl"]
    for start in range(0, 200, 10):
        entries = [{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, start + 10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    walks: list[int] = []
    walk = vars(Queue)["messages"].fget

    def counted(queue: Queue) -> Any:
        walks.append(1)
        return walk(queue)

    monkeypatch.setattr(Queue, "messages", property(counted))
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(got) == 10
    assert len(walks) == 1
