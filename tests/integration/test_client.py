"""MessagingClient on moto: request/reply through a responder and the reply router, timeouts, scatter-gather."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from messaging.claim_check import MAX_DATA_BYTES, ClaimCheck
from messaging.client import MessagingClient
from messaging.consumer import MessageConsumer, MessageContext
from messaging.envelope import Kind
from messaging.errors import CommandRejected, PayloadTooLarge, ReplyTimeout
from messaging.reply_store import DynamoDbReplyStore
from messaging.settings import ConsumerSettings
from messaging.unit_of_work import InMemoryCommitter
from tests.support.aws import Messaging, create_fifo_queue, subscribe_queue
from tests.support.lambda_context import FakeLambdaContext
from tests.support.sqs_events import REGION, event_from_queue, failed_ids, queue_arn_from_url, record_from_sqs_message

pytestmark = pytest.mark.integration


class Pump:
    """Runs consumers over their queues, like event source mappings; used as the client's ``sleep``."""

    def __init__(self, messaging: Messaging) -> None:
        self.messaging = messaging
        self.consumers: list[tuple[str, MessageConsumer]] = []
        self.now = 0.0
        self.sleeps: list[float] = []

    def add(self, queue_url: str, consumer: MessageConsumer) -> None:
        self.consumers.append((queue_url, consumer))

    def run_once(self) -> None:
        sqs = self.messaging.sqs
        for queue_url, consumer in self.consumers:
            event = event_from_queue(sqs, queue_url)
            if not event["Records"]:
                continue
            failed = set(failed_ids(consumer.handle(event, FakeLambdaContext())))
            for record in event["Records"]:
                if record["messageId"] not in failed:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"])

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.run_once()

    def clock(self) -> float:
        return self.now


def reply_router(messaging: Messaging, store: DynamoDbReplyStore) -> MessageConsumer:
    router = MessageConsumer(
        "reply-router",
        settings=ConsumerSettings(dead_letter_queue_url=messaging.dlq_url),
        sqs_client=messaging.sqs,
    )

    @router.reply(idempotent=False)
    def store_reply(data: dict[str, Any], ctx: MessageContext) -> None:
        store.put(ctx.envelope, ttl_seconds=3600)

    return router


def responder(messaging: Messaging, source: str, price: int | None) -> MessageConsumer:
    consumer = MessageConsumer(
        "quotes",
        source=lambda: source,
        settings=ConsumerSettings(
            dead_letter_queue_url=messaging.dlq_url, reply_to_allowlist=frozenset({messaging.replies_url})
        ),
        sqs_client=messaging.sqs,
        committer=InMemoryCommitter(),
    )

    @consumer.command("quotes.RequestQuote")
    def quote(data: dict[str, Any], ctx: MessageContext) -> dict[str, Any]:
        if price is None:
            raise CommandRejected("no_capacity", "fully booked")
        return {"price": price * data["weight"]}

    @consumer.command("orders.CreateOrder")
    def create(data: dict[str, Any], ctx: MessageContext) -> dict[str, Any]:
        return {"order_id": f"o-{data['sku']}"}

    return consumer


@pytest.fixture
def pump(messaging: Messaging) -> Pump:
    return Pump(messaging)


@pytest.fixture
def client(messaging: Messaging, pump: Pump) -> MessagingClient:
    store = DynamoDbReplyStore(messaging.reply_table, client=messaging.dynamodb)
    pump.add(messaging.replies_url, reply_router(messaging, store))
    return MessagingClient(
        messaging.replies_url,
        store,
        source="/web/checkout",
        sqs_client=messaging.sqs,
        sns_client=messaging.sns,
        sleep=pump.sleep,
        clock=pump.clock,
    )


def test_request_waits_for_the_correlated_reply(messaging: Messaging, pump: Pump, client: MessagingClient) -> None:
    # Given an orders responder behind the command queue and the reply router behind the reply queue
    pump.add(messaging.commands_url, responder(messaging, "/orders", 1))
    # When the client sends a request and waits
    reply = client.request(messaging.commands_url, "orders.CreateOrder", {"sku": "book"}, partitionkey="c-1")
    # Then it gets the success reply correlated to its request, from the responder
    assert reply.outcome.ok
    assert reply.outcome.result == {"order_id": "o-book"}
    assert reply.responder == "/orders"
    assert reply.envelope.kind is Kind.REPLY
    # And the reply stays retrievable later by correlation id (a requester that went away)
    assert client.get_reply(reply.correlation_id) == reply


