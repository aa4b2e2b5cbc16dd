"""What a chaos run reads back when it is over, through the AWS APIs and as a client does: the orders, invoices,
credit notes and confirmations in the services' tables, the replies (the reply store's query per request, and every
reply delivered to the reply queue), and every body left in a dead-letter queue; and, while it runs, every record a
queue hands to a function (:func:`record_deliveries`).

Example::

    record_deliveries(cloud.functions["orders"], history)  # before the pollers start
    state = final_state(dynamodb, sqs, outputs, history, DynamoDbReplyStore(outputs["ReplyTableName"]))
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chaos.check import FinalState, Reply, StoredOrder, order_tags
from chaos.history import History
from localcloud.awslambda.runtime import InvocationResult, LocalFunction
from messaging.reply_store import ReplyStore

DEAD_LETTER_QUEUES = (
    "OrdersCommandDeadLetterQueueUrl",
    "BillingDeadLetterQueueUrl",
    "NotificationsDeadLetterQueueUrl",
    "ReplyDeadLetterQueueUrl",
    "OrderSagasDeadLetterQueueUrl",
    "BillingCommandDeadLetterQueueUrl",
    "InventoryCommandDeadLetterQueueUrl",
)
"""The outputs naming the dead-letter queues the checker reads."""


def scan(dynamodb: Any, table: str) -> Iterator[dict[str, Any]]:
    """Every item of ``table`` (strongly consistent)."""
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def stored_orders(dynamodb: Any, outputs: dict[str, Any]) -> list[StoredOrder]:
    """The orders in the Orders table, each with the tags of the commands that created and cancelled it."""
    orders = []
    for item in scan(dynamodb, outputs["OrdersTableName"]):
        if not item["sk"]["S"].startswith("ORDER#"):
            continue
        create_tag, cancel_tag = order_tags(
            item.get("lines", {}).get("S", ""), item.get("cancel_reason", {}).get("S", "")
        )
        orders.append(
            StoredOrder(
                item["order_id"]["S"],
                item["pk"]["S"].removeprefix("CUSTOMER#"),
                create_tag,
                item["status"]["S"],
                cancel_tag,
            )
        )
    return orders


def final_state(dynamodb: Any, sqs: Any, outputs: dict[str, Any], history: History, replies: ReplyStore) -> FinalState:
    """The state the checker judges (the dead-letter queues are emptied as they are read)."""
    billing = [item["sk"]["S"] for item in scan(dynamodb, outputs["BillingTableName"])]
    notifications = [item["sk"]["S"] for item in scan(dynamodb, outputs["NotificationsTableName"])]
    # What a client reads: the reply store's query for each request it sent.
    read = {
        s.correlation_id: [Reply.of(r.source, r.id, r.data) for r in replies.get(s.correlation_id)]
        for s in history.sent
        if s.correlation_id is not None
    }
    delivered: dict[str, list[Reply]] = {}
    for delivery in history.deliveries:
        if delivery.queue_arn == outputs["ReplyQueueArn"]:
            parsed = Reply.parse(delivery.body)
            if parsed is not None:
                delivered.setdefault(parsed[0], []).append(parsed[1])
    dead_letters: list[str] = []
    for output in DEAD_LETTER_QUEUES:
        dead_letters.extend(all_bodies(sqs, outputs[output]))
    return FinalState(
        orders=stored_orders(dynamodb, outputs),
        invoices={sk.removeprefix("INVOICE#") for sk in billing if sk.startswith("INVOICE#")},
        credit_notes={sk.removeprefix("CREDIT_NOTE#") for sk in billing if sk.startswith("CREDIT_NOTE#")},
        notifications={sk.removeprefix("NOTIFICATION#") for sk in notifications},
        replies=read,
        dead_letters=dead_letters,
        delivered_replies=delivered,
    )


def record_deliveries(function: LocalFunction, history: History) -> None:
    """Record every SQS record the local cloud hands to ``function`` (its event source mapping's invocations)."""
    invoke = function.invoke

    def recording_invoke(
        event: Any, *, timeout: float | None = None, iterator_age_ms: float | None = None
    ) -> InvocationResult:
        if isinstance(event, dict):
            for record in event.get("Records", []):
                if isinstance(record, dict) and "messageId" in record:
                    history.record_delivery(
                        str(record.get("eventSourceARN", "")), str(record["messageId"]), str(record.get("body", ""))
                    )
        return invoke(event, timeout=timeout, iterator_age_ms=iterator_age_ms)

    function.invoke = recording_invoke  # type: ignore[method-assign]


def all_bodies(sqs: Any, queue_url: str) -> list[str]:
    """Every message body of a queue, taken out of it (the run is over; on FIFO a group's later messages are handed out
    only once its earlier ones are gone)."""
    bodies: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=600).get(
            "Messages", []
        )
        if not messages:
            return bodies
        bodies.extend(message["Body"] for message in messages)
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
        )
