"""Orders: command queue, order handler, state and idempotency tables, and the order-events topic."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from infra.consumer_function import ConsumerFunction
from infra.event_topic import EventTopic
from infra.idempotency_store import IdempotencyStore
from infra.reply_channel import ReplyChannel
from infra.service_queue import ServiceQueue
from infra.state_table import StateTable

ORDERS_HANDLER = "orders.handler.lambda_handler"


class OrdersStack(Stack):
    """Commands ``orders.CreateOrder`` / ``orders.CancelOrder`` in, ``orders.Order*`` events out, replies back.

    Example:
        >>> orders = OrdersStack(app, "Orders", replies=core.replies)  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, *, replies: ReplyChannel, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.events = EventTopic(self, "OrderEvents", topic_name="order-events", output_name="OrderEventsTopicArn")
        self.queue = ServiceQueue(self, "Commands", name="OrdersCommand", queue_name="orders-commands")
        self.function = ConsumerFunction(
            self, "Handler", function_name="orders", handler=ORDERS_HANDLER, service_name="orders"
        )
        self.function.consume(self.queue)
        self.state = StateTable(self, "State", output_name="OrdersTableName")
        self.state.grant_to(self.function)
        self.idempotency = IdempotencyStore(self, "Idempotency")
        self.idempotency.grant_to(self.function)
        self.events.publish_from(self.function)
        replies.allow_replies_from(self.function)
