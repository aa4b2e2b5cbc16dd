"""End to end through the local cloud: every messaging style of the example system, with its guarantees."""

from __future__ import annotations

import hashlib
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from demo.run import System, order_data, peak_overlap
from messaging.channels import QueueSender
from messaging.client import MessagingClient, Reply
from messaging.envelope import command
from messaging.errors import ReplyTimeout
from messaging.reply_store import DynamoDbReplyStore

pytestmark = pytest.mark.e2e

FIFO_DEDUP_WINDOW_SECONDS = 300


def _result(reply: Reply | None) -> dict[str, Any]:
    assert reply is not None, "no reply"
    assert reply.outcome.ok, f"failure reply: {reply.outcome.error_code} {reply.outcome.error_message}"
    return dict(reply.outcome.result or {})


def test_notification_runs_the_command_and_sends_no_reply(system: System, customer: str) -> None:
    # Given the orders service
    # When a one-way CreateOrder (no replyto) is sent
    sent = system.client.notify(system.orders_queue, "orders.CreateOrder", order_data(customer), partitionkey=customer)
    system.drain()
    # Then exactly one order exists and no reply was produced
    assert len(system.orders(customer)) == 1
    assert system.client.get_replies(sent.id) == []


def test_async_request_reply_is_fetched_later_by_correlation_id(system: System, customer: str) -> None:
    # Given a command sent with the reply queue as its return address
    correlation_id = system.client.send(
        system.orders_queue, "orders.CreateOrder", order_data(customer), partitionkey=customer
    )
    # When the system has processed it
    system.drain()
    # Then the reply is found by the correlation id, and answers this very request
    reply = system.client.get_reply(correlation_id)
    assert reply is not None
    assert reply.correlation_id == correlation_id
    assert reply.envelope.correlationid == correlation_id
    assert _result(reply)["customer_id"] == customer


def test_reply_survives_a_requester_that_went_away(system: System, customer: str) -> None:
    # Given a requester that sends a command and disappears
    correlation_id = system.client.send(
        system.orders_queue, "orders.CreateOrder", order_data(customer), partitionkey=customer
    )
    system.drain()
    # When a new client (another process, later) asks for the reply
    newcomer = MessagingClient(
        system.outputs["ReplyQueueUrl"],
        DynamoDbReplyStore(system.outputs["ReplyTableName"], client=system.dynamodb),
        source="/tests/newcomer",
        sqs_client=system.sqs,
    )
    # Then it is still there
    assert _result(newcomer.get_reply(correlation_id))["customer_id"] == customer


def test_blocking_request_returns_the_reply_or_raises_a_typed_timeout(system: System, customer: str) -> None:
    # Given the orders service running
    # When a blocking request is made
    reply = system.client.request(
        system.orders_queue, "orders.CreateOrder", order_data(customer), partitionkey=customer, timeout=15
    )
    # Then it returns the reply
    assert _result(reply)["status"] == "open"
    # Given the consumers stopped
    system.cloud.stop_pollers()
    try:
        # When a request cannot be answered in time
        with pytest.raises(ReplyTimeout) as timeout:
            system.client.request(
                system.orders_queue, "orders.CreateOrder", order_data(customer), partitionkey=customer, timeout=0.3
            )
    finally:
        system.cloud.start_pollers()
    # Then the timeout names the request, and its reply arrives later
    system.drain()
    assert _result(system.client.get_reply(timeout.value.correlation_id))["customer_id"] == customer


def test_twenty_concurrent_blocking_requesters_each_get_exactly_their_own_reply(system: System) -> None:
    # Given 20 requesters, each on its own shard
    customers = [f"conc-{n:02d}-{id(system) % 10000}" for n in range(20)]

    def ask(customer: str) -> Reply:
        return system.client.request(
            system.orders_queue, "orders.CreateOrder", order_data(customer), partitionkey=customer, timeout=30
        )

    # When they all block on a request at once
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = dict(zip(customers, pool.map(ask, customers), strict=True))
    # Then every one got the reply to its own request, and only one
    for customer, reply in replies.items():
        assert _result(reply)["customer_id"] == customer
        assert len(system.client.get_replies(reply.correlation_id)) == 1
    assert len({reply.correlation_id for reply in replies.values()}) == 20


