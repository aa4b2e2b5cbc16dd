"""One contract, two backends: every port is tested against its in-memory fake and its moto-backed adapter."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from messaging.channels import EventPublisher, TopicPublisher
from messaging.codec import CloudEventJsonCodec
from messaging.consumer import MessageConsumer, MessageContext
from messaging.envelope import Envelope, ReplyOutcome, command, event, reply_to
from messaging.errors import ConcurrentWriteConflict, MissingPartitionKey, PublishFailed, StateConflict
from messaging.reply_store import DynamoDbReplyStore, InMemoryReplyStore, ReplyStore
from messaging.settings import ConsumerSettings
from messaging.unit_of_work import (
    APPLIED_BY,
    CommitResult,
    Committer,
    DedupRecord,
    DynamoDbCommitter,
    InMemoryCommitter,
    StagedWrite,
    StoredOutcome,
    UnitOfWork,
    current,
    unit_of_work,
)
from tests.support.aws import Messaging, drain
from tests.support.fakes import InMemoryEventPublisher, RecordingSqsClient
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


def test_the_dynamodb_reply_store_reads_past_a_registration_an_older_requester_wrote(messaging: Messaging) -> None:
    # Given a request registered the way requesters did before replies needed no registration, and its reply
    store = DynamoDbReplyStore(messaging.reply_table, client=messaging.dynamodb)
    request = _request()
    messaging.dynamodb.put_item(TableName=messaging.reply_table, Item={
        "correlationid": {"S": request.id}, "replyid": {"S": "#request"}, "stored_at": {"N": "0"},
        "expires_at": {"N": str(int(time.time()) + 3600)}})
    reply = reply_to(request, ReplyOutcome.success({"price": 7}), source="/quotes/standard")
    assert store.put(reply, ttl_seconds=3600) is True
    # Then a requester reads the reply alone
    assert store.get(request.id) == [reply]


def test_reply_store_contract_rejects_an_uncorrelated_message(reply_store: ReplyStore) -> None:
    # Given a message that is not a reply to anything
    # Then it cannot be stored
    with pytest.raises(ValueError, match="correlationid"):
        reply_store.put(_request(), ttl_seconds=60)


# -- unit of work (the commit) --------------------------------------------------------------------------------------

DLQ = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-commands-dlq.fifo"
REPLIES = "https://sqs.eu-west-1.amazonaws.com/123456789012/replies.fifo"
STATE = "orders-state"


@dataclass
class CommitBackend:
    committer: Committer
    items: Callable[[], list[dict[str, Any]]]
    clock: list[float]


@pytest.fixture(params=["in-memory", "dynamodb-on-moto"])
def commit_backend(request: pytest.FixtureRequest, messaging: Messaging) -> CommitBackend:
    clock = [time.time()]
    if request.param == "in-memory":
        fake = InMemoryCommitter(clock=lambda: clock[0])
        return CommitBackend(fake, lambda: fake.items(STATE), clock)
    committer = DynamoDbCommitter(messaging.idempotency_table, client=messaging.dynamodb, clock=lambda: clock[0])

    def items() -> list[dict[str, Any]]:
        return list(messaging.dynamodb.scan(TableName=messaging.state_table, ConsistentRead=True)["Items"])

    return CommitBackend(committer, items, clock)


def _record(
    key: str = "m-1", outcome: str = '{"run": 1}', *, expires_in: int = 3600, now: float | None = None
) -> DedupRecord:
    """A dedup record that expires ``expires_in`` seconds after ``now`` (default: the wall clock)."""
    start = time.time() if now is None else now
    return DedupRecord(key=key, check="check-1", outcome=outcome, expires_at=int(start) + expires_in)


def _order(order_id: str, **attributes: str) -> dict[str, Any]:
    values = {name: {"S": value} for name, value in attributes.items()}
    return {"pk": {"S": "CUSTOMER#c-1"}, "sk": {"S": f"ORDER#{order_id}"}, **values}


def _staged(*build: Callable[[UnitOfWork], None]) -> tuple[StagedWrite, ...]:
    with unit_of_work() as work:
        for step in build:
            step(work)
    return work.writes


def _plain(item: dict[str, Any]) -> dict[str, str]:
    return {name: next(iter(value.values())) for name, value in item.items()}


def test_commit_contract_a_single_new_item_carries_the_dedup_record_and_a_second_run_gets_the_first_outcome(
    commit_backend: CommitBackend,
) -> None:
    # Given a message that staged one new order keyed by the message
    first = _staged(lambda w: w.create(STATE, _order("o-1", status="open", run="1"), keyed_by_message=True))
    # When it is committed, and a second run of the same message stages the same order (another run number)
    committed = commit_backend.committer.commit(first, _record(outcome='{"run": 1}'))
    second = _staged(lambda w: w.create(STATE, _order("o-1", status="open", run="2"), keyed_by_message=True))
    again = commit_backend.committer.commit(second, _record(outcome='{"run": 2}'))
    # Then the first commit landed with the dedup attributes on the order, the second lost and got the first outcome
    assert committed == CommitResult(True)
    assert again == CommitResult(False, StoredOutcome("check-1", '{"run": 1}'))
    [order] = [_plain(item) for item in commit_backend.items()]
    assert (order["run"], order[APPLIED_BY]) == ("1", "m-1")


def test_commit_contract_several_writes_commit_atomically_with_the_record_and_once(
    commit_backend: CommitBackend,
) -> None:
    # Given an existing open order, and a message that cancels it and records a note (two writes)
    commit_backend.committer.commit(
        _staged(lambda w: w.create(STATE, _order("o-1", status="open"), keyed_by_message=True)), _record("m-0")
    )

    def cancel(work: UnitOfWork) -> None:
        work.update(STATE, _order("o-1"), {"status": {"S": "cancelled"}}, expected={"status": {"S": "open"}})
        work.create(STATE, _order("o-1-note", text="cancelled by customer"))

    # When it is committed, then committed again by a late second run
    committed = commit_backend.committer.commit(_staged(cancel), _record("m-1", '{"cancelled": true}'))
    again = commit_backend.committer.commit(_staged(cancel), _record("m-1", '{"late": true}'))
    # Then both writes landed once, and the late run got the first outcome back
    assert committed.committed is True
    assert again == CommitResult(False, StoredOutcome("check-1", '{"cancelled": true}'))
    items = {item["sk"]: item for item in map(_plain, commit_backend.items())}
    assert items["ORDER#o-1"]["status"] == "cancelled"
    assert items["ORDER#o-1"][APPLIED_BY] == "m-0"  # the update kept the attributes it did not change
    assert set(items) == {"ORDER#o-1", "ORDER#o-1-note"}


def test_commit_contract_a_stale_read_fails_the_whole_commit_transiently(commit_backend: CommitBackend) -> None:
    # Given an order that is already cancelled
    commit_backend.committer.commit(
        _staged(lambda w: w.create(STATE, _order("o-1", status="cancelled"), keyed_by_message=True)), _record("m-0")
    )

    def cancel_as_if_open(work: UnitOfWork) -> None:
        work.create(STATE, _order("o-1-note", text="cancelled"))
        work.update(STATE, _order("o-1"), {"status": {"S": "cancelled"}}, expected={"status": {"S": "open"}})

    # When a message commits a change that expects it open
    with pytest.raises(ConcurrentWriteConflict):
        commit_backend.committer.commit(_staged(cancel_as_if_open), _record("m-1"))
    # Then nothing of that commit landed: no note, and no record, so the retry runs the handler again
    assert [item["sk"] for item in map(_plain, commit_backend.items())] == ["ORDER#o-1"]
    retry = _staged(lambda w: w.create(STATE, _order("o-1-note", text="retried")))
    assert commit_backend.committer.commit(retry, _record("m-1")).committed is True


def test_commit_contract_a_key_taken_by_another_message_is_a_permanent_conflict(
    commit_backend: CommitBackend,
) -> None:
    # Given an order created by one message
    create = _staged(lambda w: w.create(STATE, _order("o-1", status="open"), keyed_by_message=True))
    commit_backend.committer.commit(create, _record("m-0"))
    # When another message stages the same new order, alone or with a second write
    # Then the commit refuses it as a state conflict (a retry could never succeed)
    with pytest.raises(StateConflict):
        commit_backend.committer.commit(create, _record("m-1"))
    both = _staged(
        lambda w: w.create(STATE, _order("o-1", status="open")), lambda w: w.create(STATE, _order("o-2", status="x"))
    )
    with pytest.raises(StateConflict):
        commit_backend.committer.commit(both, _record("m-2"))
    assert len(commit_backend.items()) == 1


def test_commit_contract_a_message_without_writes_commits_its_record_and_the_identity_frees_on_expiry(
    commit_backend: CommitBackend,
) -> None:
    # Given a message that staged nothing (a rejection), committed with a one-hour record (on the backend's clock)
    now = commit_backend.clock[0]
    assert commit_backend.committer.commit((), _record("m-1", '{"rejected": 1}', now=now)).committed is True
    # When it runs again within the hour, it gets the first outcome
    assert commit_backend.committer.commit((), _record("m-1", '{"rejected": 2}', now=now)).stored == StoredOutcome(
        "check-1", '{"rejected": 1}'
    )
    # And when the record has expired (TTL has not deleted it yet), the identity is new again
    commit_backend.clock[0] += 3601
    later = _record("m-1", '{"rejected": 3}', expires_in=3600, now=commit_backend.clock[0])
    assert commit_backend.committer.commit((), later).committed is True


def test_the_dynamodb_commit_learns_a_duplicate_from_the_failed_condition_without_a_read(
    messaging: Messaging,
) -> None:
    # Given a committed message (a transaction of two writes) and a counter of DynamoDB calls
    calls: list[str] = []
    messaging.dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    committer = DynamoDbCommitter(messaging.idempotency_table, client=messaging.dynamodb)
    writes = _staged(
        lambda w: w.create(STATE, _order("o-1", status="open")), lambda w: w.create(STATE, _order("o-2", status="open"))
    )
    committer.commit(writes, _record("m-1"))
    riding = _staged(lambda w: w.create(STATE, _order("o-3", status="open"), keyed_by_message=True))
    committer.commit(riding, _record("m-2"))
    calls.clear()
    # When both are committed again
    assert committer.commit(writes, _record("m-1")).committed is False
    assert committer.commit(riding, _record("m-2")).committed is False
    # Then each duplicate cost exactly its one failed write, no read
    assert calls == ["TransactWriteItems", "PutItem"]


# -- the consumer on both commit backends ---------------------------------------------------------------------------


@dataclass
class ConsumerWorld:
    consumer: MessageConsumer
    sqs: RecordingSqsClient
    backend: CommitBackend
    calls: list[str]
    fail: list[Exception]

    def deliver(self, envelope: Envelope, **kwargs: Any) -> dict[str, Any]:
        record = synthetic_record(codec.encode(envelope), group_id=envelope.partitionkey or "g", **kwargs)
        return self.consumer.handle(sqs_event([record]), FakeLambdaContext())

    def replies(self) -> list[str]:
        return [call["MessageBody"] for call in self.sqs.to(REPLIES)]


@pytest.fixture
def consumer_world(commit_backend: CommitBackend) -> ConsumerWorld:
    sqs = RecordingSqsClient()
    consumer = MessageConsumer(
        "orders",
        settings=ConsumerSettings(dead_letter_queue_url=DLQ, reply_to_allowlist=frozenset({REPLIES})),
        sqs_client=sqs,  # type: ignore[arg-type]
        committer=commit_backend.committer,
        event_publisher=InMemoryEventPublisher(),
    )
    world = ConsumerWorld(consumer, sqs, commit_backend, [], [])

    @consumer.command("orders.CreateOrder")
    def create_order(data: dict[str, Any], ctx: MessageContext) -> dict[str, Any]:
        world.calls.append(ctx.envelope.id)
        if world.fail:
            raise world.fail.pop(0)
        order_id = ctx.derived_id("order")
        current().create(STATE, _order(order_id, run=str(len(world.calls))), keyed_by_message=True)
        if data.get("nested") and len(world.calls) == 1:
            # a second delivery of this very message runs to the end before this run commits
            world.calls.append(str(world.deliver(ctx.envelope, message_id="concurrent")))
        return {"order_id": order_id, "run": len(world.calls)}

    return world


def _create(**data: Any) -> Envelope:
    return command("orders.CreateOrder", data, source="/web", partitionkey="c-1", replyto=REPLIES)


def test_consumer_contract_a_redelivery_replays_the_stored_reply(consumer_world: ConsumerWorld) -> None:
    # Given a command handled once
    cmd = _create(sku="x")
    consumer_world.deliver(cmd)
    # When it is delivered again
    consumer_world.deliver(cmd, receive_count=2)
    # Then one order exists (the first run's) and the two replies are identical
    assert [_plain(item)["run"] for item in consumer_world.backend.items()] == ["1"]
    first, second = consumer_world.replies()
    assert first == second


def test_consumer_contract_a_failed_attempt_commits_nothing(consumer_world: ConsumerWorld) -> None:
    # Given a command whose first attempt fails transiently
    cmd = _create(sku="x")
    consumer_world.fail.append(RuntimeError("boom"))
    assert failed_ids(consumer_world.deliver(cmd, message_id="m-1")) == ["m-1"]
    assert consumer_world.backend.items() == []
    # When it is retried
    assert consumer_world.deliver(cmd, receive_count=2) == {"batchItemFailures": []}
    # Then the handler ran again, the order exists once and the reply was sent once
    assert consumer_world.calls == [cmd.id, cmd.id]
    assert len(consumer_world.backend.items()) == 1
    assert len(consumer_world.replies()) == 1


def test_consumer_contract_a_concurrent_duplicate_commits_once_and_both_answer_alike(
    consumer_world: ConsumerWorld,
) -> None:
    # Given a command whose handler sees a second delivery of the same message run to the end before it commits
    cmd = _create(nested=True)
    # When the first delivery is handled
    assert consumer_world.deliver(cmd) == {"batchItemFailures": []}
    # Then the concurrent delivery committed, the first run lost the condition and replayed that outcome
    assert consumer_world.calls == [cmd.id, cmd.id, "{'batchItemFailures': []}"]
    assert [_plain(item)["run"] for item in consumer_world.backend.items()] == ["2"]
    first, second = consumer_world.replies()
    assert first == second
    assert consumer_world.sqs.to(DLQ) == []
