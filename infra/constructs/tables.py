"""DynamoDB tables, built from the pynamodb models (``sendrail.storage.tables``)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct
from sendrail.storage.tables import table_specs

_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


class Tables(Construct):
    """On-demand, point-in-time recovery, encrypted with the stack's key, TTL where
    counters and expiring items live."""

    def __init__(
        self, scope: Construct, cid: str, *, key: kms.IKey, removal: RemovalPolicy
    ) -> None:
        super().__init__(scope, cid)
        self.by_name: dict[str, dynamodb.Table] = {}
        for spec in table_specs():
            table = dynamodb.Table(
                self,
                spec.logical.title(),
                partition_key=dynamodb.Attribute(
                    name=spec.hash_key, type=_TYPES[spec.attribute_types[spec.hash_key]]
                ),
                sort_key=dynamodb.Attribute(
                    name=spec.range_key, type=_TYPES[spec.attribute_types[spec.range_key]]
                )
                if spec.range_key
                else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
                encryption_key=key,
                time_to_live_attribute=spec.ttl_attribute,
                removal_policy=removal,
            )
            for index in spec.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=dynamodb.Attribute(
                        name=index.hash_key, type=_TYPES[spec.attribute_types[index.hash_key]]
                    ),
                    sort_key=dynamodb.Attribute(
                        name=index.range_key, type=_TYPES[spec.attribute_types[index.range_key]]
                    )
                    if index.range_key
                    else None,
                    projection_type=dynamodb.ProjectionType.ALL
                    if index.projection == "ALL"
                    else dynamodb.ProjectionType.KEYS_ONLY,
                )
            self.by_name[spec.logical] = table

    def names(self) -> dict[str, str]:
        return {logical: table.table_name for logical, table in self.by_name.items()}