def test_publish_subscribe_fans_out_through_body_filters(system: System, customer: str) -> None:
    # Given an order that is created and then cancelled
    created = _result(
        system.client.request(
            system.orders_queue, "orders.CreateOrder", order_data(customer), partitionkey=customer, timeout=15
        )
    )
    order_id = created["order_id"]
    cancel = {"customer_id": customer, "order_id": order_id}
    _result(system.client.request(system.orders_queue, "orders.CancelOrder", cancel, partitionkey=customer, timeout=15))
    # When the events have been fanned out
    system.drain()
    # Then billing (OrderCreated + OrderCancelled) saw both, notifications (OrderCreated only) saw one
    billing = sorted(item["sk"]["S"] for item in system.items("BillingTableName", customer))
    notifications = [item["sk"]["S"] for item in system.items("NotificationsTableName", customer)]
    assert billing == [f"CREDIT_NOTE#{order_id}", f"INVOICE#{order_id}"]
    assert notifications == [f"NOTIFICATION#{order_id}"]


def test_scatter_gather_collects_one_reply_per_responder(system: System, customer: str) -> None:
    # Given three quote responders subscribed to the quote-requests topic
    topic = system.outputs["QuoteRequestsTopicArn"]
    # When a quote request is published and replies are gathered
    replies = system.client.scatter_gather(
        topic,
        "quotes.RequestQuote",
        {"weight_kg": "40", "destination": "DE"},
        partitionkey=customer,
        window=15,
        min_replies=3,
    )
    # Then each responder answered once: two quotes, and express refuses the heavy parcel
    assert sorted(reply.responder for reply in replies) == ["/quotes/economy", "/quotes/express", "/quotes/standard"]
    outcomes = {reply.responder: reply.outcome for reply in replies}
    assert outcomes["/quotes/express"].error_code == "too_heavy"
    assert outcomes["/quotes/economy"].ok
    assert outcomes["/quotes/standard"].ok


def test_per_shard_order_holds_with_several_workers(system: System) -> None:
    # Given a backlog of interleaved commands on 6 shards, built while the consumers were paused
    shards = [f"order-{n}-{id(system) % 10000}" for n in range(6)]
    system.cloud.stop_pollers()
    for sequence in range(10):
        for shard in shards:
            data = order_data(shard, sku=f"seq-{sequence:02d}")
            system.client.notify(system.orders_queue, "orders.CreateOrder", data, partitionkey=shard)
    # When several workers drain it
    system.cloud.start_pollers()
    system.drain()
    # Then each shard's orders were created in the order they were sent
    for shard in shards:
        orders = sorted(system.orders(shard), key=lambda item: item["created_at"]["S"])
        assert [json.loads(item["lines"]["S"])[0]["sku"] for item in orders] == [f"seq-{n:02d}" for n in range(10)]
    # And batches of different shards ran in parallel, never two batches of one shard at once
    (orders_function,) = system.function_names("orders.handler.lambda_handler")
    batches = [
        i for i in system.cloud.invocations if i.function_name == orders_function and set(i.group_ids) & set(shards)
    ]
    for shard in shards:
        assert peak_overlap([(b.started, b.ended) for b in batches if shard in b.group_ids]) == 1
    assert peak_overlap([(b.started, b.ended) for b in batches]) >= 2


def test_duplicated_create_order_yields_one_order_one_event_one_reply(system: System, customer: str) -> None:
    # Given a CreateOrder command with a fixed identity
    message = command(
        "orders.CreateOrder",
        order_data(customer),
        source="/tests/duplicates",
        partitionkey=customer,
        replyto=system.outputs["ReplyQueueUrl"],
    )
    sender = QueueSender(system.orders_queue, client=system.sqs)
    sender.send(message)
    system.drain()
    first = system.orders(customer)
    # When it is delivered again after the broker's 5-minute deduplication window
    system.cloud.clock.advance(FIFO_DEDUP_WINDOW_SECONDS + 1)
    sender.send(message)
    system.drain()
    # Then there is one order, the one the first delivery wrote (the second delivery's write lost its condition: an
    # unconditional one would have written the order again, with its own creation time), its event was applied once
    # by each subscriber, and one reply exists
    assert system.orders(customer) == first and len(first) == 1
    assert len([i for i in system.items("BillingTableName", customer) if i["sk"]["S"].startswith("INVOICE#")]) == 1
    assert len(system.items("NotificationsTableName", customer)) == 1
    replies = system.client.get_replies(message.id)
    assert len(replies) == 1
    assert _result(replies[0])["customer_id"] == customer


