"""DynamoDB table for the dedup records of consumed messages (:mod:`messaging.unit_of_work`)."""

from __future__ import annotations

from aws_cdk import CfnOutput
from constructs import Construct

from infra.consumer_function import ConsumerFunction
from infra.defaults import secure_table

#: What the commit calls: a conditional put of the record (alone or in a transaction, which IAM authorises per item
#: action) and, should a cancelled transaction not return the stored record, a get.
IDEMPOTENCY_ACTIONS = ("dynamodb:PutItem", "dynamodb:GetItem")


class IdempotencyStore(Construct):
    """On-demand table, partition key ``id``, TTL ``expiration``, point-in-time recovery.

    Holds a message's dedup record when it cannot ride on the one item its handler created (updates, several writes,
    no write at all); records expire after ``IDEMPOTENCY_EXPIRY_SECONDS``.

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
