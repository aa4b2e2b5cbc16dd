"""Delayed delivery end to end: a CreateOrder scheduled 20 s ahead reaches the orders service then, not before."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from catalogue import SHARD_KEYS
from demo.run import System, order_data
from messaging.client import MessagingClient
from messaging.delayed import DelayedDelivery
from messaging.reply_store import DynamoDbReplyStore

pytestmark = pytest.mark.e2e


def delayed_client(system: System) -> MessagingClient:
    cloud, outputs = system.cloud, system.outputs
    return MessagingClient(
        outputs["ReplyQueueUrl"],
        DynamoDbReplyStore(outputs["ReplyTableName"], client=system.dynamodb),
        source="/test/delayed",
        sqs_client=system.sqs,
        shard_keys=SHARD_KEYS,
        delayed=DelayedDelivery(outputs["DelayedDeliveryGroupName"], outputs["DelayedDeliveryRoleArn"],
                                client=cloud.client("scheduler"), sqs_client=system.sqs),
    )


def test_a_create_order_sent_with_a_delay_arrives_after_it_and_once(system: System, customer: str) -> None:
    # Given the deployed system (the orders queue dedups by content, the Scheduler role may send to it)
    cloud = system.cloud
    attributes = system.sqs.get_queue_attributes(QueueUrl=system.orders_queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ContentBasedDeduplication"] == "true"
    client = delayed_client(system)
    # When a CreateOrder is sent for delivery 20 s from now, and 15 s pass on the local clock
    deliver_at = datetime.fromtimestamp(time.time() + 20, tz=UTC)
    correlation_id = client.send(system.orders_queue, "orders.CreateOrder", order_data(customer), deliver_at=deliver_at)
    cloud.clock.advance(15)
    cloud.scheduler.fire_due()
    assert cloud.drain(timeout=5) is False  # a pending schedule is work left
    early = system.orders(customer)
    # And then 6 s more
    cloud.clock.advance(6)
    system.drain()
    # Then there was no order after 15 s, there is exactly one now, and its reply arrived
    assert early == []
    assert len(system.orders(customer)) == 1
    reply = client.get_reply(correlation_id)
    assert reply is not None and reply.outcome.ok
