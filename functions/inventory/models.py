"""Message payloads of the Inventory service: stock per SKU, set by ``inventory.Restock`` and reserved for orders by
the order saga (``inventory.ReserveStock`` / ``inventory.ReleaseStock``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SKU = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
"""SKUs are the shard key of ``Restock`` (``partitionkey``), so they must also be valid FIFO group ids."""

SHARD_KEYS = {
    "inventory.Restock": "sku",
}
"""The ``data`` field each message type's ``partitionkey`` must equal. A SKU's restocks are one FIFO group; the
saga's reservations travel in the saga's group (its id) and meet a SKU's stock under optimistic concurrency."""


class Restock(BaseModel):
    """Command ``inventory.Restock`` (partitionkey = sku): add ``quantity`` to the SKU's stock; replies with the
    stock now available. A SKU never restocked has no stock."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    sku: str = Field(pattern=SKU)
    quantity: int = Field(gt=0, le=1_000_000)


class StockLine(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    sku: str = Field(pattern=SKU)
    quantity: int = Field(gt=0, le=1000)


class ReserveStock(BaseModel):
    """Command ``inventory.ReserveStock`` (partitionkey = the saga's id): take every line's quantity from stock for
    ``order_id``, all or nothing; refused ``out_of_stock`` when a SKU is unknown or short."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    order_id: str = Field(min_length=1, max_length=128)
    lines: list[StockLine] = Field(min_length=1, max_length=100)


class ReleaseStock(BaseModel):
    """Command ``inventory.ReleaseStock`` (partitionkey = the saga's id): give back what ``order_id`` reserved (no-op
    when nothing is reserved, so it can be sent whatever happened to the reservation)."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    order_id: str = Field(min_length=1, max_length=128)
