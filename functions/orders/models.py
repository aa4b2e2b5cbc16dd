"""Message payloads of the Orders service (the ``data`` of its commands and events)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CUSTOMER_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
"""Customer ids are the shard key (``partitionkey``), so they must also be valid FIFO group ids."""

SHARD_KEYS = {
    "orders.CreateOrder": "customer_id",
    "orders.PlaceOrder": "customer_id",
    "orders.CancelOrder": "customer_id",
    "orders.OrderCreated": "customer_id",
    "orders.OrderCancelled": "customer_id",
}
"""The ``data`` field each message type's ``partitionkey`` must equal: every message of a customer is in one FIFO
message group, so a customer's orders are processed one at a time, in order."""


class OrderLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=1000)
    unit_price: Decimal = Field(ge=0, max_digits=12, decimal_places=2)


class CreateOrder(BaseModel):
    """``orders.CreateOrder`` (command, partitionkey = customer_id): place an order; replies with the new order id."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    customer_id: str = Field(pattern=CUSTOMER_ID)
    lines: list[OrderLine] = Field(min_length=1, max_length=100)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")


class CancelOrder(BaseModel):
    """``orders.CancelOrder`` (command, partitionkey = customer_id): cancel an open order of that customer."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    customer_id: str = Field(pattern=CUSTOMER_ID)
    order_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=500)


class OrderCreated(BaseModel):
    """``orders.OrderCreated`` (event, partitionkey = customer_id), data version 2: an order was placed.

    Version 2 added ``item_count`` (required); version 1 data is read through :func:`order_created_v1_to_v2`.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    order_id: str
    customer_id: str
    total: Decimal
    currency: str
    lines: list[OrderLine]
    item_count: int = Field(ge=0, description="number of items ordered: the sum of the lines' quantities")


ORDER_CREATED_VERSION = "2.0"


def order_created_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Upcaster of ``orders.OrderCreated`` data from version 1 to 2: ``item_count`` is the sum of the lines'
    quantities (a pure function; data that is not version 1 raises and is dead-lettered as ``invalid_payload``).

    Example:
        >>> order_created_v1_to_v2({"order_id": "o-1", "lines": [{"quantity": 2}, {"quantity": 1}]})["item_count"]
        3
    """
    quantities = [line["quantity"] for line in data["lines"]]
    if not all(isinstance(quantity, int) and not isinstance(quantity, bool) for quantity in quantities):
        raise TypeError("a line's quantity is not an integer")
    return {**data, "item_count": sum(quantities)}


class OrderCancelled(BaseModel):
    """``orders.OrderCancelled`` (event, partitionkey = customer_id)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    order_id: str
    customer_id: str
    total: Decimal
    currency: str
    reason: str = ""
