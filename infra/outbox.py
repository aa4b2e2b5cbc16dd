"""A transactional outbox: the outbox table with its stream, the relay function that tails it, and the relay's DLQ."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.compliance import acknowledge
from infra.consumer_function import ConsumerFunction
from infra.defaults import customer_managed_key
from infra.event_topic import EventTopic
from infra.service_queue import ServiceQueue
from infra.stage import staged

RELAY_HANDLER = "outbox_relay.handler.lambda_handler"
PRODUCER_ACTIONS = ("dynamodb:PutItem", "dynamodb:ConditionCheckItem")
"""What a producer needs on the outbox table: its items are puts inside ``TransactWriteItems``."""
RELAY_BATCH_SIZE = 100
RELAY_RETRY_ATTEMPTS = 10_000
"""Transient failures are retried (the relay reports the record to resume from) until the record is a day old."""


class TransactionalOutbox(Construct):
    """The outbox of one producing service (transaction log tailing: DynamoDB Streams -> Lambda).

    - Table ``pk`` (the message's ``partitionkey``) / ``sk`` (time-ordered), TTL ``expires_at``, stream
      ``NEW_IMAGE``, PITR, encrypted.
    - Relay function (:mod:`messaging.relay`) on the stream: ``ParallelizationFactor`` 1 (one batch per shard at a
      time: order per key), partial batch responses, retries until the record is a day old, then Lambda's failure
      record to the relay DLQ (on-failure destination); the relay also dead-letters what the broker refuses for good.
    - Relay DLQ: standard SQS (on-failure destinations cannot be FIFO), customer-managed key, TLS only, 14 days.

    Example:
        >>> outbox = TransactionalOutbox(stack, "Outbox", name="orders",
        ...                              output_name="OrdersOutboxTableName")  # doctest: +SKIP
        >>> outbox.grant_producer(api_function)  # doctest: +SKIP
        >>> outbox.deliver_to_queue(orders_commands)  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, *, name: str, output_name: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="expires_at",
            stream=dynamodb.StreamViewType.NEW_IMAGE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
        )
        dlq_name = staged(self, f"{name}-outbox-relay-dlq")
        self.dead_letter_queue_name = dlq_name
        self.key = customer_managed_key(self, f"Encrypts the outbox relay dead-letter queue {dlq_name}")
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=dlq_name,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself a dead-letter queue: the relay's on-failure destination and where it puts outbox "
            "items the broker refuses for good (on-failure destinations cannot be FIFO, so it is no redrive DLQ).",
        )
        self.relay = ConsumerFunction(
            self, "Relay", function_name=f"{name}-outbox-relay", handler=RELAY_HANDLER,
            service_name=f"{name}-outbox-relay",
        )
        self.relay.function.add_event_source(
            event_sources.DynamoEventSource(
                self.table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=RELAY_BATCH_SIZE,
                parallelization_factor=1,
                bisect_batch_on_error=False,
                report_batch_item_failures=True,
                retry_attempts=RELAY_RETRY_ATTEMPTS,
                max_record_age=Duration.days(1),
                on_failure=event_sources.SqsDlq(self.dead_letter_queue),
                # Only new items are messages: TTL deletions (REMOVE) never invoke the relay.
                filters=[lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.is_equal("INSERT")})],
            )
        )
        # SqsDlq grants the relay sqs:SendMessage and CDK's KMS actions for an encrypted queue (the relay's own dead
        # letters use the same grant); those actions carry wildcards, on this one key only.
        acknowledge(
            self.relay.role,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "dynamodb:ListStreams (added by the stream's event source mapping) and X-Ray's two actions support no "
            "resource-level permissions; the stream itself is named by its ARN.",
        )
        for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
            acknowledge(
                self.relay.role,
                f"AwsSolutions::AwsSolutions-IAM5[Action::{action}]",
                "CDK's grant to send to the KMS-encrypted relay dead-letter queue (the on-failure destination); the "
                "statement names that queue's own key as its only resource.",
            )
        self.relay.add_environment("RELAY_DEAD_LETTER_QUEUE_URL", self.dead_letter_queue.queue_url)
        CfnOutput(self, "Name", value=self.table.table_name).override_logical_id(output_name)
        # <Name>DeadLetterQueueUrl, as every dead-letter queue's output (the DLQ tools find them by that suffix);
        # <Name>DlqUrl is its first name, kept for those who read it.
        relay = output_name.removesuffix("TableName") + "Relay"
        CfnOutput(self, "DeadLetterQueueUrl", value=self.dead_letter_queue.queue_url).override_logical_id(
            f"{relay}DeadLetterQueueUrl"
        )
        CfnOutput(self, "DeadLetterUrl", value=self.dead_letter_queue.queue_url).override_logical_id(f"{relay}DlqUrl")

    @property
    def stream_arn(self) -> str:
        """The ARN of the table's stream."""
        return self.table.table_stream_arn or ""

    def grant_producer(self, producer: ConsumerFunction) -> None:
        """Let ``producer`` write outbox items (puts in its transactions) and set ``OUTBOX_TABLE_NAME``.

        Example:
            >>> outbox.grant_producer(api_function)  # doctest: +SKIP
        """
        self.table.grant(producer.role, *PRODUCER_ACTIONS)
        producer.add_environment("OUTBOX_TABLE_NAME", self.table.table_name)

    def grant_producer_principal(self, principal: iam.IGrantable) -> None:
        """The same grant for a producer outside this app (a container's task role, a script's user)."""
        self.table.grant(principal, *PRODUCER_ACTIONS)

    def deliver_to_queue(self, queue: ServiceQueue) -> None:
        """Let the relay send to ``queue`` (and use its key).

        Example:
            >>> outbox.deliver_to_queue(orders_commands)  # doctest: +SKIP
        """
        queue.grant_send(self.relay.role)

    def deliver_to_topic(self, topic: EventTopic) -> None:
        """Let the relay publish to ``topic`` (and use its key).

        Example:
            >>> outbox.deliver_to_topic(order_events)  # doctest: +SKIP
        """
        topic.grant_publish(self.relay.role)
