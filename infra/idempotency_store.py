"""DynamoDB table for Powertools idempotency records."""

from __future__ import annotations

from aws_cdk import CfnOutput
from constructs import Construct

from infra.consumer_function import ConsumerFunction
from infra.defaults import secure_table

#: What Powertools' DynamoDB persistence layer calls (get, conditional put, update on completion, delete on error).
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


class IdempotencyStore(Construct):
    """On-demand table, partition key ``id``, TTL ``expiration``, point-in-time recovery.

    Encryption: the AWS-managed key (see :func:`infra.defaults.secure_table` for why).

    Example:
        >>> store = IdempotencyStore(stack, "Idempotency")  # doctest: +SKIP
        >>> store.grant_to(orders_function)  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, *, output_name: str | None = None) -> None:
        super().__init__(scope, construct_id)
        self.table = secure_table(self, partition_key="id", ttl_attribute="expiration")
        if output_name is not None:
            CfnOutput(self, "Name", value=self.table.table_name).override_logical_id(output_name)

    def grant_to(self, consumer: ConsumerFunction) -> None:
        """Grant the record calls on this table and set ``IDEMPOTENCY_TABLE_NAME``.

        Example:
            >>> store.grant_to(orders_function)  # doctest: +SKIP
        """
        self.table.grant(consumer.role, *IDEMPOTENCY_ACTIONS)
        consumer.add_environment("IDEMPOTENCY_TABLE_NAME", self.table.table_name)
