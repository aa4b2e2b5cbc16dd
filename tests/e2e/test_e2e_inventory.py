"""End to end through the local cloud: the Inventory service answers its Restock once, also when it is delivered
twice, and keeps the stock."""

from __future__ import annotations

import uuid

import pytest

from demo.run import System
from messaging.channels import QueueSender
from messaging.envelope import command

pytestmark = pytest.mark.e2e

FIFO_DEDUP_WINDOW_SECONDS = 300


def test_a_restock_is_answered_and_applied_once(system: System) -> None:
    # Given the service deployed and a Restock with a fixed identity
    sku = f"sku-{uuid.uuid4().hex[:10]}"
    message = command("inventory.Restock", {"sku": sku, "quantity": 3}, source="/tests/inventory", partitionkey=sku,
                      replyto=system.outputs["ReplyQueueUrl"])
    sender = QueueSender(system.outputs["InventoryCommandQueueUrl"], client=system.sqs)
    # When it is sent, and delivered again after the broker's 5-minute deduplication window, then another restock
    sender.send(message)
    system.drain()
    system.cloud.clock.advance(FIFO_DEDUP_WINDOW_SECONDS + 1)
    sender.send(message)
    system.drain()
    again = system.client.request(system.outputs["InventoryCommandQueueUrl"], "inventory.Restock",
                                  {"sku": sku, "quantity": 2}, partitionkey=sku)
    # Then the first answer says 3 available, the second restock 5: the redelivery was applied once
    [reply] = system.client.get_replies(message.id)[:1]
    assert reply.outcome.ok and dict(reply.outcome.result or {}) == {"sku": sku, "available": 3}
    assert dict(again.outcome.result or {}) == {"sku": sku, "available": 5}
