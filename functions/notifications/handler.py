"""Lambda adapter of the Notifications service: OrderCreated from its FIFO queue -> NotificationService."""

from __future__ import annotations

import functools
import os
from typing import Any

# The consumer first: Powertools' batch utility, loaded after pydantic, builds the parser models of every event
# source (tens of milliseconds of a cold start); see tests/unit/test_handler_imports.py.
from messaging.consumer import MessageConsumer, MessageContext

# isort: split
from catalogue import CATALOGUE
from notifications.service import DynamoDbNotificationOutbox, NotificationService
from orders.models import OrderCreated

consumer = MessageConsumer(service="notifications", catalogue=CATALOGUE, tracing=True)


@functools.cache
def notification_service() -> NotificationService:
    return NotificationService(DynamoDbNotificationOutbox(os.environ["STATE_TABLE_NAME"]))


@consumer.event("orders.OrderCreated", model=OrderCreated)
def on_order_created(event: OrderCreated, context: MessageContext) -> None:
    notification_service().order_confirmed(event.customer_id, event.order_id, str(event.total), event.currency)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return consumer.handle(event, context)
