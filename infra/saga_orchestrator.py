"""A saga orchestrator: its consumer function on the saga queue, its state table (one item per saga) and dedup table,
and the links to its participants.

The saga queue lives in MessagingCore (``OrderSagasQueueUrl``): participants must reply there (it is on their
``REPLY_TO_ALLOWLIST``) while the orchestrator sends to their queues, so a queue in the orchestrator's own stack
would make the stacks depend on each other. :meth:`SagaOrchestratorFunction.participant` links one participant:
the orchestrator may send to its queue (``<NAME>_QUEUE_URL``), the participant may reply to the saga queue.
Two alarms notify the alarm topic: a saga ended ``failed`` (metric ``SagasFailed``) and a saga still running a
minute past its deadline (``SagasOverdue``).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.consumer_function import ConsumerFunction, metrics_namespace
from infra.delayed_delivery import DelayedDelivery
from infra.idempotency_store import IdempotencyStore
from infra.reply_channel import ReplyChannel
from infra.service_queue import ServiceQueue
from infra.stage import staged as staged_name
from infra.state_table import StateTable


class SagaOrchestratorFunction(Construct):
    """The orchestrator of one saga type.

    Example:
        >>> saga = SagaOrchestratorFunction(stack, "Saga", function_name="order-saga", handler="order_saga.handler."
        ...     "lambda_handler", queue=core.order_sagas, delayed=core.delayed, replies=core.replies,
        ...     table_output="OrderSagaTableName", alarm_topic=core.alarms.topic)  # doctest: +SKIP
        >>> saga.participant("BILLING_COMMAND", billing.queue, billing.function)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function_name: str,
        handler: str,
        queue: ServiceQueue,
        delayed: DelayedDelivery,
        replies: ReplyChannel,
        table_output: str,
        alarm_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue = queue
        self.function = ConsumerFunction(
            self, "Handler", function_name=function_name, handler=handler, service_name=function_name,
            timeout=Duration.seconds(30),
        )
        self.function.consume(queue)
        self.function.add_environment("SAGA_QUEUE_URL", queue.queue_url)
        self.state = StateTable(self, "State", output_name=table_output)
        self.state.grant_to(self.function)
        self.idempotency = IdempotencyStore(self, "Idempotency")
        self.idempotency.grant_to(self.function)
        replies.allow_replies_from(self.function)  # the starting command's final answer
        delayed.allow(queue)  # the timeouts arrive as scheduled messages
        delayed.grant_schedule(self.function)
        queue.grant_send(self.function.role)  # a timeout due already when it is sent goes directly
        self.alarms = [
            self._alarm("SagasFailed", f"{function_name} sagas failed",
                        "A saga ended failed: a compensation was refused for good (fifo-messaging saga <id>).",
                        alarm_topic),
            self._alarm("SagasOverdue", f"{function_name} sagas past their deadline",
                        "A saga was still running a minute after its deadline: its timeout did not end it.",
                        alarm_topic),
        ]

    def _alarm(self, metric_name: str, alarm_name: str, description: str, topic: sns.ITopic) -> cloudwatch.Alarm:
        """An alarm on one of the orchestrator's saga metrics (any datum in a minute), notifying ``topic``."""
        metric = cloudwatch.Metric(
            namespace=metrics_namespace(self), metric_name=metric_name,
            dimensions_map={"service": self.function.service_name}, statistic="Sum", period=Duration.minutes(1),
        )
        alarm = cloudwatch.Alarm(
            self, metric_name, alarm_name=staged_name(self, alarm_name), alarm_description=description, metric=metric,
            threshold=1, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
        return alarm

    def participant(self, name: str, queue: ServiceQueue, function: ConsumerFunction) -> None:
        """Link a participant: ``<name>_QUEUE_URL`` + send grant for the orchestrator, and the saga queue on the
        participant's reply allowlist with its send grant."""
        queue.grant_send(self.function.role)
        self.function.add_environment(f"{name}_QUEUE_URL", queue.queue_url)
        self.queue.grant_send(function.role)
        function.allow_reply_to(self.queue.queue_url)
