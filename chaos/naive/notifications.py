"""Baseline Notifications consumer (Powertools documentation pattern): one confirmation per created order."""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from chaos.naive.common import handler
from orders.models import OrderCreated

STATE_TABLE = os.environ["STATE_TABLE_NAME"]
dynamodb = boto3.client("dynamodb")
persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE_NAME"])


def process(message: dict[str, Any]) -> None:
    if message.get("type") != "orders.OrderCreated":
        raise ValueError(f"unknown message type {message.get('type')!r}")
    event = OrderCreated.model_validate(message["data"])
    dynamodb.put_item(
        TableName=STATE_TABLE,
        Item={
            "pk": {"S": f"CUSTOMER#{event.customer_id}"},
            "sk": {"S": f"NOTIFICATION#{event.order_id}"},
            "channel": {"S": "email"},
            "text": {"S": f"Thank you! Order {event.order_id} is confirmed: {event.total} {event.currency}."},
        },
    )


lambda_handler = handler(process, persistence)
