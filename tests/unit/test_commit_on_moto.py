"""The unit of work's real commit (:class:`DynamoDbCommitter`) under the consumer, on moto in-process (no network):
the Orders service's create and cancel, a crash injected right after the commit's first DynamoDB write took effect,
then the redelivery SQS would make. Were the commit two writes (the state, then the dedup record), the crash would
fall between them and the redelivery would apply the command again or answer it wrongly; were its condition lost,
a second delivery would write again. The in-memory committer cannot show either: these tests run the real one."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger
from moto import mock_aws

from messaging.codec import CloudEventJsonCodec
from messaging.consumer import MessageConsumer, MessageContext
from messaging.envelope import Envelope, command
from messaging.settings import ConsumerSettings
from messaging.unit_of_work import DynamoDbCommitter
from orders.models import CancelOrder, CreateOrder
from orders.repository import DynamoDbOrderRepository
from orders.service import OrderService
from tests.support.aws import AWS_ENV, REGION, create_idempotency_table, create_state_table
from tests.support.fakes import InMemoryEventPublisher, RecordingSqsClient
from tests.support.lambda_context import FakeLambdaContext
from tests.support.sqs_events import sqs_event, synthetic_record

pytestmark = pytest.mark.unit

DLQ = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-commands-dlq.fifo"
REPLIES = "https://sqs.eu-west-1.amazonaws.com/123456789012/replies.fifo"
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
codec = CloudEventJsonCodec()


class Crash(BaseException):
    """The function died: nothing of the consumer's runs after it (a ``BaseException`` nothing catches)."""


@dataclass
class Orders:
    consumer: MessageConsumer
    dynamodb: Any
    state_table: str
    sqs: RecordingSqsClient
    publisher: InMemoryEventPublisher
    writes: list[str] = field(default_factory=list)
    """DynamoDB writes that took effect, in order."""
    crash_after_writes: int | None = None

    def deliver(self, message: Envelope, *, message_id: str) -> dict[str, Any]:
        record = synthetic_record(codec.encode(message), group_id=message.partitionkey or "g", message_id=message_id)
        return self.consumer.handle(sqs_event([record]), FakeLambdaContext())

    def orders(self) -> list[dict[str, Any]]:
        return list(self.dynamodb.scan(TableName=self.state_table, ConsistentRead=True)["Items"])

    def replies(self) -> list[dict[str, Any]]:
        return [dict(codec.decode(call["MessageBody"]).data or {}) for call in self.sqs.to(REPLIES)]

    def _after_call(self, model: Any, http_response: Any, **_: Any) -> None:
        if model.name not in WRITES or http_response.status_code >= 300:
            return
        self.writes.append(model.name)
        if self.crash_after_writes is not None and len(self.writes) == self.crash_after_writes:
            self.crash_after_writes = None
            raise Crash(f"died right after {model.name} took effect")


@pytest.fixture
def orders(monkeypatch: pytest.MonkeyPatch) -> Iterator[Orders]:
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        # tables named afresh: a local cloud kept by another module of the session keeps moto's state alive
        state = create_state_table(dynamodb, f"orders-state-{uuid.uuid4().hex[:8]}")
        consumer = MessageConsumer(
            "orders",
            settings=ConsumerSettings(dead_letter_queue_url=DLQ, reply_to_allowlist=frozenset({REPLIES})),
            sqs_client=(sqs := RecordingSqsClient()),  # type: ignore[arg-type]
            committer=DynamoDbCommitter(
                create_idempotency_table(dynamodb, f"orders-idempotency-{uuid.uuid4().hex[:8]}"), client=dynamodb
            ),
            event_publisher=(publisher := InMemoryEventPublisher()),
            logger=Logger(service=f"orders-commit-{uuid.uuid4().hex}", stream=io.StringIO()),
        )
        world = Orders(consumer, dynamodb, state, sqs, publisher)
        dynamodb.meta.events.register_last("after-call.dynamodb", world._after_call)
        service = OrderService(DynamoDbOrderRepository(state, client=dynamodb))

        @consumer.command("orders.CreateOrder", model=CreateOrder)
        def create_order(cmd: CreateOrder, ctx: MessageContext) -> dict[str, Any]:
            order = service.create(cmd, order_id=f"o-{ctx.derived_id('order')[:24]}")
            ctx.emit("orders.OrderCreated", order.summary())
            return order.summary()

        @consumer.command("orders.CancelOrder", model=CancelOrder)
        def cancel_order(cmd: CancelOrder, ctx: MessageContext) -> dict[str, Any]:
            order = service.cancel(cmd)
            ctx.emit("orders.OrderCancelled", order.summary())
            return order.summary()

        yield world
        consumer.logger.thread_safe_clear_keys()


