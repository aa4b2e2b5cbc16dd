"""One contract, two backends: every port is tested against its in-memory fake and its moto-backed adapter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, DynamoDBPersistenceLayer

from messaging.channels import EventPublisher, TopicPublisher
from messaging.codec import CloudEventJsonCodec
from messaging.consumer import MessageConsumer, MessageContext
from messaging.envelope import Envelope, ReplyOutcome, command, event, reply_to
from messaging.errors import MissingPartitionKey, PublishFailed
from messaging.reply_store import DynamoDbReplyStore, InMemoryReplyStore, ReplyStore
from messaging.settings import ConsumerSettings
from tests.support.aws import Messaging, drain
from tests.support.fakes import InMemoryEventPublisher, InMemoryPersistenceLayer, RecordingSqsClient
from tests.support.lambda_context import FakeLambdaContext
from tests.support.sqs_events import failed_ids, sqs_event, synthetic_record

pytestmark = pytest.mark.integration
codec = CloudEventJsonCodec()

# -- publisher ------------------------------------------------------------------------------------------------------


@dataclass
class PublisherBackend:
    publisher: EventPublisher
    delivered: Callable[[], list[Envelope]]


@pytest.fixture(params=["in-memory", "sns-on-moto"])
def publisher_backend(request: pytest.FixtureRequest, messaging: Messaging) -> PublisherBackend:
    if request.param == "in-memory":
        fake = InMemoryEventPublisher()

        def take_published() -> list[Envelope]:
            taken, fake.published[:] = list(fake.published), []
            return taken

        return PublisherBackend(fake, take_published)
    publisher = TopicPublisher(messaging.topic_arn, client=messaging.sns)
    return PublisherBackend(
        publisher, lambda: [codec.decode(m["Body"]) for m in drain(messaging.sqs, messaging.subscriber_url)]
    )


def test_publisher_contract_a_large_batch_is_delivered_complete_and_in_order(
    publisher_backend: PublisherBackend,
) -> None:
    # Given 23 events over two partition keys (three PublishBatch calls)
    events = [event("orders.OrderCreated", {"n": n}, source="/orders", partitionkey=f"c-{n % 2}") for n in range(23)]
    # When they are published as one batch
    result = publisher_backend.publisher.publish_batch(events)
    # Then every id is reported succeeded, in order, and each partition's events arrive intact and in order
    assert result.ok
    assert result.succeeded == [e.id for e in events]
    delivered = publisher_backend.delivered()
    for key in ("c-0", "c-1"):
        assert [e for e in delivered if e.partitionkey == key] == [e for e in events if e.partitionkey == key]


def test_publisher_contract_a_rejected_entry_is_reported_and_the_others_go_out(
    publisher_backend: PublisherBackend,
) -> None:
    # Given a batch whose middle entry is over the 256 KiB SNS limit
    small_1 = event("orders.OrderCreated", {"n": 1}, source="/orders", partitionkey="c-1")
    too_big = event("orders.OrderCreated", {"blob": "x" * 270_000}, source="/orders", partitionkey="c-1")
    small_2 = event("orders.OrderCreated", {"n": 2}, source="/orders", partitionkey="c-2")
    # When the batch is published
    result = publisher_backend.publisher.publish_batch([small_1, too_big, small_2])
    # Then the rejection is reported (sender fault, with a code), not dropped, and the others succeeded
    assert [f.id for f in result.failed] == [too_big.id]
    assert result.failed[0].sender_fault is True
    assert result.failed[0].code
    assert result.succeeded == [small_1.id, small_2.id]
    assert {e.id for e in publisher_backend.delivered()} == {small_1.id, small_2.id}
    with pytest.raises(PublishFailed):
        result.raise_for_failures()


def test_publisher_contract_single_publish_and_bad_partition_keys(publisher_backend: PublisherBackend) -> None:
    # Given one event, and one without a partition key
    good = event("orders.OrderCreated", {"ünïcode": "✓"}, source="/orders", partitionkey="c-9")
    keyless = Envelope(type="orders.OrderCreated", source="/orders", kind=good.kind, data={})
    # When the good one is published alone, it arrives unchanged and a message id is returned
    assert publisher_backend.publisher.publish(good)
    assert publisher_backend.delivered() == [good]
    # And a batch containing the keyless one is refused before anything is sent
    with pytest.raises(MissingPartitionKey):
        publisher_backend.publisher.publish_batch([good, keyless])
    assert publisher_backend.delivered() == []


# -- reply store ----------------------------------------------------------------------------------------------------


@pytest.fixture(params=["in-memory", "dynamodb-on-moto"])
def reply_store(request: pytest.FixtureRequest, messaging: Messaging) -> ReplyStore:
    if request.param == "in-memory":
        return InMemoryReplyStore()
    return DynamoDbReplyStore(messaging.reply_table, client=messaging.dynamodb)


def _request() -> Envelope:
    return command("quotes.RequestQuote", {"weight": 2}, source="/client", partitionkey="p-1")


def test_reply_store_contract_one_reply_per_responder_and_request(reply_store: ReplyStore) -> None:
    # Given a request and the replies of two responders
    request = _request()
    standard = reply_to(request, ReplyOutcome.success({"price": 10}), source="/quotes/standard")
    express = reply_to(request, ReplyOutcome.success({"price": 25}), source="/quotes/express")
    # When both are stored, and the first one is stored again (a redelivery)
    assert reply_store.put(standard, ttl_seconds=3600) is True
    assert reply_store.put(express, ttl_seconds=3600) is True
    assert reply_store.put(standard, ttl_seconds=3600) is False
    # Then both replies are kept once each, oldest first, byte for byte
    assert reply_store.get(request.id) == [standard, express]
    # And other requests see none of them
    assert reply_store.get(_request().id) == []


def test_reply_store_contract_expired_replies_are_gone_and_can_be_stored_again(reply_store: ReplyStore) -> None:
    # Given a reply stored with a TTL already in the past
    request = _request()
    reply = reply_to(request, ReplyOutcome.failure("no_capacity", "try later"), source="/quotes/economy")
    assert reply_store.put(reply, ttl_seconds=-5) is True
    # Then it is not returned, and storing it again succeeds
    assert reply_store.get(request.id) == []
    assert reply_store.put(reply, ttl_seconds=3600) is True
    assert reply_store.get(request.id) == [reply]


def test_reply_store_contract_rejects_an_uncorrelated_message(reply_store: ReplyStore) -> None:
    # Given a message that is not a reply to anything
    # Then it cannot be stored
    with pytest.raises(ValueError, match="correlationid"):
        reply_store.put(_request(), ttl_seconds=60)


# -- idempotency persistence ----------------------------------------------------------------------------------------

DLQ = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-commands-dlq.fifo"
REPLIES = "https://sqs.eu-west-1.amazonaws.com/123456789012/replies.fifo"


@dataclass
class IdempotentWorld:
    consumer: MessageConsumer
    sqs: RecordingSqsClient
    calls: list[str]
    fail: list[Exception]

    def deliver(self, envelope: Envelope, **kwargs: Any) -> dict[str, Any]:
        record = synthetic_record(codec.encode(envelope), group_id=envelope.partitionkey or "g", **kwargs)
        return self.consumer.handle(sqs_event([record]), FakeLambdaContext())

    def replies(self) -> list[str]:
        return [call["MessageBody"] for call in self.sqs.to(REPLIES)]


@pytest.fixture(params=["in-memory", "dynamodb-on-moto"])
def persistence(request: pytest.FixtureRequest, messaging: Messaging) -> BasePersistenceLayer:
    if request.param == "in-memory":
        return InMemoryPersistenceLayer()
    return DynamoDBPersistenceLayer(table_name=messaging.idempotency_table, boto3_client=messaging.dynamodb)


@pytest.fixture
def idempotent_world(persistence: BasePersistenceLayer) -> IdempotentWorld:
    sqs = RecordingSqsClient()
    consumer = MessageConsumer(
        "orders",
        settings=ConsumerSettings(dead_letter_queue_url=DLQ, reply_to_allowlist=frozenset({REPLIES})),
        sqs_client=sqs,  # type: ignore[arg-type]
        persistence_store=persistence,
        event_publisher=InMemoryEventPublisher(),
    )
    world = IdempotentWorld(consumer, sqs, [], [])

    @consumer.command("orders.CreateOrder")
    def create_order(data: dict[str, Any], ctx: MessageContext) -> dict[str, Any]:
        world.calls.append(ctx.envelope.id)
        if world.fail:
            raise world.fail.pop(0)
        if data.get("nested"):
            # a second delivery of this very message arrives while it is still in progress
            world.calls.append(str(world.deliver(ctx.envelope, message_id="concurrent")))
        return {"order_id": "o-1"}

    return world


def _create(**data: Any) -> Envelope:
    return command("orders.CreateOrder", data, source="/web", partitionkey="c-1", replyto=REPLIES)


def test_persistence_contract_a_redelivery_replays_the_stored_reply(idempotent_world: IdempotentWorld) -> None:
    # Given a command handled once
    cmd = _create(sku="x")
    idempotent_world.deliver(cmd)
    # When it is delivered again
    idempotent_world.deliver(cmd, receive_count=2)
    # Then the handler ran once and the two replies are identical
    assert idempotent_world.calls == [cmd.id]
    first, second = idempotent_world.replies()
    assert first == second


def test_persistence_contract_a_failed_attempt_leaves_no_record(idempotent_world: IdempotentWorld) -> None:
    # Given a command whose first attempt fails transiently
    cmd = _create(sku="x")
    idempotent_world.fail.append(RuntimeError("boom"))
    assert failed_ids(idempotent_world.deliver(cmd, message_id="m-1")) == ["m-1"]
    # When it is retried
    assert idempotent_world.deliver(cmd, receive_count=2) == {"batchItemFailures": []}
    # Then the handler ran again and the reply was sent once
    assert idempotent_world.calls == [cmd.id, cmd.id]
    assert len(idempotent_world.replies()) == 1


def test_persistence_contract_an_in_progress_message_is_retried_not_run(idempotent_world: IdempotentWorld) -> None:
    # Given a command whose handler sees a second delivery of the same message while still running
    cmd = _create(nested=True)
    # When the first delivery is handled
    assert idempotent_world.deliver(cmd) == {"batchItemFailures": []}
    # Then the concurrent delivery was failed (to be retried) without running the handler
    assert idempotent_world.calls == [cmd.id, "{'batchItemFailures': [{'itemIdentifier': 'concurrent'}]}"]
    assert idempotent_world.sqs.to(DLQ) == []
