"""A pub/sub subscriber service: its own FIFO queue on a topic, filtered by event type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Stack
from constructs import Construct

from infra.consumer_function import ConsumerFunction
from infra.event_topic import EventTopic
from infra.idempotency_store import IdempotencyStore
from infra.service_queue import ServiceQueue
from infra.state_table import StateTable


class SubscriberStack(Stack):
    """Queue ``<Name>`` subscribed to ``topic`` for ``event_types`` (kind ``event``), handler, state, idempotency.

    Example:
        >>> SubscriberStack(app, "Billing", topic=orders.events, service="billing",
        ...                 event_types=["orders.OrderCreated", "orders.OrderCancelled"])  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: EventTopic,
        service: str,
        event_types: Sequence[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        name = service.capitalize()
        self.queue = ServiceQueue(self, "Queue", name=name, queue_name=service)
        self.function = ConsumerFunction(
            self, "Handler", function_name=service, handler=f"{service}.handler.lambda_handler", service_name=service
        )
        self.function.consume(self.queue)
        self.state = StateTable(self, "State", output_name=f"{name}TableName")
        self.state.grant_to(self.function)
        self.idempotency = IdempotencyStore(self, "Idempotency")
        self.idempotency.grant_to(self.function)
        self.subscription = topic.subscribe_queue(self.queue, event_types, ["event"])
