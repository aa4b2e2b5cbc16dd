"""Failures end to end through the local cloud: the hostile-input corpus, a bounded redrive of still-invalid dead
letters, and the claim check carrying a 400 KiB document through S3."""

from __future__ import annotations

import json
from typing import Any

import pytest

from billing.service import content_digest
from cli import queues as q
from cli.endpoints import QueueEndpoint
from demo.run import System, order_data
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Kind, event
from tests.support.hostile import load_corpus

pytestmark = pytest.mark.e2e
codec = CloudEventJsonCodec()


def _mine(messages: list[dict[str, Any]], groups: set[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        if message["Attributes"]["MessageGroupId"] in groups:
            found.setdefault(message["Attributes"]["MessageGroupId"], []).append(message)
    return found


def _code(message: dict[str, Any]) -> str:
    return str(message["MessageAttributes"]["failure-code"]["StringValue"])


def test_every_hostile_class_is_dead_lettered_with_its_code_and_blocks_nothing(system: System, customer: str) -> None:
    # Given every class of the corpus, each first in a group of its own with a valid CreateOrder behind it
    cases = load_corpus()
    replies_url, bucket = system.outputs["ReplyQueueUrl"], system.outputs["ClaimCheckBucketName"]
    groups, valid = {}, {}
    for n, case in enumerate(cases):
        group = f"{customer}-h{n}"
        groups[group] = case
        body = case.body(group, replies_url=replies_url, bucket=bucket)
        target = system.orders_queue if case.target == "commands" else replies_url
        system.sqs.send_message(
            QueueUrl=target, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=f"{group}-poison"
        )
        if case.target == "commands":
            valid[group] = system.client.send(system.orders_queue, "orders.CreateOrder", order_data(group))
    # When the system has processed everything
    system.drain()
    # Then each hostile message is in its DLQ with its code, alone in its group
    dead = _mine(system.dead_letters("OrdersCommandDeadLetterQueueUrl"), set(groups))
    dead |= _mine(system.dead_letters("ReplyDeadLetterQueueUrl"), set(groups))
    codes = {groups[g].name: [_code(m) for m in messages] for g, messages in dead.items()}
    assert codes == {case.name: [case.code] for case in cases}
    # And every valid command behind one was applied (one order each) and answered with success
    for group, correlation_id in valid.items():
        assert len(system.orders(group)) == 1, groups[group].name
        reply = system.client.get_reply(correlation_id)
        assert reply is not None and reply.outcome.ok, groups[group].name
    # And the hostile commands that could be answered were, with their code
    for group, case in groups.items():
        if case.answered:
            poison_id = json.loads(dead[group][0]["Body"])["id"]
            [reply] = system.client.get_replies(poison_id)
            assert reply.outcome.error_code == case.code, case.name


def test_a_redrive_of_still_invalid_dead_letters_is_bounded_and_keeps_identities(
    system: System, customer: str
) -> None:
    # Given 15 invalid OrderCreated events dead-lettered by billing, in three groups
    billing = QueueEndpoint("Billing", system.outputs["BillingQueueUrl"], system.outputs["BillingDeadLetterQueueUrl"])
    groups = [f"{customer}-r{n}" for n in range(3)]
    for n in range(15):
        invalid = event("orders.OrderCreated", {"order_id": f"o-{n}"}, source="/tests", partitionkey=groups[n % 3])
        system.sqs.send_message(
            QueueUrl=billing.url, MessageBody=codec.encode(invalid), MessageGroupId=groups[n % 3],
            MessageDeduplicationId=invalid.id,
        )
    # And a valid OrderCreated that billing applied, whose copy also sits in the DLQ (dead-lettered earlier)
    created = event(
        "orders.OrderCreated",
        {"order_id": "o-ok", "customer_id": customer, "total": "5.00", "currency": "EUR", "lines": []},
        source="/orders",
        partitionkey=customer,
    )
    system.sqs.send_message(
        QueueUrl=billing.url, MessageBody=codec.encode(created), MessageGroupId=customer, MessageDeduplicationId="ok"
    )
    system.drain()
    system.sqs.send_message(
        QueueUrl=billing.dead_letter_url, MessageBody=codec.encode(created), MessageGroupId=customer,
        MessageDeduplicationId="ok-dead",
    )
    before = system.dead_letters("BillingDeadLetterQueueUrl")
    assert len(before) == 16
    # When the DLQ is redriven while billing consumes, and the system settles
    result = q.redrive(system.sqs, billing)
    system.drain()
    # Then the 16 present at the start moved once each; the 15 still invalid are back, not more
    assert (result.moved, result.budget, result.failed) == (16, 16, [])
    after = system.dead_letters("BillingDeadLetterQueueUrl")
    assert len(after) == 15
    assert {_code(m) for m in after} == {"invalid_payload"}
    assert sorted(m["Body"] for m in after) == sorted(m["Body"] for m in before if "o-ok" not in m["Body"])
    # And the already-applied event kept its identity: billing saw a duplicate, there is still one invoice
    invoices = [i for i in system.items("BillingTableName", customer) if i["sk"]["S"].startswith("INVOICE#")]
    assert len(invoices) == 1
    # And a second run does the same again, it does not loop
    again = q.redrive(system.sqs, billing)
    system.drain()
    assert (again.moved, len(system.dead_letters("BillingDeadLetterQueueUrl"))) == (15, 15)
    q.redrive(system.sqs, billing, dry_run=True)  # leaves them in place
    assert len(system.dead_letters("BillingDeadLetterQueueUrl")) == 15
    _purge(system, billing.dead_letter_url or "")


def _purge(system: System, url: str) -> None:
    while batch := system.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            system.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_a_400_kib_document_arrives_intact_at_its_consumer_through_the_claim_check(system: System) -> None:
    # Given a settlement report of about 400 KiB, over the 256 KiB channel limit
    settlements = [
        {"order_id": f"order-{n:06d}", "customer_id": f"customer-{n % 97}", "amount": f"{n % 1000}.{n % 100:02d}",
         "currency": "EUR" if n % 3 else "USD"}
        for n in range(4_400)
    ]
    report = {"provider": "acme-pay", "report_id": "2026-11-30", "settlements": settlements}
    assert len(json.dumps(report)) > 400 * 1024
    # When the client sends it to billing as a document (partitionkey from its declared shard key, the provider)
    billing = system.outputs["BillingQueueUrl"]
    sent = system.client.notify(billing, "billing.SettlementReport", report, kind=Kind.DOCUMENT)
    system.drain()
    # Then the message travelled with a dataref to the claim-check bucket, not with its data
    assert sent.data is None and sent.partitionkey == "acme-pay"
    assert (sent.dataref or "").startswith(f"s3://{system.outputs['ClaimCheckBucketName']}/claims/")
    # And billing received the whole document: same digest, every settlement counted
    [receipt] = system.dynamodb.query(
        TableName=system.outputs["BillingTableName"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "PROVIDER#acme-pay"}},
        ConsistentRead=True,
    )["Items"]
    assert receipt["sk"]["S"] == "REPORT#2026-11-30"
    assert receipt["sha256"]["S"] == content_digest(report)
    assert receipt["settlements"]["N"] == "4400"
