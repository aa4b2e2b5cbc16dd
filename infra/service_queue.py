"""SQS FIFO service queue with its FIFO dead-letter queue, high-throughput mode, CMK and TLS-only policy."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.defaults import customer_managed_key
from infra.stage import staged

#: AWS recommends a source-queue visibility timeout of at least six times the consumer function's timeout.
VISIBILITY_TIMEOUT_FACTOR = 6
#: Receives before SQS moves a message to the DLQ. On a FIFO queue consumed in batches, a batch that fails as a whole
#: (the function crashed or timed out) counts a receive for every message in it, also for those already processed or
#: never reached, and skipping a failed record's group counts one for the records behind it. Permanent failures never
#: use these receives (the consumer dead-letters them at once), so the count is a budget for transient faults only:
#: 10 keeps a valid message out of the DLQ under the fault rates `make chaos` injects (at 5 it was not). The price:
#: a message that always fails transiently holds its group for 10 x the visibility timeout before it moves.
MAX_RECEIVE_COUNT_DEFAULT = 10
_FIFO_SUFFIX = ".fifo"
_MAX_QUEUE_NAME = 80


class ServiceQueue(Construct):
    """A FIFO queue + FIFO DLQ sharing one customer-managed key, with stable outputs.

    ``name`` is the output prefix (``<name>QueueUrl``, ``<name>QueueArn``, ``<name>DeadLetterQueueUrl``);
    ``queue_name`` the physical name without ``.fifo`` (the DLQ is ``<queue_name>-dlq.fifo``), stage-prefixed.

    Example:
        >>> queue = ServiceQueue(stack, "Commands", name="OrdersCommand",
        ...                      queue_name="orders-commands")  # doctest: +SKIP
        >>> queue.queue_url  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        queue_name: str,
        max_receive_count: int = MAX_RECEIVE_COUNT_DEFAULT,
        retention: Duration | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        queue_name = staged(self, queue_name)
        if max_receive_count < 1:
            raise ValueError("max_receive_count must be at least 1")
        if len(queue_name) + len("-dlq") + len(_FIFO_SUFFIX) > _MAX_QUEUE_NAME:
            raise ValueError(f"queue name {queue_name!r} is too long for SQS")
        self.name = name
        self.queue_name = f"{queue_name}{_FIFO_SUFFIX}"
        self.dead_letter_queue_name = f"{queue_name}-dlq{_FIFO_SUFFIX}"
        self.max_receive_count = max_receive_count
        self.key = customer_managed_key(
            self, f"Encrypts the SQS FIFO queue {self.queue_name} and its dead-letter queue"
        )
        self.dead_letter_queue = self._fifo_queue(
            "DeadLetterQueue", self.dead_letter_queue_name, retention=Duration.days(14)
        )
        self.queue = self._fifo_queue(
            "Queue",
            self.queue_name,
            retention=retention or Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=max_receive_count, queue=self.dead_letter_queue),
        )
        CfnOutput(self, "Url", value=self.queue.queue_url).override_logical_id(f"{name}QueueUrl")
        CfnOutput(self, "Arn", value=self.queue.queue_arn).override_logical_id(f"{name}QueueArn")
        CfnOutput(self, "DeadLetterUrl", value=self.dead_letter_queue.queue_url).override_logical_id(
            f"{name}DeadLetterQueueUrl"
        )

    def _fifo_queue(
        self,
        construct_id: str,
        queue_name: str,
        *,
        retention: Duration,
        dead_letter_queue: sqs.DeadLetterQueue | None = None,
    ) -> sqs.Queue:
        """A FIFO queue under this construct's key: explicit dedup ids, high-throughput mode, TLS only."""
        return sqs.Queue(
            self,
            construct_id,
            queue_name=queue_name,
            fifo=True,
            content_based_deduplication=False,
            deduplication_scope=sqs.DeduplicationScope.MESSAGE_GROUP,
            fifo_throughput_limit=sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            data_key_reuse=Duration.minutes(5),
            enforce_ssl=True,
            retention_period=retention,
            dead_letter_queue=dead_letter_queue,
        )

    @property
    def queue_url(self) -> str:
        """The queue URL (a token)."""
        return self.queue.queue_url

    @property
    def dead_letter_queue_url(self) -> str:
        """The dead-letter queue URL (a token)."""
        return self.dead_letter_queue.queue_url

    def set_visibility_timeout_for(self, consumer_timeout: Duration) -> None:
        """Set the visibility timeout to six times the consumer's timeout (AWS recommendation for Lambda consumers).

        Example:
            >>> queue.set_visibility_timeout_for(Duration.seconds(30))  # 180 s  # doctest: +SKIP
        """
        cfn_queue = self.queue.node.default_child
        if not isinstance(cfn_queue, sqs.CfnQueue):
            raise TypeError("the service queue has no CfnQueue")
        cfn_queue.visibility_timeout = int(consumer_timeout.to_seconds()) * VISIBILITY_TIMEOUT_FACTOR

    def enable_content_based_deduplication(self) -> None:
        """Dedup messages that come without an id by a hash of their body (what an EventBridge Scheduler target
        needs on FIFO); messages sent with an explicit ``MessageDeduplicationId`` keep theirs."""
        cfn_queue = self.queue.node.default_child
        if not isinstance(cfn_queue, sqs.CfnQueue):
            raise TypeError("the service queue has no CfnQueue")
        cfn_queue.content_based_deduplication = True

    def grant_send(self, grantee: iam.IGrantable) -> None:
        """Allow ``grantee`` to send to the queue (``sqs:SendMessage`` + data-key calls on this queue's key only).

        Example:
            >>> reply_queue.grant_send(orders_function.role)  # doctest: +SKIP
        """
        _grant_send(grantee, self.queue, self.key)

    def grant_send_dead_letter(self, grantee: iam.IGrantable) -> None:
        """Allow ``grantee`` to send to the dead-letter queue (permanent failures are dead-lettered by the consumer).

        Example:
            >>> queue.grant_send_dead_letter(function.role)  # doctest: +SKIP
        """
        _grant_send(grantee, self.dead_letter_queue, self.key)


def _grant_send(grantee: iam.IGrantable, queue: sqs.IQueue, key: kms.IKey) -> None:
    iam.Grant.add_to_principal(
        grantee=grantee, actions=["sqs:SendMessage", "sqs:GetQueueAttributes"], resource_arns=[queue.queue_arn]
    )
    iam.Grant.add_to_principal(
        grantee=grantee, actions=["kms:GenerateDataKey", "kms:Decrypt"], resource_arns=[key.key_arn]
    )