def create_order() -> Envelope:
    data = {"customer_id": "c-1", "lines": [{"sku": "book", "quantity": 2, "unit_price": "9.50"}]}
    return command("orders.CreateOrder", data, source="/web", partitionkey="c-1", replyto=REPLIES)


def test_a_crash_right_after_the_create_commit_then_a_redelivery_applies_it_once_and_answers_alike(
    orders: Orders,
) -> None:
    # Given a CreateOrder whose run dies right after its first DynamoDB write took effect
    message = create_order()
    orders.crash_after_writes = 1
    with pytest.raises(Crash):
        orders.deliver(message, message_id="sqs-1")
    # When SQS delivers it again
    response = orders.deliver(message, message_id="sqs-1")
    # Then it is handled: one order, written once, with the dedup record on it
    assert response == {"batchItemFailures": []}
    assert len(orders.orders()) == 1
    assert orders.writes == ["PutItem"]
    # And the redelivery answers with the order, as the first run would have (not a state conflict), dead-letters
    # nothing, and publishes the event the first run never got to publish
    [reply] = orders.replies()
    assert reply["outcome"] == "success" and reply["result"]["order_id"] == orders.orders()[0]["order_id"]["S"]
    assert orders.sqs.to(DLQ) == []
    assert [e.type for e in orders.publisher.published] == ["orders.OrderCreated"]


def test_a_crash_right_after_the_cancel_commit_then_a_redelivery_answers_the_cancel_not_a_refusal(
    orders: Orders,
) -> None:
    # Given an open order, and a CancelOrder whose run dies right after its first DynamoDB write took effect
    orders.deliver(create := create_order(), message_id="sqs-1")
    order_id = orders.replies()[0]["result"]["order_id"]
    cancel = command(
        "orders.CancelOrder", {"customer_id": "c-1", "order_id": order_id, "reason": "changed my mind"},
        source="/web", partitionkey="c-1", replyto=REPLIES,
    )
    orders.crash_after_writes = len(orders.writes) + 1
    with pytest.raises(Crash):
        orders.deliver(cancel, message_id="sqs-2")
    # When SQS delivers it again
    orders.deliver(cancel, message_id="sqs-2")
    # Then the order is cancelled by one write, and the redelivery answers with the cancellation (a cancel split into
    # two writes would read the order cancelled and answer order_already_cancelled)
    assert [item["status"]["S"] for item in orders.orders()] == ["cancelled"]
    assert orders.writes == ["PutItem", "TransactWriteItems"]
    assert orders.replies()[1] == {"outcome": "success", "result": {
        "order_id": order_id, "customer_id": "c-1", "status": "cancelled", "total": "19.00", "currency": "EUR"}}
    assert create.id != cancel.id and orders.sqs.to(DLQ) == []


def test_a_second_delivery_of_an_applied_command_writes_nothing(orders: Orders) -> None:
    # Given a CreateOrder applied once
    message = create_order()
    orders.deliver(message, message_id="sqs-1")
    first = orders.orders()
    # When another SQS message carries it again (a resend after the deduplication window)
    orders.deliver(message, message_id="sqs-2")
    # Then the second delivery's write lost its condition: one write took effect, the order is the first run's, and
    # both deliveries were answered alike
    assert orders.writes == ["PutItem"]
    assert orders.orders() == first
    first_reply, second_reply = orders.replies()
    assert first_reply == second_reply
