"""The reply router's contract on both commit backends (in-memory, DynamoDB on moto): the real handler stores every
well-formed reply under its correlation id with one conditional write and no read (requesters register nothing), a
redelivered reply is dropped, a second responder's reply is kept beside the first, a reply that names no request is
dead-lettered with its code."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

import reply_router.handler as reply_router
from messaging.codec import CloudEventJsonCodec
from messaging.consumer import MessageConsumer
from messaging.envelope import Envelope, ReplyOutcome, command, reply_to
from messaging.reply_store import REPLY_TTL_SECONDS, DynamoDbReplyStore
from messaging.settings import ConsumerSettings
from messaging.unit_of_work import Committer, DynamoDbCommitter, InMemoryCommitter
from tests.support.aws import REGION, Messaging
from tests.support.fakes import RecordingSqsClient
from tests.support.lambda_context import FakeLambdaContext
from tests.support.sqs_events import failed_ids, sqs_event, synthetic_record

pytestmark = pytest.mark.integration
codec = CloudEventJsonCodec()
REPLIES_DLQ = "https://sqs.eu-west-1.amazonaws.com/123456789012/replies-dlq.fifo"


@dataclass
class RouterWorld:
    router: MessageConsumer
    sqs: RecordingSqsClient
    items: Callable[[], list[dict[str, Any]]]
    """Every item of the reply table, as stored."""
    stored: Callable[[str], list[Envelope]]
    """What a requester reads for a correlation id (on DynamoDB the store's own query; in memory the items)."""
    calls: list[str] | None
    """The DynamoDB calls the router made (DynamoDB backend only)."""

    def deliver(self, body: str, *, receive_count: int = 1, group: str = "c-1") -> list[str]:
        record = synthetic_record(body, group_id=group, receive_count=receive_count)
        return failed_ids(self.router.handle(sqs_event([record]), FakeLambdaContext()))


def _read_items(items: list[dict[str, Any]], correlation_id: str) -> list[Envelope]:
    mine = [item for item in items if item["correlationid"]["S"] == correlation_id]
    mine.sort(key=lambda item: int(item["stored_at"]["N"]))
    return [codec.decode(item["body"]["S"]) for item in mine]


@pytest.fixture(params=["in-memory", "dynamodb-on-moto"])
def world(request: pytest.FixtureRequest, messaging: Messaging, monkeypatch: pytest.MonkeyPatch) -> RouterWorld:
    table = messaging.reply_table
    monkeypatch.setenv("REPLY_TABLE_NAME", table)
    reply_router.reply_store.cache_clear()
    sqs = RecordingSqsClient()
    if request.param == "in-memory":
        fake = InMemoryCommitter()
        return RouterWorld(router(fake, sqs), sqs, lambda: fake.items(table),
                           lambda cid: _read_items(fake.items(table), cid), None)
    calls: list[str] = []
    messaging.dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    # The handler's own store on the counted client (a read it made would be counted); the test reads on another.
    monkeypatch.setattr(reply_router, "reply_store", lambda: DynamoDbReplyStore(table, client=messaging.dynamodb))
    reader = boto3.client("dynamodb", region_name=REGION)
    committer = DynamoDbCommitter(messaging.idempotency_table, client=messaging.dynamodb)
    return RouterWorld(router(committer, sqs), sqs,
                       lambda: list(reader.scan(TableName=table, ConsistentRead=True)["Items"]),
                       DynamoDbReplyStore(table, client=reader).get, calls)


def router(committer: Committer, sqs: RecordingSqsClient) -> MessageConsumer:
    """The reply router's own handler on a consumer with ``committer``, dead-lettering to :data:`REPLIES_DLQ`."""

    consumer = MessageConsumer(
        "reply-router", settings=ConsumerSettings(dead_letter_queue_url=REPLIES_DLQ), sqs_client=sqs,  # type: ignore[arg-type]
        committer=committer,
    )
    consumer.reply()(reply_router.route_reply)
    return consumer


def _request() -> Envelope:
    return command("orders.CreateOrder", {"sku": "book"}, source="/web", partitionkey="c-1",
                   replyto="https://sqs.eu-west-1.amazonaws.com/123456789012/replies.fifo")


def test_router_contract_a_reply_is_stored_with_one_conditional_write_no_read_and_no_registration(
    world: RouterWorld,
) -> None:
    # Given a reply to a request nobody registered anywhere (a requester only sent it)
    request = _request()
    reply = reply_to(request, ReplyOutcome.success({"order_id": "o-1"}), source="/orders")
    # When the router handles it
    started = time.time()
    assert world.deliver(codec.encode(reply)) == []
    # Then it is stored under the request's id, for the reply TTL, and read by that id only
    assert world.stored(request.id) == [reply]
    assert world.stored(_request().id) == []
    (item,) = world.items()
    assert int(started) + REPLY_TTL_SECONDS - 2 <= int(item["expires_at"]["N"]) <= int(time.time()) + REPLY_TTL_SECONDS
    # And on DynamoDB it cost one write: no registration read (GetItem), no dedup record of its own
    if world.calls is not None:
        assert world.calls == ["PutItem"]
    assert world.sqs.to(REPLIES_DLQ) == []


def test_router_contract_a_redelivered_reply_is_dropped_and_another_responders_is_kept(world: RouterWorld) -> None:
    # Given a request answered by two responders, the first reply delivered twice
    request = _request()
    first = reply_to(request, ReplyOutcome.success({"price": 7}), source="/quotes/standard")
    second = reply_to(request, ReplyOutcome.failure("no_capacity", "fully booked"), source="/quotes/express")
    # When the router handles first, first again (a redelivery), then second
    assert world.deliver(codec.encode(first)) == []
    assert world.deliver(codec.encode(first), receive_count=2) == []
    assert world.deliver(codec.encode(second)) == []
    # Then each reply is stored once, oldest first, and nothing was dead-lettered
    assert world.stored(request.id) == [first, second]
    assert world.sqs.to(REPLIES_DLQ) == []
    # And on DynamoDB the redelivery cost its refused conditional write only
    if world.calls is not None:
        assert world.calls == ["PutItem", "PutItem", "PutItem"]


def test_router_contract_a_reply_that_names_no_request_is_dead_lettered_with_its_code(world: RouterWorld) -> None:
    # Given a reply without a correlationid
    document = json.loads(codec.encode(reply_to(_request(), ReplyOutcome.success({}), source="/orders")))
    del document["correlationid"]
    body = json.dumps(document)
    # When the router handles it
    assert world.deliver(body) == []
    # Then it is in the replies' DLQ, unchanged, with its code, and nothing is stored
    (dead,) = world.sqs.to(REPLIES_DLQ)
    assert dead["MessageBody"] == body
    assert dead["MessageAttributes"]["failure-code"]["StringValue"] == "invalid_attribute"
    assert dead["MessageAttributes"]["failure-field"]["StringValue"] == "correlationid"
    assert world.items() == []
