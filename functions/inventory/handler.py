"""The Inventory service's Lambda adapter: a command -> typed model -> one service call -> reply.

Configuration (set by the CDK constructs): ``STATE_TABLE_NAME``, plus what :class:`messaging.consumer.MessageConsumer`
reads (dedup table, dead-letter queue, reply allowlist: the reply queue and the order saga's queue).
"""

from __future__ import annotations

import functools
import os
from typing import Any

# The consumer first: Powertools' batch utility, loaded after pydantic, builds the parser models of every event
# source (tens of milliseconds of a cold start); see tests/unit/test_handler_imports.py.
from messaging.consumer import MessageConsumer, MessageContext

# isort: split
from inventory.models import SHARD_KEYS, ReleaseStock, ReserveStock, Restock
from inventory.service import InventoryService
from messaging.state_items import DynamoDbStateItems

consumer = MessageConsumer(service="inventory", shard_keys=SHARD_KEYS)


@functools.cache
def inventory_service() -> InventoryService:
    return InventoryService(DynamoDbStateItems(os.environ["STATE_TABLE_NAME"]))


@consumer.command("inventory.Restock", model=Restock)
def restock(command: Restock, context: MessageContext) -> dict[str, Any]:
    return inventory_service().restock(command)


@consumer.command("inventory.ReserveStock", model=ReserveStock)
def reserve_stock(command: ReserveStock, context: MessageContext) -> dict[str, Any]:
    return inventory_service().reserve(command)


@consumer.command("inventory.ReleaseStock", model=ReleaseStock)
def release_stock(command: ReleaseStock, context: MessageContext) -> dict[str, Any]:
    return inventory_service().release(command)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return consumer.handle(event, context)
