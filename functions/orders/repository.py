"""Adapters of :class:`orders.service.OrderRepository`: DynamoDB (the state table) and in-memory.

Table layout (``STATE_TABLE_NAME``): ``pk = CUSTOMER#<customer_id>``, ``sk = ORDER#<order_id>``; money as strings.
Reads go to the table; writes are staged into the unit of work of the message being handled
(:mod:`messaging.unit_of_work`) and committed by the consumer together with the message's dedup record.
"""

from __future__ import annotations

import json
from typing import Any

from messaging import unit_of_work
from messaging.aws import DynamoDbTableAdapter
from orders.models import OrderLine
from orders.service import Order


def _keys(customer_id: str, order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CUSTOMER#{customer_id}"}, "sk": {"S": f"ORDER#{order_id}"}}


def _to_item(order: Order) -> dict[str, Any]:
    lines = [line.model_dump(mode="json") for line in order.lines]
    return {
        **_keys(order.customer_id, order.order_id),
        "order_id": {"S": order.order_id},
        "customer_id": {"S": order.customer_id},
        "status": {"S": order.status},
        "currency": {"S": order.currency},
        "total": {"S": str(order.total)},
        "lines": {"S": json.dumps(lines)},
        "created_at": {"S": order.created_at},
        "cancel_reason": {"S": order.cancel_reason},
    }


def _from_item(item: dict[str, Any]) -> Order:
    return Order(
        order_id=item["order_id"]["S"],
        customer_id=item["customer_id"]["S"],
        lines=tuple(OrderLine.model_validate(line) for line in json.loads(item["lines"]["S"])),
        currency=item["currency"]["S"],
        status=item["status"]["S"],
        created_at=item["created_at"]["S"],
        cancel_reason=item.get("cancel_reason", {}).get("S", ""),
    )


class DynamoDbOrderRepository(DynamoDbTableAdapter):
    """Orders in the service's DynamoDB state table; the client is created on first use unless injected."""

    def add(self, order: Order) -> None:
        """Stage a new order. Order ids are derived from the command message, so the key is the same on every
        delivery and the message's dedup record rides on this item (one conditional write)."""
        unit_of_work.current().create(self.table_name, _to_item(order), keyed_by_message=True)

    def get(self, customer_id: str, order_id: str) -> Order | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=_keys(customer_id, order_id), ConsistentRead=True
        )
        item = response.get("Item")
        return _from_item(item) if item else None

    def replace(self, order: Order, *, previous: Order) -> None:
        """Stage the changed status and cancel reason, on condition that the stored order still has the status read."""
        unit_of_work.current().update(
            self.table_name,
            _keys(order.customer_id, order.order_id),
            {"status": {"S": order.status}, "cancel_reason": {"S": order.cancel_reason}},
            expected={"status": {"S": previous.status}},
        )

    def list_for_customer(self, customer_id: str) -> list[Order]:
        response = self.client.query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :order)",
            ExpressionAttributeValues={":pk": {"S": f"CUSTOMER#{customer_id}"}, ":order": {"S": "ORDER#"}},
            ConsistentRead=True,
        )
        return [_from_item(item) for item in response.get("Items", [])]


class InMemoryOrderRepository:
    """Orders in a dict, for unit tests."""

    def __init__(self) -> None:
        self.orders: dict[tuple[str, str], Order] = {}

    def add(self, order: Order) -> None:
        self.orders[(order.customer_id, order.order_id)] = order

    def get(self, customer_id: str, order_id: str) -> Order | None:
        return self.orders.get((customer_id, order_id))

    def replace(self, order: Order, *, previous: Order) -> None:
        if self.orders.get((order.customer_id, order.order_id)) != previous:
            raise ValueError(f"order {order.order_id} changed since it was read")
        self.orders[(order.customer_id, order.order_id)] = order
