"""Message payloads of the Orders service (the ``data`` of its commands and events)."""

from __future__ import annotations

from decimal import Decimal

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
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=1000)
    unit_price: Decimal = Field(ge=0, max_digits=12, decimal_places=2)


class CreateOrder(BaseModel):
    """``orders.CreateOrder`` (command, partitionkey = customer_id): place an order; replies with the new order id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customer_id: str = Field(pattern=CUSTOMER_ID)
    lines: list[OrderLine] = Field(min_length=1, max_length=100)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")


class CancelOrder(BaseModel):
    """``orders.CancelOrder`` (command, partitionkey = customer_id): cancel an open order of that customer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customer_id: str = Field(pattern=CUSTOMER_ID)
    order_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=500)


class OrderCreated(BaseModel):
    """``orders.OrderCreated`` (event, partitionkey = customer_id)."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    customer_id: str
    total: Decimal
    currency: str
    lines: list[OrderLine]


class OrderCancelled(BaseModel):
    """``orders.OrderCancelled`` (event, partitionkey = customer_id)."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    customer_id: str
    total: Decimal
    currency: str
    reason: str = ""