def test_a_request_reads_the_reply_store_only_after_a_first_pause(
    messaging: Messaging, pump: Pump, client: MessagingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a responder that answers, and a router that stores the reply, during the client's first pause (the pump
    # runs the consumers in order on each sleep)
    pump.consumers.insert(0, (messaging.commands_url, responder(messaging, "/orders", 1)))
    reads: list[str] = []
    read = client.get_reply

    def counted(correlation_id: str) -> Any:
        reads.append(correlation_id)
        return read(correlation_id)

    monkeypatch.setattr(client, "get_reply", counted)
    # When the client sends a request and waits
    reply = client.request(messaging.commands_url, "orders.CreateOrder", {"sku": "book"}, partitionkey="c-1")
    # Then it paused before its first read, and one read (a billed Query) found the reply
    assert reply.outcome.ok
    assert pump.sleeps == [0.05]
    assert reads == [reply.correlation_id]


def test_a_request_nobody_answers_times_out_without_busy_spinning(
    messaging: Messaging, pump: Pump, client: MessagingClient
) -> None:
    # Given nobody consumes the command queue
    # When the client waits two seconds for a reply
    with pytest.raises(ReplyTimeout) as raised:
        client.request(messaging.commands_url, "orders.CreateOrder", {"sku": "x"}, partitionkey="c-1", timeout=2.0)
    # Then it raised the typed timeout after polling with a growing interval (a handful of polls, not thousands)
    assert raised.value.timeout == 2.0
    assert sum(pump.sleeps) == pytest.approx(2.0)
    assert len(pump.sleeps) < 15
    assert pump.sleeps == sorted(pump.sleeps[:-1]) + pump.sleeps[-1:]


def test_notify_sends_a_one_way_command(messaging: Messaging, client: MessagingClient) -> None:
    # When the client notifies a queue
    sent = client.notify(messaging.commands_url, "orders.CancelOrder", {"order_id": "o-1"}, partitionkey="c-1")
    # Then the command is on the queue without a reply address
    assert sent.replyto is None
    [message] = messaging.sqs.receive_message(QueueUrl=messaging.commands_url, MessageSystemAttributeNames=["All"])[
        "Messages"
    ]
    assert sent.id in message["Body"]


def test_scatter_gather_collects_every_responders_reply(
    messaging: Messaging, pump: Pump, client: MessagingClient
) -> None:
    # Given a quote-requests topic with three responders, one of which declines
    topic = messaging.sns.create_topic(Name="quote-requests.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    for name, price in [("standard", 5), ("express", 12), ("economy", None)]:
        queue = create_fifo_queue(messaging.sqs, f"quotes-{name}")
        subscribe_queue(messaging.sns, topic, queue)
        pump.add(queue, responder(messaging, f"/quotes/{name}", price))
    # When the client scatters a request and gathers until three replies arrived
    replies = client.scatter_gather(topic, "quotes.RequestQuote", {"weight": 2}, partitionkey="p-1", min_replies=3)
    # Then it has one reply per responder, all correlated to the same request
    by_responder = {reply.responder: reply.outcome for reply in replies}
    assert set(by_responder) == {"/quotes/standard", "/quotes/express", "/quotes/economy"}
    assert by_responder["/quotes/standard"].result == {"price": 10}
    assert by_responder["/quotes/economy"].error_code == "no_capacity"
    assert len({reply.correlation_id for reply in replies}) == 1
    # And it returned as soon as the third arrived, long before its 2-second window closed (the pump's clock)
    assert pump.now < 1.0


def test_scatter_gather_returns_what_arrived_when_the_window_closes(
    messaging: Messaging, pump: Pump, client: MessagingClient
) -> None:
    # Given a topic with a single responder
    topic = messaging.sns.create_topic(Name="quote-requests.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    queue = create_fifo_queue(messaging.sqs, "quotes-standard")
    subscribe_queue(messaging.sns, topic, queue)
    pump.add(queue, responder(messaging, "/quotes/standard", 5))
    # When the client gathers for one second, hoping for more replies than will come
    replies = client.scatter_gather(topic, "quotes.RequestQuote", {"weight": 1}, partitionkey="p-1", window=1.0)
    # Then the window closed with the one reply that arrived
    assert [reply.responder for reply in replies] == ["/quotes/standard"]
    assert pump.now == pytest.approx(1.0)


def _big(size: int) -> dict[str, Any]:
    return {"customer_id": "c-1", "blob": "x" * size}


def test_a_large_message_travels_through_the_claim_check_and_the_consumer_resolves_it(
    messaging: Messaging, client: MessagingClient
) -> None:
    # Given a client with a claim-check bucket (moto S3) and a consumer reading from the same bucket
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="claims", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket="claims", VersioningConfiguration={"Status": "Enabled"})
    client.claim_check = ClaimCheck("claims", client=s3)
    seen: list[dict[str, Any]] = []
    consumer = MessageConsumer(
        "billing",
        settings=ConsumerSettings(dead_letter_queue_url=messaging.dlq_url),
        committer=InMemoryCommitter(),
        claim_check=ClaimCheck("claims", client=s3),
    )
    consumer.document("billing.Blob", idempotent=False)(lambda data, ctx: seen.append(data))
    # When 300 KB of data is sent (over the 256 KiB channel limit)
    sent = client.notify(messaging.commands_url, "billing.Blob", _big(300_000), partitionkey="c-1", kind=Kind.DOCUMENT)
    # Then the message on the queue holds a dataref and no data, and fits the channel
    [message] = messaging.sqs.receive_message(QueueUrl=messaging.commands_url, MessageSystemAttributeNames=["All"])[
        "Messages"
    ]
    body = json.loads(message["Body"])
    assert "data" not in body and body["dataref"] == sent.dataref
    assert len(message["Body"]) < 2_000
    # And the consumer's handler gets the data itself
    event = {"Records": [record_from_sqs_message(message, queue_arn_from_url(messaging.commands_url))]}
    assert consumer.handle(event, FakeLambdaContext()) == {"batchItemFailures": []}
    assert seen == [_big(300_000)]


def test_data_over_the_maximum_or_without_a_bucket_is_refused_before_anything_is_sent(
    messaging: Messaging, client: MessagingClient
) -> None:
    # Given a client without a claim-check bucket / When 300 KB is sent / Then it is refused, nothing is on the queue
    with pytest.raises(PayloadTooLarge, match="no claim-check bucket"):
        client.notify(messaging.commands_url, "billing.Blob", _big(300_000), partitionkey="c-1")
    # And over 5 MiB is refused even with a bucket, before anything is stored
    client.claim_check = ClaimCheck("no-such-bucket", client=boto3.client("s3", region_name=REGION))
    with pytest.raises(PayloadTooLarge, match="the maximum is 5,242,880 bytes"):
        client.notify(messaging.commands_url, "billing.Blob", _big(MAX_DATA_BYTES), partitionkey="c-1")
    assert "Messages" not in messaging.sqs.receive_message(QueueUrl=messaging.commands_url)
