"""Message contracts through the local cloud: tolerant readers at billing and notifications, an OrderCreated of data
version 1 still in the queues read through its upcaster, a newer major version dead-lettered."""

from __future__ import annotations

from typing import Any

import pytest

from demo.run import System
from messaging.codec import CloudEventJsonCodec
from messaging.contracts import dataschema_for
from messaging.envelope import Envelope, event

pytestmark = pytest.mark.e2e
codec = CloudEventJsonCodec()
SUBSCRIBERS = (
    ("BillingQueueUrl", "BillingDeadLetterQueueUrl"),
    ("NotificationsQueueUrl", "NotificationsDeadLetterQueueUrl"),
)


def order_created_data(customer: str, order_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer_id": customer,
        "total": "25.00",
        "currency": "EUR",
        "lines": [{"sku": "book", "quantity": 2, "unit_price": "12.50"}],
        **extra,
    }


def applied(system: System, customer: str, order_id: str) -> tuple[bool, bool]:
    """(billing invoiced the order, notifications confirmed it)."""
    invoices = [i["sk"]["S"] for i in system.items("BillingTableName", customer)]
    notices = [i["sk"]["S"] for i in system.items("NotificationsTableName", customer)]
    return f"INVOICE#{order_id}" in invoices, f"NOTIFICATION#{order_id}" in notices


def send_to_subscribers(system: System, envelope: Envelope) -> None:
    """Put a message into both subscriber queues, as the topic delivered it (raw message delivery)."""
    for queue, _ in SUBSCRIBERS:
        system.sqs.send_message(
            QueueUrl=system.outputs[queue],
            MessageBody=codec.encode(envelope),
            MessageGroupId=envelope.partitionkey or "",
            MessageDeduplicationId=envelope.id,
        )


def dead_letters_of(system: System, customer: str) -> list[dict[str, Any]]:
    return [m for _, dlq in SUBSCRIBERS for m in system.dead_letters(dlq) if customer in m["Body"]]


def test_an_order_created_with_unknown_fields_in_data_and_in_a_line_is_processed(system: System, customer: str) -> None:
    # Given an OrderCreated (data version 2) whose data and first line carry fields no subscriber knows
    data = order_created_data(customer, "o-extra", item_count=2, campaign="winter")
    data["lines"][0]["discount"] = "1.00"
    # When it is published to the order-events topic
    system.client.publish(system.outputs["OrderEventsTopicArn"], "orders.OrderCreated", data, partitionkey=customer)
    system.drain()
    # Then billing invoiced it and notifications confirmed it, and no DLQ holds it
    assert applied(system, customer, "o-extra") == (True, True)
    assert dead_letters_of(system, customer) == []


def test_a_v1_order_created_still_in_the_queues_is_processed_through_the_upcaster(
    system: System, customer: str
) -> None:
    # Given an OrderCreated as the version 1 producer sent it (no dataschema, no item_count), waiting in both
    # subscriber queues when the version 2 consumers are deployed
    v1 = event("orders.OrderCreated", order_created_data(customer, "o-v1"), source="/orders", partitionkey=customer)
    assert v1.dataschema is None and "item_count" not in (v1.data or {})
    send_to_subscribers(system, v1)
    # When the consumers process their queues
    system.drain()
    # Then both applied it
    assert applied(system, customer, "o-v1") == (True, True)
    assert dead_letters_of(system, customer) == []


def test_an_order_created_of_a_newer_major_version_is_dead_lettered(system: System, customer: str) -> None:
    # Given an OrderCreated of data version 3.0 (the consumers read 2.x)
    v3 = event("orders.OrderCreated", order_created_data(customer, "o-v3", item_count=2), source="/orders",
               partitionkey=customer)
    v3 = Envelope(**{**{n: getattr(v3, n) for n in Envelope.__slots__},
                     "dataschema": dataschema_for("orders.OrderCreated", "3.0")})
    send_to_subscribers(system, v3)
    # When the consumers process it
    system.drain()
    # Then neither applied it, and both dead-lettered it as unsupported_data_version
    assert applied(system, customer, "o-v3") == (False, False)
    dead = dead_letters_of(system, customer)
    assert len(dead) == 2
    assert {m["MessageAttributes"]["failure-code"]["StringValue"] for m in dead} == {"unsupported_data_version"}
    for _, dlq in SUBSCRIBERS:
        _purge(system, system.outputs[dlq], customer)
    assert dead_letters_of(system, customer) == []


def test_the_orders_service_emits_order_created_version_2(system: System, customer: str) -> None:
    # Given a CreateOrder of two items
    reply = system.client.request(
        system.outputs["OrdersCommandQueueUrl"],
        "orders.CreateOrder",
        {"customer_id": customer, "lines": [{"sku": "book", "quantity": 2, "unit_price": "12.50"}]},
        timeout=15,
    )
    order_id = reply.outcome.result["order_id"]  # type: ignore[index]
    system.drain()
    # Then billing and notifications applied the version 2 event the orders service emitted
    assert applied(system, customer, order_id) == (True, True)


def _purge(system: System, url: str, customer: str) -> None:
    """Delete this test's dead letters, leave every other message visible (other tests count theirs)."""
    held: list[dict[str, Any]] = []
    while batch := system.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get(
        "Messages", []
    ):
        held.extend(batch)
    for message in held:
        if customer in message["Body"]:
            system.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        else:
            system.sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
