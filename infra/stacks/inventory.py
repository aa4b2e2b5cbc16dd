"""The Inventory stack.

Its command queue (FIFO, with its DLQ), consumer function, state and dedup tables: stock per SKU, restocked by
``inventory.Restock`` and reserved / released by the order saga (which links the function to its queue).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Stack
from constructs import Construct

from infra.consumer_function import ConsumerFunction
from infra.idempotency_store import IdempotencyStore
from infra.reply_channel import ReplyChannel
from infra.service_queue import ServiceQueue
from infra.state_table import StateTable

HANDLER = "inventory.handler.lambda_handler"


class InventoryStack(Stack):
    """Commands in on ``InventoryCommandQueueUrl`` (CLI ``inventory-command``), replies back.

    Each construct owns its secure defaults and, when linked to the function, the grant and the environment variable
    (``DEAD_LETTER_QUEUE_URL``, ``STATE_TABLE_NAME``, ``IDEMPOTENCY_TABLE_NAME``, ``REPLY_TO_ALLOWLIST``); the
    function has a role of its own.

    Example:
        >>> InventoryStack(app, "Inventory", replies=core.replies)  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, *, replies: ReplyChannel, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.queue = ServiceQueue(
            self,
            "Commands",
            name="InventoryCommand",
            queue_name="inventory-commands",
        )
        self.function = ConsumerFunction(
            self,
            "Handler",
            function_name="inventory",
            handler=HANDLER,
            service_name="inventory",
        )
        self.function.consume(self.queue)
        self.state = StateTable(self, "State", output_name="InventoryTableName")
        self.state.grant_to(self.function)
        self.idempotency = IdempotencyStore(self, "Idempotency")
        self.idempotency.grant_to(self.function)
        replies.allow_replies_from(self.function)

    @property
    def queues(self) -> Sequence[ServiceQueue]:
        """The service queues of this stack (the Monitoring stack watches them and their DLQs)."""
        return (self.queue,)

    @property
    def functions(self) -> Sequence[ConsumerFunction]:
        """The consumer functions of this stack (monitored; they may read claim checks)."""
        return (self.function,)
