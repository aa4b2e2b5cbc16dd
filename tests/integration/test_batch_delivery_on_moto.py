"""Delivery per Lambda batch against moto SNS/SQS/DynamoDB: what a batch of records sends leaves in one
PublishBatch per topic and one SendMessageBatch per queue when the records are of distinct groups, in order when they
share one, and a record whose delivery fails is reported with the rest of its group and re-delivers the same
messages when SQS retries it."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import boto3
import pytest

from messaging.codec import CloudEventJsonCodec
from messaging.consumer import MessageConsumer, MessageContext
from messaging.envelope import Envelope, command
from messaging.unit_of_work import current
from tests.support.aws import Messaging, drain
from tests.support.lambda_context import FakeLambdaContext
from tests.support.sqs_events import event_from_queue, failed_ids

pytestmark = pytest.mark.integration
codec = CloudEventJsonCodec()


class CountedClients:
    """The consumer's SNS and SQS clients, counting the calls it makes by operation."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.sns, self.sqs = boto3.client("sns"), boto3.client("sqs")
        for client in (self.sns, self.sqs):
            client.meta.events.register("before-call", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1


def build_consumer(messaging: Messaging, clients: CountedClients) -> MessageConsumer:
    consumer = MessageConsumer(service="orders", sns_client=clients.sns, sqs_client=clients.sqs)

    @consumer.command("orders.CreateOrder")
    def create_order(data: dict[str, Any], ctx: MessageContext) -> dict[str, Any]:
        current().create(messaging.state_table, {"pk": {"S": "ORDERS"}, "sk": {"S": ctx.derived_id("order")}},
                         keyed_by_message=True)
        ctx.emit("orders.OrderCreated", {"sku": data["sku"]})
        return {"order_id": f"o-{data['sku']}"}

    return consumer


def send(messaging: Messaging, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        body = codec.encode(envelope)
        messaging.sqs.send_message(QueueUrl=messaging.commands_url, MessageBody=body,
                                   MessageGroupId=envelope.partitionkey or "g",
                                   MessageDeduplicationId=hashlib.sha256(body.encode()).hexdigest())


def handle_batch(messaging: Messaging, consumer: MessageConsumer) -> tuple[dict[str, Any], dict[str, Any]]:
    event = event_from_queue(messaging.sqs, messaging.commands_url)
    response = consumer.handle(event, FakeLambdaContext())
    failed = set(failed_ids(response))
    for record in event["Records"]:
        if record["messageId"] not in failed:
            messaging.sqs.delete_message(QueueUrl=messaging.commands_url, ReceiptHandle=record["receiptHandle"])
    return event, response


def create(messaging: Messaging, sku: str, customer: str) -> Envelope:
    return command("orders.CreateOrder", {"sku": sku}, source="/web", partitionkey=customer,
                   replyto=messaging.replies_url)


def test_ten_customers_cost_one_publish_batch_and_one_send_message_batch(messaging: Messaging) -> None:
    # Given ten commands of ten customers in the queue
    clients = CountedClients()
    consumer = build_consumer(messaging, clients)
    commands = [create(messaging, f"s{n}", f"customer-{n}") for n in range(10)]
    send(messaging, commands)
    # When one Lambda batch takes them
    event, response = handle_batch(messaging, consumer)
    # Then their ten events left in one PublishBatch and their ten replies in one SendMessageBatch
    assert len(event["Records"]) == 10 and response == {"batchItemFailures": []}
    assert clients.calls == Counter({"PublishBatch": 1, "SendMessageBatch": 1})
    events = [codec.decode(m["Body"]) for m in drain(messaging.sqs, messaging.subscriber_url)]
    assert sorted(e.data["sku"] for e in events) == sorted(f"s{n}" for n in range(10))  # type: ignore[index]
    replies = [codec.decode(m["Body"]) for m in drain(messaging.sqs, messaging.replies_url)]
    assert sorted(r.correlationid or "" for r in replies) == sorted(c.id for c in commands)


def test_one_customer_s_records_are_delivered_in_order(messaging: Messaging) -> None:
    # Given three commands of one customer
    clients = CountedClients()
    consumer = build_consumer(messaging, clients)
    commands = [create(messaging, f"s{n}", "customer-1") for n in range(3)]
    send(messaging, commands)
    # When one batch takes them
    handle_batch(messaging, consumer)
    # Then the events reached the subscriber and the replies the reply queue in the commands' order
    events = [codec.decode(m["Body"]).data["sku"] for m in drain(messaging.sqs, messaging.subscriber_url)]  # type: ignore[index]
    assert events == ["s0", "s1", "s2"]
    replies = [codec.decode(m["Body"]).correlationid for m in drain(messaging.sqs, messaging.replies_url)]
    assert replies == [c.id for c in commands]


def fail_once(clients: CountedClients, sku: str) -> list[str]:
    """SNS fails the PublishBatch entry of ``sku``'s event once (taken out of the call, reported in ``Failed``);
    returns the list that receives the failed event's id."""
    failed: list[str] = []
    taken: dict[str, str] = {}

    def drop(params: dict[str, Any], **_: Any) -> None:
        entries = params.get("PublishBatchRequestEntries", [])
        for entry in entries:
            if f'"{sku}"' in entry["Message"] and not failed:
                failed.append(codec.decode(entry["Message"]).id)
                taken["id"] = entry["Id"]
                params["PublishBatchRequestEntries"] = [e for e in entries if e is not entry]

    def report(parsed: dict[str, Any], **_: Any) -> None:
        if "id" in taken:
            parsed["Failed"] = [{"Id": taken.pop("id"), "Code": "InternalError", "Message": "injected",
                                 "SenderFault": False}]

    clients.sns.meta.events.register("before-parameter-build.sns.PublishBatch", drop)
    clients.sns.meta.events.register("after-call.sns.PublishBatch", report)
    return failed


def test_a_failed_publish_fails_its_group_and_the_retry_sends_the_same_messages(messaging: Messaging) -> None:
    # Given commands a1, a2 of customer a and b1 of customer b, and SNS failing a1's event once (one entry)
    clients = CountedClients()
    consumer = build_consumer(messaging, clients)
    failed_once = fail_once(clients, "a1")
    a1, b1, a2 = create(messaging, "a1", "cust-a"), create(messaging, "b1", "cust-b"), create(messaging, "a2", "cust-a")
    send(messaging, [a1, b1, a2])
    # When one batch takes them
    event, response = handle_batch(messaging, consumer)
    # Then a1 and a2 are reported failed, b1 was delivered (its event and its reply)
    by_sku = {codec.decode(r["body"]).data["sku"]: r["messageId"] for r in event["Records"]}  # type: ignore[index]
    assert failed_ids(response) == [by_sku["a1"], by_sku["a2"]]
    assert [codec.decode(m["Body"]).data["sku"] for m in drain(messaging.sqs, messaging.subscriber_url)] == ["b1"]  # type: ignore[index]
    assert [codec.decode(m["Body"]).correlationid for m in drain(messaging.sqs, messaging.replies_url)] == [b1.id]
    # And when SQS delivers a1 and a2 again, their stored outcomes are replayed: a1's event goes out with the id it
    # had the first time, then a2's, in order, and both replies
    for record in event["Records"]:
        if record["messageId"] in failed_ids(response):
            messaging.sqs.change_message_visibility(QueueUrl=messaging.commands_url,
                                                    ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0)
    _, retry = handle_batch(messaging, consumer)
    assert retry == {"batchItemFailures": []}
    replayed = [codec.decode(m["Body"]) for m in drain(messaging.sqs, messaging.subscriber_url)]
    assert [e.data["sku"] for e in replayed] == ["a1", "a2"]  # type: ignore[index]
    assert replayed[0].id == failed_once[0]
    replies = [codec.decode(m["Body"]).correlationid for m in drain(messaging.sqs, messaging.replies_url)]
    assert replies == [a1.id, a2.id]
