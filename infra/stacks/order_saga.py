"""OrderSaga: the orchestrator of the order saga (``orders.PlaceOrder`` on ``order-sagas``), linked to billing's
credit and inventory's stock."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.consumer_function import ConsumerFunction
from infra.delayed_delivery import DelayedDelivery
from infra.reply_channel import ReplyChannel
from infra.saga_orchestrator import SagaOrchestratorFunction
from infra.service_queue import ServiceQueue

HANDLER = "order_saga.handler.lambda_handler"


class OrderSagaStack(Stack):
    """The order saga's orchestrator (function ``order-saga``, saga table ``OrderSagaTableName``) on the saga queue
    of MessagingCore, sending to ``billing-command`` and ``inventory-command``.

    Example:
        >>> OrderSagaStack(app, "OrderSaga", queue=core.order_sagas, delayed=core.delayed, replies=core.replies,
        ...                participants={"BILLING_COMMAND": (credit.queue, credit.function)},
        ...                alarm_topic=core.alarms.topic)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queue: ServiceQueue,
        delayed: DelayedDelivery,
        replies: ReplyChannel,
        participants: dict[str, tuple[ServiceQueue, ConsumerFunction]],
        alarm_topic: sns.ITopic,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.saga = SagaOrchestratorFunction(
            self, "Saga", function_name="order-saga", handler=HANDLER, queue=queue, delayed=delayed,
            replies=replies, table_output="OrderSagaTableName", alarm_topic=alarm_topic,
        )
        for name, (participant_queue, function) in sorted(participants.items()):
            self.saga.participant(name, participant_queue, function)

    @property
    def function(self) -> ConsumerFunction:
        return self.saga.function
