"""Baseline Billing consumer (Powertools documentation pattern): one ledger entry per order event."""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from chaos.naive.common import handler
from orders.models import OrderCancelled, OrderCreated

STATE_TABLE = os.environ["STATE_TABLE_NAME"]
dynamodb = boto3.client("dynamodb")
persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE_NAME"])


def process(message: dict[str, Any]) -> None:
    if message.get("type") == "orders.OrderCreated":
        event: OrderCreated | OrderCancelled = OrderCreated.model_validate(message["data"])
        kind, amount = "invoice", event.total
    elif message.get("type") == "orders.OrderCancelled":
        event = OrderCancelled.model_validate(message["data"])
        kind, amount = "credit_note", -event.total
    else:
        raise ValueError(f"unknown message type {message.get('type')!r}")
    dynamodb.put_item(
        TableName=STATE_TABLE,
        Item={
            "pk": {"S": f"CUSTOMER#{event.customer_id}"},
            "sk": {"S": f"{kind.upper()}#{event.order_id}"},
            "order_id": {"S": event.order_id},
            "kind": {"S": kind},
            "amount": {"N": str(amount)},
            "currency": {"S": event.currency},
        },
    )


lambda_handler = handler(process, persistence)
