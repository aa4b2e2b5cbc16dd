"""Lambda adapter of the order saga's orchestrator (queue ``order-sagas``): ``orders.PlaceOrder`` starts a saga,
the participants' replies and the ``saga.Timeout`` move it (:mod:`messaging.saga`).

Configuration (set by the CDK constructs): ``STATE_TABLE_NAME`` (the saga states), ``SAGA_QUEUE_URL``,
``BILLING_COMMAND_QUEUE_URL``, ``INVENTORY_COMMAND_QUEUE_URL``, ``SCHEDULE_GROUP_NAME``, ``SCHEDULER_ROLE_ARN``,
plus what :class:`messaging.consumer.MessageConsumer` reads.
"""

from __future__ import annotations

import os
from typing import Any

from messaging.consumer import MessageConsumer
from messaging.saga import DynamoDbSagaRepository, SagaOrchestrator
from order_saga.saga import PLACE_ORDER

consumer = MessageConsumer(service="order-saga", shard_keys={"orders.PlaceOrder": "customer_id"})
orchestrator = SagaOrchestrator(PLACE_ORDER, lambda: DynamoDbSagaRepository(os.environ["STATE_TABLE_NAME"]))
orchestrator.register(consumer)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return consumer.handle(event, context)
