"""Orders: command queue, order handler, state and idempotency tables, and the order-events topic."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from infra.consumer_function import ConsumerFunction
from infra.event_topic import EventTopic
from infra.http_api import HttpFrontDoor
from infra.idempotency_store import IdempotencyStore
from infra.outbox import TransactionalOutbox
from infra.reply_channel import ReplyChannel
from infra.service_queue import ServiceQueue
from infra.state_table import StateTable

ORDERS_HANDLER = "orders.handler.lambda_handler"
ORDERS_API_HANDLER = "orders_api.handler.lambda_handler"
API_ROUTES = (("POST", "/orders"), ("GET", "/orders/requests/{id}"))


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
        # The HTTP front door: its handler commits a request and its CreateOrder through the outbox; the relay sends.
        self.outbox = TransactionalOutbox(self, "Outbox", name="orders", output_name="OrdersOutboxTableName")
        self.outbox.deliver_to_queue(self.queue)
        self.api_function = ConsumerFunction(
            self, "ApiHandler", function_name="orders-api", handler=ORDERS_API_HANDLER, service_name="orders-api",
            timeout=Duration.seconds(10),
        )
        self.state.grant_to(self.api_function)
        self.outbox.grant_producer(self.api_function)
        replies.allow_requests_from(self.api_function)
        self.api_function.add_environment("ORDERS_COMMAND_QUEUE_URL", self.queue.queue_url)
        self.api = HttpFrontDoor(
            self, "Api", name="orders-api", handler=self.api_function, routes=API_ROUTES, output_name="OrdersApiUrl"
        )
