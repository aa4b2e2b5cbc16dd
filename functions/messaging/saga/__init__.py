"""Orchestrated sagas: declare one (:mod:`~messaging.saga.definition`), run it on a consumer
(:mod:`~messaging.saga.orchestrator`); the transitions are pure (:mod:`~messaging.saga.engine`), the state one
versioned item per saga (:mod:`~messaging.saga.state`, :mod:`~messaging.saga.repository`).

Example::

    from datetime import timedelta
    from messaging.saga import SagaDefinition, SagaOrchestrator, Step

    PLACE_ORDER = SagaDefinition(
        "orders.PlaceOrder",
        steps=(
            Step("credit", "billing.ReserveCredit", queue="BILLING_COMMAND_QUEUE_URL",
                 compensation="billing.ReleaseCredit"),
            Step("stock", "inventory.ReserveStock", queue="INVENTORY_COMMAND_QUEUE_URL",
                 compensation="inventory.ReleaseStock"),
        ),
        deadline=timedelta(seconds=30),
    )
"""

from __future__ import annotations

from messaging.saga.definition import SagaDefinition, Step
from messaging.saga.orchestrator import SAGA_QUEUE_ENV, SagaOrchestrator
from messaging.saga.repository import DynamoDbSagaRepository, InMemorySagaRepository, SagaRepository
from messaging.saga.state import SagaState

__all__ = [
    "SAGA_QUEUE_ENV",
    "DynamoDbSagaRepository",
    "InMemorySagaRepository",
    "SagaDefinition",
    "SagaOrchestrator",
    "SagaRepository",
    "SagaState",
    "Step",
]
