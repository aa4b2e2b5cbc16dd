"""Baseline Orders consumer (Powertools documentation pattern): write the order, publish the event, send the reply."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from chaos.naive.common import cloud_event, handler, publish, reply
from orders.models import CancelOrder, CreateOrder

SOURCE = "/orders"
TOPIC = os.environ["EVENT_TOPIC_ARN"]
STATE_TABLE = os.environ["STATE_TABLE_NAME"]
dynamodb = boto3.client("dynamodb")
sns = boto3.client("sns")
sqs = boto3.client("sqs")
persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE_NAME"])


def _summary(order_id: str, customer_id: str, status: str, total: str, currency: str) -> dict[str, Any]:
    return {"order_id": order_id, "customer_id": customer_id, "status": status, "total": total, "currency": currency}


def create(message: dict[str, Any]) -> dict[str, Any]:
    command = CreateOrder.model_validate(message["data"])
    order_id = f"o-{uuid.uuid4().hex[:12]}"
    total = str(sum((line.unit_price * line.quantity for line in command.lines), Decimal("0.00")))
    lines = [line.model_dump(mode="json") for line in command.lines]
    dynamodb.put_item(
        TableName=STATE_TABLE,
        Item={
            "pk": {"S": f"CUSTOMER#{command.customer_id}"},
            "sk": {"S": f"ORDER#{order_id}"},
            "order_id": {"S": order_id},
            "customer_id": {"S": command.customer_id},
            "status": {"S": "open"},
            "currency": {"S": command.currency},
            "total": {"S": total},
            "lines": {"S": json.dumps(lines)},
            "created_at": {"S": datetime.now(UTC).isoformat()},
        },
    )
    summary = _summary(order_id, command.customer_id, "open", total, command.currency)
    publish(
        sns,
        TOPIC,
        cloud_event("orders.OrderCreated", SOURCE,
                    {**summary, "lines": lines, "item_count": sum(line.quantity for line in command.lines)},
                    command.customer_id, kind="event"),  # version 2 of OrderCreated: item_count is required
    )
    outcome = {"outcome": "success", "result": summary}
    reply(sqs, message, SOURCE, outcome)
    return outcome


def cancel(message: dict[str, Any]) -> dict[str, Any]:
    command = CancelOrder.model_validate(message["data"])
    key = {"pk": {"S": f"CUSTOMER#{command.customer_id}"}, "sk": {"S": f"ORDER#{command.order_id}"}}
    item = dynamodb.get_item(TableName=STATE_TABLE, Key=key, ConsistentRead=True).get("Item")
    if item is None or item["status"]["S"] == "cancelled":
        code = "order_not_found" if item is None else "order_already_cancelled"
        outcome = {"outcome": "failure", "error": {"code": code, "message": code}}
        reply(sqs, message, SOURCE, outcome)
        return outcome
    dynamodb.update_item(
        TableName=STATE_TABLE,
        Key=key,
        UpdateExpression="SET #status = :status, cancel_reason = :reason",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":status": {"S": "cancelled"}, ":reason": {"S": command.reason}},
    )
    summary = _summary(command.order_id, command.customer_id, "cancelled", item["total"]["S"], item["currency"]["S"])
    event = cloud_event(
        "orders.OrderCancelled", SOURCE, {**summary, "reason": command.reason}, command.customer_id, kind="event"
    )
    publish(sns, TOPIC, event)
    outcome = {"outcome": "success", "result": summary}
    reply(sqs, message, SOURCE, outcome)
    return outcome


def process(message: dict[str, Any]) -> dict[str, Any]:
    if message.get("type") == "orders.CreateOrder":
        return create(message)
    if message.get("type") == "orders.CancelOrder":
        return cancel(message)
    raise ValueError(f"unknown message type {message.get('type')!r}")


lambda_handler = handler(process, persistence)
