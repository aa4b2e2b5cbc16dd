"""The hostile-input corpus (``tests/corpus/hostile``) through the consumer on moto: each class is dead-lettered with
its reason code, crashes no batch, blocks no group, and the valid messages around it are applied, in order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

import reply_router.handler as reply_router
from messaging.claim_check import ClaimCheck
from messaging.codec import CloudEventJsonCodec
from messaging.consumer import MessageConsumer, MessageContext
from messaging.envelope import Envelope, ReplyOutcome, command, reply_to
from messaging.reply_store import DynamoDbReplyStore
from messaging.settings import ConsumerSettings
from messaging.unit_of_work import current
from orders.models import SHARD_KEYS, CreateOrder
from tests.support.aws import AWS_ENV, Messaging, build_messaging, create_fifo_queue, drain
from tests.support.hostile import HostileCase, load_corpus, order_data
from tests.support.lambda_context import FakeLambdaContext
from tests.support.sqs_events import event_from_queue, failed_ids

pytestmark = pytest.mark.integration
codec = CloudEventJsonCodec()
CASES = load_corpus()
BUCKET = "claims-corpus"


@dataclass
class World:
    messaging: Messaging
    orders: MessageConsumer
    router: MessageConsumer
    replies_dlq: str
    store: DynamoDbReplyStore
    applied: list[str]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    # One moto world for the module: each case uses message groups and customers of its own.
    with pytest.MonkeyPatch.context() as env, mock_aws():
        for name, value in AWS_ENV.items():
            env.setenv(name, value)
        messaging = build_messaging(boto3)
        s3 = boto3.client("s3", region_name=AWS_ENV["AWS_REGION"])
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": AWS_ENV["AWS_REGION"]})
        replies_dlq = create_fifo_queue(messaging.sqs, "replies-dlq")
        env.setenv("REPLY_TABLE_NAME", messaging.reply_table)
        reply_router.reply_store.cache_clear()
        applied: list[str] = []
        orders = MessageConsumer(
            "orders",
            settings=ConsumerSettings(
                idempotency_table_name=messaging.idempotency_table,
                dead_letter_queue_url=messaging.dlq_url,
                reply_to_allowlist=frozenset({messaging.replies_url}),
            ),
            shard_keys=SHARD_KEYS,
            claim_check=ClaimCheck(BUCKET, client=s3),
        )

        @orders.command("orders.CreateOrder", model=CreateOrder)
        def create_order(cmd: CreateOrder, ctx: MessageContext) -> dict[str, Any]:
            applied.append(cmd.customer_id)
            order = {"pk": {"S": f"CUSTOMER#{cmd.customer_id}"}, "sk": {"S": f"ORDER#{ctx.derived_id('order')}"}}
            current().create(messaging.state_table, order, keyed_by_message=True)
            return {"order_id": ctx.derived_id("order")}

        # The reply router's own handler, on a consumer whose dead-letter queue is the replies DLQ
        router = MessageConsumer("reply-router", settings=ConsumerSettings(dead_letter_queue_url=replies_dlq))
        router.reply()(reply_router.route_reply)
        store = DynamoDbReplyStore(messaging.reply_table, client=messaging.dynamodb)
        yield World(messaging, orders, router, replies_dlq, store, applied)
        reply_router.reply_store.cache_clear()


def run_lambda(consumer: MessageConsumer, sqs: Any, queue_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """One invocation on the next FIFO batch; deletes the records reported handled, as the event source mapping does."""
    event = event_from_queue(sqs, queue_url)
    response = consumer.handle(event, FakeLambdaContext())
    failed = set(failed_ids(response))
    for record in event["Records"]:
        if record["messageId"] not in failed:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"])
    return event, response


def send(sqs: Any, queue_url: str, body: str, group: str, dedup: str) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=dedup)


def valid(group: str, replies_url: str) -> Envelope:
    return command("orders.CreateOrder", order_data(group), source="/corpus", partitionkey=group, replyto=replies_url)


def assert_dead_lettered(case: HostileCase, dead: list[dict[str, Any]], body: str, group: str) -> None:
    assert len(dead) == 1, case.description
    attributes = {name: value["StringValue"] for name, value in dead[0]["MessageAttributes"].items()}
    assert (attributes["failure-code"], attributes.get("failure-field")) == (case.code, case.field)
    assert dead[0]["Body"] == body
    assert dead[0]["Attributes"]["MessageGroupId"] == group


def test_the_corpus_holds_at_least_25_classes_each_with_a_known_code() -> None:
    from messaging.failures import CODES  # noqa: PLC0415

    assert len(CASES) >= 25
    assert {case.code for case in CASES} <= set(CODES)


@pytest.mark.parametrize("case", [c for c in CASES if c.target == "commands"], ids=lambda c: c.name)
def test_hostile_command_is_dead_lettered_with_its_code_and_nothing_around_it_is_lost(
    world: World, case: HostileCase
) -> None:
    m = world.messaging
    group, other = f"a-{case.name}"[:64], f"b-{case.name}"[:64]
    body = case.body(group, replies_url=m.replies_url, bucket=BUCKET)
    # Given the hostile message first in group A, a valid CreateOrder behind it in group A, and one in group B
    behind, beside = valid(group, m.replies_url), valid(other, m.replies_url)
    send(m.sqs, m.commands_url, body, group, f"poison-{case.name}")
    for envelope in (behind, beside):
        send(m.sqs, m.commands_url, codec.encode(envelope), envelope.partitionkey or "", envelope.id)
    world.applied.clear()
    # When the consumer handles the batch
    event, response = run_lambda(world.orders, m.sqs, m.commands_url)
    # Then no record failed (no crash, no retry), both valid commands were applied in their order
    assert len(event["Records"]) == 3
    assert response == {"batchItemFailures": []}
    assert world.applied == [group, other]
    # And the hostile one is in the DLQ, unchanged, in its group, with its code
    assert_dead_lettered(case, drain(m.sqs, m.dlq_url), body, group)
    # And the valid ones were answered with success, the hostile one with its code if it could be answered
    replies = {r.correlationid: ReplyOutcome.from_data(r.data) for r in map(codec.decode, _bodies(m))}
    assert replies.pop(behind.id).ok and replies.pop(beside.id).ok
    expected = [case.code] if case.answered else []
    assert [outcome.error_code for outcome in replies.values()] == expected
    # And nothing is left to block group A
    assert drain(m.sqs, m.commands_url) == []


@pytest.mark.parametrize("case", [c for c in CASES if c.target == "replies"], ids=lambda c: c.name)
def test_hostile_reply_is_dead_lettered_with_its_code_and_the_other_replies_are_stored(
    world: World, case: HostileCase
) -> None:
    m = world.messaging
    group, other = f"a-{case.name}"[:64], f"b-{case.name}"[:64]
    body = case.body(group, replies_url=m.replies_url)
    # Given two requests, and the hostile reply ahead of their replies in group A
    requests = [valid(g, m.replies_url) for g in (group, other)]
    answers = [reply_to(r, ReplyOutcome.success({"n": 1}), source="/orders") for r in requests]
    send(m.sqs, m.replies_url, body, group, f"poison-{case.name}")
    for answer in answers:
        send(m.sqs, m.replies_url, codec.encode(answer), answer.partitionkey or "", answer.id)
    # When the reply router handles the batch
    event, response = run_lambda(world.router, m.sqs, m.replies_url)
    # Then no record failed, both replies are stored, and the hostile one is in the DLQ with its code
    assert (len(event["Records"]), response) == (3, {"batchItemFailures": []})
    assert [world.store.get(r.id) for r in requests] == [[answer] for answer in answers]
    assert_dead_lettered(case, drain(m.sqs, world.replies_dlq), body, group)


def _bodies(m: Messaging) -> list[str]:
    return [message["Body"] for message in drain(m.sqs, m.replies_url)]

