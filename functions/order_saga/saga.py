"""The order saga, declared: reserve credit (undo: release it), reserve stock (undo: release it), 30 s deadline.

``orders.PlaceOrder`` has the data of ``orders.CreateOrder`` (sharded by customer); the saga's id - and the order's -
is the PlaceOrder's id. Answers: ``{"status": "approved", "order_id": ...}``, or ``{"status": "rejected", "step":
"credit" | "stock", "code": "credit_limit_exceeded" | "out_of_stock" | "timeout"}``.

Example:
    >>> [step.name for step in PLACE_ORDER.steps], PLACE_ORDER.deadline.total_seconds()
    (['credit', 'stock'], 30.0)
    >>> credit_data({"saga_id": "s-1", "customer_id": "c-1", "lines": [{"sku": "pen", "quantity": 2,
    ...              "unit_price": "1.50"}]})
    {'customer_id': 'c-1', 'order_id': 's-1', 'amount': '3.00'}
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from messaging.saga import SagaDefinition, Step
from order_saga.models import PlaceOrder

__all__ = ["DEADLINE", "PLACE_ORDER", "PlaceOrder"]

DEADLINE = timedelta(seconds=30)


def credit_data(data: Any) -> dict[str, Any]:
    total = sum((Decimal(str(line["unit_price"])) * int(line["quantity"]) for line in data["lines"]), Decimal(0))
    amount = str(total.quantize(Decimal("0.01")))
    return {"customer_id": data["customer_id"], "order_id": data["saga_id"], "amount": amount}


def release_credit_data(data: Any) -> dict[str, Any]:
    return {"customer_id": data["customer_id"], "order_id": data["saga_id"]}


def stock_data(data: Any) -> dict[str, Any]:
    lines = [{"sku": line["sku"], "quantity": line["quantity"]} for line in data["lines"]]
    return {"order_id": data["saga_id"], "lines": lines}


def release_stock_data(data: Any) -> dict[str, Any]:
    return {"order_id": data["saga_id"]}


def approved(data: Any) -> dict[str, Any]:
    return {"status": "approved", "order_id": data["saga_id"]}


PLACE_ORDER = SagaDefinition(
    "orders.PlaceOrder",
    steps=(
        Step("credit", "billing.ReserveCredit", queue="BILLING_COMMAND_QUEUE_URL",
             compensation="billing.ReleaseCredit", data=credit_data, compensation_data=release_credit_data),
        Step("stock", "inventory.ReserveStock", queue="INVENTORY_COMMAND_QUEUE_URL",
             compensation="inventory.ReleaseStock", data=stock_data, compensation_data=release_stock_data),
    ),
    deadline=DEADLINE,
    approved=approved,
    model=PlaceOrder,
)
