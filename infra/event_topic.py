"""SNS FIFO event topic with a customer-managed key and TLS-only access."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import CfnOutput
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.defaults import customer_managed_key
from infra.stage import staged

if TYPE_CHECKING:
    from infra.consumer_function import ConsumerFunction
    from infra.service_queue import ServiceQueue


class EventTopic(Construct):
    """An SNS FIFO topic: explicit deduplication ids, per-message-group throughput, CMK, TLS only.

    Publishers must send a ``MessageGroupId`` (the envelope's ``partitionkey``) and a ``MessageDeduplicationId``
    (derived from ``source`` + ``id``); content-based deduplication is off on purpose.

    Example:
        >>> topic = EventTopic(stack, "OrderEvents", topic_name="order-events", output_name="OrderEventsTopicArn")
        >>> topic.subscribe_queue(billing_queue, ["orders.OrderCreated"], ["event"])  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, *, topic_name: str, output_name: str | None = None) -> None:
        super().__init__(scope, construct_id)
        self.topic_name = f"{staged(self, topic_name)}.fifo"
        self.key = customer_managed_key(self, f"Encrypts the SNS FIFO topic {self.topic_name}")
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=self.topic_name,
            fifo=True,
            content_based_deduplication=False,
            fifo_throughput_scope=sns.FifoThroughputScope.MESSAGE_GROUP,
            master_key=self.key,
            enforce_ssl=True,
        )
        if output_name is not None:
            CfnOutput(self, "Arn", value=self.topic.topic_arn).override_logical_id(output_name)

    @property
    def topic_arn(self) -> str:
        """The topic ARN (a token)."""
        return self.topic.topic_arn

    def subscribe_queue(
        self, queue: ServiceQueue, filter_types: Sequence[str], kinds: Sequence[str]
    ) -> sns.Subscription:
        """Subscribe a service queue: raw delivery, filter policy on the body's ``type`` and ``kind``.

        The subscription lands in the queue's stack; the queue policy and the queue key policy let only this topic
        deliver (``aws:SourceArn``).

        Example:
            >>> orders_events.subscribe_queue(billing_queue, ["orders.OrderCreated"], ["event"])  # doctest: +SKIP
        """
        if not filter_types or not kinds:
            raise ValueError("a subscription needs at least one type and one kind to filter on")
        subscription = subscriptions.SqsSubscription(
            queue.queue,
            raw_message_delivery=True,
            filter_policy_with_message_body={
                "type": sns.FilterOrPolicy.filter(sns.SubscriptionFilter.string_filter(allowlist=list(filter_types))),
                "kind": sns.FilterOrPolicy.filter(sns.SubscriptionFilter.string_filter(allowlist=list(kinds))),
            },
        )
        return self.topic.add_subscription(subscription)

    def publish_from(self, consumer: ConsumerFunction) -> None:
        """Make this the consumer's event topic: publish grant and ``EVENT_TOPIC_ARN``.

        Example:
            >>> order_events.publish_from(orders_function)  # doctest: +SKIP
        """
        self.grant_publish(consumer.role)
        consumer.add_environment("EVENT_TOPIC_ARN", self.topic.topic_arn)

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """Allow ``grantee`` to publish: ``sns:Publish`` on this topic and the data-key calls on its key only.

        Example:
            >>> topic.grant_publish(orders_function.role)  # doctest: +SKIP
        """
        iam.Grant.add_to_principal(grantee=grantee, actions=["sns:Publish"], resource_arns=[self.topic.topic_arn])
        iam.Grant.add_to_principal(
            grantee=grantee, actions=["kms:GenerateDataKey", "kms:Decrypt"], resource_arns=[self.key.key_arn]
        )
