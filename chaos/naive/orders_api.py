"""Baseline orders HTTP API without an outbox (``make chaos ARGS="--producer naive"``): save, then publish.

The dual write as a team writes it first: the request record is saved (a conditional put, so a retried request with
the same ``Idempotency-Key`` finds it and answers 202 again), then the CreateOrder is sent to the orders queue. A
crash, a timeout or a throttle between the two loses the command: the retry finds the record and sends nothing.
``GET`` is the product's (it only reads).
"""

from __future__ import annotations

import os
from typing import Any

import boto3

from messaging.channels import QueueSender
from messaging.envelope import command
from orders.models import CreateOrder
from orders_api import handler as product
from orders_api.http import HttpRequest, Problem, response
from orders_api.service import REQUEST_TTL_SECONDS, command_id, fingerprint, location_of

dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")


def create_order(request: HttpRequest) -> dict[str, Any]:
    key = request.headers.get("idempotency-key", "")
    if not key:
        raise Problem(400, "missing-idempotency-key", "Idempotency-Key required", "send an Idempotency-Key header")
    order = CreateOrder.model_validate(request.json_body())
    request_id = command_id(request.caller, key)
    body = {"id": request_id, "status": "pending", "customer_id": order.customer_id,
            "location": location_of(request_id)}
    try:
        dynamodb.put_item(
            TableName=os.environ["STATE_TABLE_NAME"],
            Item={"pk": {"S": f"REQUEST#{request_id}"}, "sk": {"S": "REQUEST"},
                  "fingerprint": {"S": fingerprint(order)}, "customer_id": {"S": order.customer_id},
                  "expires_at": {"N": "4102444800"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return response(202, body, headers={"location": location_of(request_id)})  # already saved: "already sent"
    dynamodb.put_item(TableName=os.environ["REPLY_TABLE_NAME"], Item={
        "correlationid": {"S": request_id}, "replyid": {"S": "#request"}, "stored_at": {"N": "0"},
        "expires_at": {"N": str(4102444800 + REQUEST_TTL_SECONDS)}})
    QueueSender(os.environ["ORDERS_COMMAND_QUEUE_URL"], client=sqs).send(command(
        "orders.CreateOrder", order.model_dump(mode="json"), source="/orders/api", partitionkey=order.customer_id,
        replyto=os.environ["REPLY_QUEUE_URL"], id=request_id))
    return response(202, body, headers={"location": location_of(request_id)})


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = HttpRequest.from_event(event)
    if request.route_key == "POST /orders":
        try:
            return create_order(request)
        except Problem as problem:
            return problem.response(request)
    return product.lambda_handler(event, context)