def test_a_requester_in_any_language_needs_only_the_wire_contract(system: System, customer: str) -> None:
    # Given a request built by hand as the README's wire contract says (no runtime library): a command with a random
    # UUID as its id and the reply queue as replyto, and nothing registered anywhere
    request_id = str(uuid.uuid4())
    body = json.dumps({
        "specversion": "1.0", "id": request_id, "source": "/tests/any-language", "type": "orders.CreateOrder",
        "kind": "command", "time": "2026-11-24T10:00:00Z", "datacontenttype": "application/json",
        "partitionkey": customer, "replyto": system.outputs["ReplyQueueUrl"], "data": order_data(customer),
    })
    # When it is sent with a plain SendMessage, and the system runs
    system.sqs.send_message(QueueUrl=system.orders_queue, MessageBody=body, MessageGroupId=customer,
                            MessageDeduplicationId=hashlib.sha256(f"/tests/any-language\n{request_id}".encode())
                            .hexdigest())
    system.drain()
    # Then a plain DynamoDB Query of the reply table by the request's id finds its one reply, the CloudEvent as sent
    items = system.dynamodb.query(
        TableName=system.outputs["ReplyTableName"], KeyConditionExpression="correlationid = :id",
        ExpressionAttributeValues={":id": {"S": request_id}}, ConsistentRead=True,
    )["Items"]
    (item,) = items
    reply = json.loads(item["body"]["S"])
    assert (reply["kind"], reply["correlationid"], reply["data"]["outcome"]) == ("reply", request_id, "success")
    assert item["replyid"]["S"] == f"{reply['source']}|{reply['id']}"
    assert int(item["expires_at"]["N"]) > int(item["stored_at"]["N"]) // 1000


def test_the_deployed_reply_queue_keeps_its_sender_policy(system: System) -> None:
    # Given the deployed reply queue (the local cloud stores its policy; like moto, it does not evaluate it)
    attributes = system.sqs.get_queue_attributes(QueueUrl=system.outputs["ReplyQueueUrl"], AttributeNames=["Policy"])
    statements = {s.get("Sid"): s for s in json.loads(attributes["Attributes"]["Policy"])["Statement"]}
    # Then it denies SendMessage to every principal that is not a role on the reply-sender path
    deny = statements["OnlyTheSystemsRespondersSendReplies"]  # infra.reply_channel.REPLY_SENDERS_SID
    assert (deny["Effect"], deny["Action"]) == ("Deny", "sqs:SendMessage")
    assert deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"].endswith(":role/fifo-messaging/default/reply-senders/*")
    # And a responder's role is on that path
    role = system.cloud.client("lambda").get_function(FunctionName="orders")["Configuration"]["Role"]
    assert ":role/fifo-messaging/default/reply-senders/" in role


def test_poison_messages_are_dead_lettered_with_a_reason_and_do_not_block_their_group(
    system: System, customer: str
) -> None:
    # Given a malformed body and an unknown command type ahead of a valid command in the same group
    system.sqs.send_message(
        QueueUrl=system.orders_queue,
        MessageBody="{broken json",
        MessageGroupId=customer,
        MessageDeduplicationId=f"poison-{customer}",
    )
    unknown = system.client.send(system.orders_queue, "orders.ShipOrder", {}, partitionkey=customer)
    valid = system.client.send(system.orders_queue, "orders.CreateOrder", order_data(customer), partitionkey=customer)
    # When the consumer has processed the group
    system.drain()
    # Then both poison messages are in the DLQ with their reason, the unknown type's requester got a failure reply,
    # and the valid command behind them went through
    dead = system.dead_letters("OrdersCommandDeadLetterQueueUrl")
    mine = [m for m in dead if m["Attributes"]["MessageGroupId"] == customer]
    codes = {m["MessageAttributes"]["failure-code"]["StringValue"] for m in mine}
    assert codes == {"not_json", "unknown_type"}
    assert all(m["MessageAttributes"]["failure-reason"]["StringValue"] for m in mine)
    refusal = system.client.get_reply(unknown)
    assert refusal is not None
    assert refusal.outcome.error_code == "unknown_type"
    assert _result(system.client.get_reply(valid))["customer_id"] == customer

