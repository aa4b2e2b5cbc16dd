"""A service's own state table (single-table design: ``pk`` / ``sk``)."""

from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy
from constructs import Construct

from infra.consumer_function import ConsumerFunction
from infra.defaults import secure_table

#: Item and transaction calls (TransactWriteItems is authorised per item action, ConditionCheckItem included).
STATE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
)


class StateTable(Construct):
    """On-demand table, ``pk`` / ``sk`` strings, TTL attribute ``expires_at`` (optional per item), PITR, retained.

    Encryption: the AWS-managed key (see :func:`infra.defaults.secure_table` for why).

    Example:
        >>> table = StateTable(stack, "State", output_name="OrdersTableName")  # doctest: +SKIP
        >>> table.grant_to(orders_function)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        output_name: str,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = secure_table(
            self, partition_key="pk", sort_key="sk", ttl_attribute="expires_at", removal_policy=removal_policy
        )
        CfnOutput(self, "Name", value=self.table.table_name).override_logical_id(output_name)

    def grant_to(self, consumer: ConsumerFunction) -> None:
        """Grant item and transaction calls on this table and set ``STATE_TABLE_NAME``.

        Example:
            >>> table.grant_to(orders_function)  # doctest: +SKIP
        """
        self.table.grant(consumer.role, *STATE_ACTIONS)
        consumer.add_environment("STATE_TABLE_NAME", self.table.table_name)
