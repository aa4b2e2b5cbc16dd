"""The outbox producer's port, one contract suite on two backends: the in-memory store and DynamoDB on moto.

The contract: staged writes and messages commit together or not at all; a failed condition names its write; messages
become outbox items keyed by ``partitionkey`` with a time-ordered sort key and the wire JSON the relay sends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from messaging.codec import CloudEventJsonCodec
from messaging.errors import InvalidRequest, MessageTooLarge
from messaging.fifo import deduplication_id
from messaging.producer import (
    DynamoDbOutboxStore,
    InMemoryOutboxStore,
    OutboxProducer,
    WriteConflict,
)
from messaging.tracecontext import is_valid, trace_id_of
from tests.support.aws import AWS_ENV, create_state_table

pytestmark = pytest.mark.integration

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/orders-commands.fifo"
TOPIC = "arn:aws:sns:us-east-1:123456789012:order-events.fifo"
SHARD_KEYS = {"orders.CreateOrder": "customer_id"}


@dataclass
class Backend:
    store: Any
    items: Callable[[str], list[dict[str, Any]]]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


@pytest.fixture(params=["in-memory", "dynamodb-on-moto"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    if request.param == "in-memory":
        memory = InMemoryOutboxStore()
        yield Backend(memory, memory.items)
        return
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_state_table(dynamodb, "orders-state")
        create_state_table(dynamodb, "orders-outbox")
        store = DynamoDbOutboxStore(dynamodb)
        yield Backend(store, store.items)


def producer_on(backend: Backend) -> OutboxProducer:
    return OutboxProducer("orders-outbox", source="/orders/api", store=backend.store, shard_keys=SHARD_KEYS,
                          clock=Clock())


def request_item(key: str, status: str = "accepted") -> dict[str, Any]:
    return {"pk": {"S": f"REQUEST#{key}"}, "sk": {"S": "REQUEST"}, "status": {"S": status}}


def test_state_writes_and_messages_commit_together(backend: Backend) -> None:
    # Given a producer staging its own record and a command
    producer = producer_on(backend)
    with producer.transaction() as tx:
        tx.create("orders-state", request_item("k-1"))
        sent = tx.send(QUEUE, "orders.CreateOrder", {"customer_id": "c-1", "lines": []}, replyto=QUEUE, id="cmd-1")
    # When the state and the outbox are read back
    state, outbox = backend.items("orders-state"), backend.items("orders-outbox")
    # Then both are there: the record, and the message keyed by its partitionkey with its wire JSON
    assert [item["pk"]["S"] for item in state] == ["REQUEST#k-1"]
    assert len(outbox) == 1
    item = outbox[0]
    assert item["pk"]["S"] == "c-1" == sent.partitionkey
    assert item["sk"]["S"].endswith("#cmd-1")
    assert item["destination"]["S"] == QUEUE
    decoded = CloudEventJsonCodec().decode(item["message"]["S"])
    assert (decoded.id, decoded.type, decoded.source, decoded.replyto) == ("cmd-1", "orders.CreateOrder",
                                                                          "/orders/api", QUEUE)
    assert deduplication_id(decoded) == deduplication_id(sent)
    assert int(item["expires_at"]["N"]) > 1_800_000_000


def test_a_failed_condition_writes_nothing_and_names_its_write(backend: Backend) -> None:
    # Given a committed request
    producer = producer_on(backend)
    with producer.transaction() as tx:
        tx.create("orders-state", request_item("k-1"))
        tx.send(QUEUE, "orders.CreateOrder", {"customer_id": "c-1"}, id="cmd-1")
    # When the same request is staged again with a message, and with a second, new message
    with pytest.raises(WriteConflict) as raised, producer.transaction() as tx:
        tx.create("orders-state", request_item("k-1", status="other"))
        tx.send(QUEUE, "orders.CreateOrder", {"customer_id": "c-1"}, id="cmd-2")
        tx.publish(TOPIC, "orders.Noted", {}, partitionkey="c-1")
    # Then the transaction is refused as a whole: the write that failed is named, no message was added
    assert raised.value.write.table == "orders-state"
    assert raised.value.code == "state_conflict"
    assert len(backend.items("orders-outbox")) == 1
    assert backend.items("orders-state")[0]["status"]["S"] == "accepted"


def test_an_update_whose_item_changed_is_refused(backend: Backend) -> None:
    # Given a record read as accepted, then changed by someone else
    producer = producer_on(backend)
    with producer.transaction() as tx:
        tx.create("orders-state", request_item("k-1"))
    key = {"pk": {"S": "REQUEST#k-1"}, "sk": {"S": "REQUEST"}}
    with producer.transaction() as tx:
        tx.update("orders-state", key, {"status": {"S": "cancelled"}}, expected={"status": {"S": "accepted"}})
    # When the first reader commits its update with a message
    with pytest.raises(WriteConflict), producer.transaction() as tx:
        tx.update("orders-state", key, {"status": {"S": "shipped"}}, expected={"status": {"S": "accepted"}})
        tx.publish(TOPIC, "orders.Shipped", {}, partitionkey="c-1")
    # Then neither the update nor the message is written
    assert backend.items("orders-state")[0]["status"]["S"] == "cancelled"
    assert backend.items("orders-outbox") == []


def test_sort_keys_follow_the_commit_order_per_partition_key(backend: Backend) -> None:
    # Given messages of two customers committed in turn, some in one transaction
    producer = producer_on(backend)
    for n in range(3):
        with producer.transaction() as tx:
            tx.send(QUEUE, "orders.CreateOrder", {"customer_id": "c-1", "n": n}, id=f"a-{n}")
            tx.send(QUEUE, "orders.CreateOrder", {"customer_id": "c-2", "n": n}, id=f"b-{n}")
    # When each customer's items are sorted by their sort key
    by_key: dict[str, list[str]] = {}
    for item in sorted(backend.items("orders-outbox"), key=lambda i: i["sk"]["S"]):
        by_key.setdefault(item["pk"]["S"], []).append(json.loads(item["message"]["S"])["id"])
    # Then that order is the commit order
    assert by_key == {"c-1": ["a-0", "a-1", "a-2"], "c-2": ["b-0", "b-1", "b-2"]}


@pytest.mark.parametrize(
    ("destination", "data", "partitionkey", "error"),
    [
        (QUEUE, {"lines": []}, None, InvalidRequest),  # no customer_id to take the partitionkey from
        (QUEUE, {"customer_id": "c-1"}, "c-2", InvalidRequest),  # contradicts the declared shard key
        (QUEUE, {"customer_id": "not a group id!"}, None, InvalidRequest),
        ("orders-commands", {"customer_id": "c-1"}, None, InvalidRequest),  # neither an ARN nor a URL
        (QUEUE, {"customer_id": "c-1", "note": "x" * 300_000}, None, MessageTooLarge),
    ],
)
def test_bad_messages_are_refused_when_staged(
    backend: Backend, destination: str, data: dict[str, Any], partitionkey: str | None, error: type[Exception]
) -> None:
    # Given a producer
    producer = producer_on(backend)
    # When a bad message is staged
    with pytest.raises(error), producer.transaction() as tx:
        tx.create("orders-state", request_item("k-1"))
        tx.send(destination, "orders.CreateOrder", data, partitionkey=partitionkey)
    # Then nothing was committed
    assert backend.items("orders-state") == []
    assert backend.items("orders-outbox") == []


def test_a_staged_message_carries_a_trace_context_started_or_continued(backend: Backend) -> None:
    # Given a producer staging one message with a given trace context and one without
    given = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    producer = producer_on(backend)
    with producer.transaction() as tx:
        tx.send(QUEUE, "orders.CreateOrder", {"customer_id": "c-1", "lines": []}, id="cmd-1", traceparent=given)
        tx.send(QUEUE, "orders.CreateOrder", {"customer_id": "c-2", "lines": []}, id="cmd-2")
    # When the outbox is read back
    decoded = {d.id: d for d in (CloudEventJsonCodec().decode(i["message"]["S"])
                                 for i in backend.items("orders-outbox"))}
    # Then the first continues the given trace and the second starts a valid one of its own
    assert decoded["cmd-1"].traceparent == given
    assert is_valid(decoded["cmd-2"].traceparent or "")
    assert trace_id_of(decoded["cmd-2"].traceparent) != trace_id_of(given)
    # And a malformed trace context is refused when staged
    with pytest.raises(InvalidRequest), producer.transaction() as tx:
        tx.send(QUEUE, "orders.CreateOrder", {"customer_id": "c-3", "lines": []}, traceparent="00-nope")
