"""Lambda adapter of the Orders service: SQS FIFO command queue -> typed command -> OrderService -> reply + event.

Configuration (set by the CDK constructs): ``STATE_TABLE_NAME`` (orders), ``EVENT_TOPIC_ARN`` (order-events topic),
plus what :class:`messaging.consumer.MessageConsumer` reads (idempotency table, dead-letter queue, reply allowlist).
"""

from __future__ import annotations

import functools
import os
from typing import Any

# The consumer first: Powertools' batch utility, loaded after pydantic, builds the parser models of every event
# source (tens of milliseconds of a cold start); see tests/unit/test_handler_imports.py.
from messaging.consumer import MessageConsumer, MessageContext

# isort: split
from catalogue import CATALOGUE
from orders.models import CancelOrder, CreateOrder
from orders.repository import DynamoDbOrderRepository
from orders.service import OrderService

consumer = MessageConsumer(service="orders", catalogue=CATALOGUE, tracing=True)


@functools.cache
def order_service() -> OrderService:
    return OrderService(DynamoDbOrderRepository(os.environ["STATE_TABLE_NAME"]))


@consumer.command("orders.CreateOrder", model=CreateOrder)
def create_order(command: CreateOrder, context: MessageContext) -> dict[str, Any]:
    order = order_service().create(command, order_id=f"o-{context.derived_id('order')[:24]}")
    context.emit(
        "orders.OrderCreated",
        {
            **order.summary(),
            "lines": [line.model_dump(mode="json") for line in order.lines],
            "item_count": sum(line.quantity for line in order.lines),
        },
    )
    return order.summary()


@consumer.command("orders.CancelOrder", model=CancelOrder)
def cancel_order(command: CancelOrder, context: MessageContext) -> dict[str, Any]:
    order = order_service().cancel(command)
    context.emit("orders.OrderCancelled", {**order.summary(), "reason": order.cancel_reason})
    return order.summary()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return consumer.handle(event, context)
