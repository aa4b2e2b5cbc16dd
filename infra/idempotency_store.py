"""DynamoDB table for Powertools idempotency records."""

from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.consumer_function import ConsumerFunction

#: What Powertools' DynamoDB persistence layer calls (get, conditional put, update on completion, delete on error).
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


class IdempotencyStore(Construct):
    """On-demand table, partition key ``id``, TTL ``expiration``, point-in-time recovery.

    Encryption: the AWS-managed key (``aws/dynamodb``). Only in-account roles reach the table, through DynamoDB,
    and no other service must read its data, so a customer-managed key would add key-policy management and
    ``kms:*`` grants on every consumer without narrowing who can read the records.

    Example:
        >>> store = IdempotencyStore(stack, "Idempotency")  # doctest: +SKIP
        >>> store.grant_to(orders_function)  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, *, output_name: str | None = None) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="expiration",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.DESTROY,
        )
        if output_name is not None:
            CfnOutput(self, "Name", value=self.table.table_name).override_logical_id(output_name)

    def grant_to(self, consumer: ConsumerFunction) -> None:
        """Grant the record calls on this table and set ``IDEMPOTENCY_TABLE_NAME``.

        Example:
            >>> store.grant_to(orders_function)  # doctest: +SKIP
        """
        self.table.grant(consumer.role, *IDEMPOTENCY_ACTIONS)
        consumer.add_environment("IDEMPOTENCY_TABLE_NAME", self.table.table_name)
