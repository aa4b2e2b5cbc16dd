"""The consumer against moto SQS/SNS/DynamoDB: failure replies, FIFO group isolation, duplicates. Invalid input, class
by class: ``test_hostile_corpus_on_moto.py``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import BaseModel, Field

from messaging.codec import CloudEventJsonCodec
from messaging.consumer import MessageConsumer, MessageContext
from messaging.envelope import Envelope, Kind, ReplyOutcome, command
from messaging.unit_of_work import current
from tests.support.aws import Messaging, drain
from tests.support.lambda_context import FakeLambdaContext
from tests.support.sqs_events import (
    event_from_queue,
    failed_ids,
    queue_arn_from_url,
    receive_all,
    record_from_sqs_message,
)

pytestmark = pytest.mark.integration
codec = CloudEventJsonCodec()


class CreateOrder(BaseModel):
    sku: str
    quantity: int = Field(gt=0)


@dataclass
class Orders:
    consumer: MessageConsumer
    calls: list[str] = field(default_factory=list)
    flaky: set[str] = field(default_factory=set)


@pytest.fixture
def orders(messaging: Messaging) -> Orders:
    # The consumer reads its settings from the environment and creates its clients on the first invocation.
    consumer = MessageConsumer(service="orders")
    state = Orders(consumer)

    @consumer.command("orders.CreateOrder", model=CreateOrder)
    def create_order(cmd: CreateOrder, ctx: MessageContext) -> dict[str, Any]:
        state.calls.append(cmd.sku)
        if cmd.sku in state.flaky:
            state.flaky.discard(cmd.sku)
            raise ConnectionError("state table throttled")
        order = {"pk": {"S": "ORDERS"}, "sk": {"S": ctx.derived_id("order")}, "sku": {"S": cmd.sku}}
        current().create(messaging.state_table, {**order, "run": {"N": str(len(state.calls))}}, keyed_by_message=True)
        ctx.emit("orders.OrderCreated", {"sku": cmd.sku})
        return {"order_id": f"o-{cmd.sku}"}

    return state


def stored_orders(messaging: Messaging) -> list[dict[str, Any]]:
    return list(messaging.dynamodb.scan(TableName=messaging.state_table, ConsistentRead=True)["Items"])


def valid_command(messaging: Messaging, sku: str, key: str) -> Envelope:
    return command(
        "orders.CreateOrder",
        {"sku": sku, "quantity": 1},
        source="/web",
        partitionkey=key,
        replyto=messaging.replies_url,
    )


def send_raw(messaging: Messaging, body: str, group: str) -> None:
    messaging.sqs.send_message(
        QueueUrl=messaging.commands_url,
        MessageBody=body,
        MessageGroupId=group,
        MessageDeduplicationId=hashlib.sha256(body.encode()).hexdigest(),
    )


def send(messaging: Messaging, envelope: Envelope, group: str | None = None) -> None:
    send_raw(messaging, codec.encode(envelope), group or envelope.partitionkey or "g")


def run_lambda(messaging: Messaging, orders: Orders) -> tuple[dict[str, Any], dict[str, Any]]:
    """One Lambda invocation on the next FIFO batch; deletes the records reported handled, like the ESM does."""
    event = event_from_queue(messaging.sqs, messaging.commands_url)
    response = orders.consumer.handle(event, FakeLambdaContext())
    failed = set(failed_ids(response))
    for record in event["Records"]:
        if record["messageId"] not in failed:
            messaging.sqs.delete_message(QueueUrl=messaging.commands_url, ReceiptHandle=record["receiptHandle"])
    return event, response


def test_an_unknown_command_with_an_allowed_replyto_gets_a_failure_reply(messaging: Messaging, orders: Orders) -> None:
    # Given a command of an unknown type asking for a reply on the allowed reply queue
    request = command("orders.Teleport", {}, source="/web", partitionkey="c-7", replyto=messaging.replies_url)
    send(messaging, request)
    # When it is handled
    run_lambda(messaging, orders)
    # Then it is dead-lettered and the requester gets a failure reply naming the error code
    assert len(drain(messaging.sqs, messaging.dlq_url)) == 1
    [raw] = drain(messaging.sqs, messaging.replies_url)
    reply = codec.decode(raw["Body"])
    assert reply.correlationid == request.id
    assert raw["Attributes"]["MessageGroupId"] == "c-7"
    assert ReplyOutcome.from_data(reply.data).error_code == "unknown_type"


def test_a_failing_group_does_not_stop_the_other_groups_of_the_batch(messaging: Messaging, orders: Orders) -> None:
    # Given one FIFO batch: group A (a1 fails transiently, then a2), group B (b1, b2)
    commands = {
        sku: valid_command(messaging, sku, key)
        for sku, key in [("a1", "group-a"), ("b1", "group-b"), ("a2", "group-a"), ("b2", "group-b")]
    }
    for envelope in commands.values():
        send(messaging, envelope)
    orders.flaky.add("a1")
    # When the consumer handles the batch
    event, response = run_lambda(messaging, orders)
    # Then a1 and the later a2 are reported failed (a2 not even attempted); group B was processed in order
    by_sku = {json.loads(r["body"])["data"]["sku"]: r["messageId"] for r in event["Records"]}
    assert set(failed_ids(response)) == {by_sku["a1"], by_sku["a2"]}
    assert orders.calls == ["a1", "b1", "b2"]
    replies = [codec.decode(m["Body"]) for m in drain(messaging.sqs, messaging.replies_url)]
    assert sorted(r.correlationid or "" for r in replies) == sorted([commands["b1"].id, commands["b2"].id])
    # And nothing went to the DLQ (a transient failure is SQS's to retry)
    assert drain(messaging.sqs, messaging.dlq_url) == []


def test_a_command_delivered_twice_is_applied_once_and_both_deliveries_get_the_same_reply(
    messaging: Messaging, orders: Orders
) -> None:
    # Given a command whose first delivery is handled but whose acknowledgement is lost (visibility times out)
    request = valid_command(messaging, "lamp", "customer-1")
    send(messaging, request)
    arn = queue_arn_from_url(messaging.commands_url)
    [first] = receive_all(messaging.sqs, messaging.commands_url, visibility_timeout=0)
    first_response = orders.consumer.handle({"Records": [record_from_sqs_message(first, arn)]}, FakeLambdaContext())
    first_replies = drain(messaging.sqs, messaging.replies_url)
    first_events = drain(messaging.sqs, messaging.subscriber_url)
    # When SQS delivers the same message again
    [second] = receive_all(messaging.sqs, messaging.commands_url)
    assert second["MessageId"] == first["MessageId"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    second_response = orders.consumer.handle({"Records": [record_from_sqs_message(second, arn)]}, FakeLambdaContext())
    second_replies = drain(messaging.sqs, messaging.replies_url)
    second_events = drain(messaging.sqs, messaging.subscriber_url)
    # Then both deliveries are handled, and the order was written once, by the first run
    assert first_response == second_response == {"batchItemFailures": []}
    [order] = stored_orders(messaging)
    assert order["run"] == {"N": "1"}
    # And both deliveries produced the same reply (same id, same outcome), correlated to the request
    [reply_1], [reply_2] = first_replies, second_replies
    assert reply_1["Body"] == reply_2["Body"]
    reply = codec.decode(reply_1["Body"])
    assert reply.kind is Kind.REPLY
    assert reply.correlationid == request.id
    assert ReplyOutcome.from_data(reply.data) == ReplyOutcome.success({"order_id": "o-lamp"})
    # And the same event was published both times, byte for byte (rebuilt from the compact stored outcome), with
    # the same group and deduplication ids: SNS FIFO dedup drops the copy in real AWS
    def sent(messages: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        return [(m["Body"], m["Attributes"]["MessageGroupId"], m["Attributes"]["MessageDeduplicationId"])
                for m in messages]

    assert sent(first_events) == sent(second_events)
    assert [sent(first_replies)] == [sent(second_replies)]
    assert len(first_events) == 1


def test_a_reused_message_id_with_different_content_is_dead_lettered(messaging: Messaging, orders: Orders) -> None:
    # Given a handled command, and a second message with the same source and id but different data
    original = valid_command(messaging, "pen", "customer-2")
    send(messaging, original)
    run_lambda(messaging, orders)
    drain(messaging.sqs, messaging.replies_url)
    impostor = command(
        "orders.CreateOrder", {"sku": "gold", "quantity": 99}, source="/web", partitionkey="customer-2", id=original.id
    )
    send(messaging, impostor)
    # When it is handled
    _, response = run_lambda(messaging, orders)
    # Then its effect is not applied and it is not answered with the first outcome: it is dead-lettered as a conflict
    assert response == {"batchItemFailures": []}
    assert [order["sku"]["S"] for order in stored_orders(messaging)] == ["pen"]
    [dead] = drain(messaging.sqs, messaging.dlq_url)
    assert dead["MessageAttributes"]["failure-code"]["StringValue"] == "message_id_conflict"


def test_metrics_are_flushed_per_invocation_in_the_namespace_with_the_service_dimension(
    messaging: Messaging, orders: Orders, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a batch with one valid command and one poison message
    send(messaging, valid_command(messaging, "mug", "customer-3"))
    send_raw(messaging, "not json", "other")
    # When it is handled
    run_lambda(messaging, orders)
    # Then one EMF document carries the counts of this invocation
    [emf] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    directive = emf["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "FifoMessaging"
    assert directive["Dimensions"] == [["service"]]
    assert emf["service"] == "orders"
    assert emf["MessagesProcessed"] == [1.0]
    assert emf["MessagesDeadLettered"] == [1.0]
    assert emf["RepliesSent"] == [1.0]
