"""The cost bench's DynamoDB write units (``bench/write_units.py``): what AWS bills for each
kind of write, table and global secondary indexes apart, read off moto's items."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from sendrail_local.aws import REGION, LocalResources

from bench.write_units import WriteUnits

TABLE = "units-test"


@pytest.fixture
def table(aws: LocalResources) -> tuple[Any, WriteUnits]:
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "lease", "owner")
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "sparse",
                "KeySchema": [{"AttributeName": "lease", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
            {
                "IndexName": "whole",
                "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
    )
    units = WriteUnits()
    client.meta.events.register("before-parameter-build.dynamodb", units.before)
    client.meta.events.register("after-call.dynamodb", units.after)
    units.enabled = True
    return client, units


def _key(sk: str = "a") -> dict[str, Any]:
    return {"pk": {"S": "p"}, "sk": {"S": sk}}


def _set_note(client: Any) -> None:
    """Change an attribute that no index has for a key."""
    client.update_item(
        TableName=TABLE,
        Key=_key(),
        UpdateExpression="SET note = :n",
        ExpressionAttributeValues={":n": {"S": "x"}},
    )


def test_a_new_item_is_written_on_the_table_and_on_each_index_its_keys_put_it_in(
    table: tuple[Any, WriteUnits],
) -> None:
    client, units = table
    client.put_item(TableName=TABLE, Item={**_key(), "lease": {"S": "L"}})
    assert units.units == {TABLE: 1, f"{TABLE}/sparse": 1}
    client.put_item(TableName=TABLE, Item={**_key("b"), "owner": {"S": "o"}})
    assert units.units == {TABLE: 2, f"{TABLE}/sparse": 1, f"{TABLE}/whole": 1}


def test_a_keys_only_index_is_written_only_when_its_keys_come_change_or_go(
    table: tuple[Any, WriteUnits],
) -> None:
    client, units = table
    client.put_item(TableName=TABLE, Item={**_key(), "lease": {"S": "L"}})
    units.reset()
    _set_note(client)
    assert units.units == {TABLE: 1}
    client.update_item(
        TableName=TABLE,
        Key=_key(),
        UpdateExpression="SET lease = :s",
        ExpressionAttributeValues={":s": {"S": "M"}},
    )
    assert units.units == {TABLE: 2, f"{TABLE}/sparse": 2}  # moved: a delete and a put
    client.update_item(TableName=TABLE, Key=_key(), UpdateExpression="REMOVE lease")
    assert units.units == {TABLE: 3, f"{TABLE}/sparse": 3}


def test_an_index_projecting_the_item_is_written_whenever_the_item_changes(
    table: tuple[Any, WriteUnits],
) -> None:
    client, units = table
    client.put_item(TableName=TABLE, Item={**_key(), "owner": {"S": "o"}})
    units.reset()
    _set_note(client)
    assert units.units == {TABLE: 1, f"{TABLE}/whole": 1}


def test_units_follow_the_larger_of_the_item_before_and_after_by_the_kilobyte(
    table: tuple[Any, WriteUnits],
) -> None:
    client, units = table
    client.put_item(TableName=TABLE, Item={**_key(), "body": {"S": "x" * 2500}})
    assert units.units == {TABLE: 3}
    client.update_item(TableName=TABLE, Key=_key(), UpdateExpression="REMOVE body")
    assert units.units == {TABLE: 6}  # the item as it was, before the write, is billed
    client.delete_item(TableName=TABLE, Key=_key())
    assert units.units == {TABLE: 7}


def test_a_failed_conditional_write_still_costs_its_table_units(
    table: tuple[Any, WriteUnits],
) -> None:
    client, units = table
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.put_item(
            TableName=TABLE,
            Item={**_key(), "lease": {"S": "L"}},
            ConditionExpression="attribute_exists(pk)",
        )
    assert units.units == {TABLE: 1}


def test_a_batch_write_counts_each_item(table: tuple[Any, WriteUnits]) -> None:
    client, units = table
    client.batch_write_item(
        RequestItems={
            TABLE: [{"PutRequest": {"Item": {**_key(s), "lease": {"S": "L"}}}} for s in "abc"]
        }
    )
    client.batch_write_item(RequestItems={TABLE: [{"DeleteRequest": {"Key": _key("a")}}]})
    assert units.units == {TABLE: 4, f"{TABLE}/sparse": 4}
