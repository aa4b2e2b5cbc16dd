"""The Inventory service's logic: stock per SKU, reservations per order (all lines or none), releases.

State (``STATE_TABLE_NAME``): ``pk = SKU#<sku>, sk = STOCK`` with ``available``; ``pk = RESERVATION#<order id>,
sk = STOCK`` with the lines and ``status`` (``reserved`` / ``released``). Writes are staged into the unit of work
with the values read as their condition, so two reservations of one SKU in different message groups never both take
the last unit: the loser is retried on the new stock (:mod:`messaging.state_items`).

Example:
    >>> from messaging.state_items import InMemoryStateItems
    >>> from messaging.unit_of_work import InMemoryCommitter
    >>> service = InventoryService(InMemoryStateItems(InMemoryCommitter(), "inventory"))
    >>> service.available("pen") is None
    True
"""

from __future__ import annotations

import json
from typing import Any

from inventory.models import ReleaseStock, ReserveStock, Restock
from messaging.errors import CommandRejected
from messaging.state_items import StateItems

OUT_OF_STOCK = "out_of_stock"


def _stock_key(sku: str) -> dict[str, Any]:
    return {"pk": {"S": f"SKU#{sku}"}, "sk": {"S": "STOCK"}}


def _reservation_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"RESERVATION#{order_id}"}, "sk": {"S": "STOCK"}}


class InventoryService:
    """Restock, reserve and release (see the module docstring)."""

    def __init__(self, items: StateItems) -> None:
        self._items = items

    def available(self, sku: str) -> int | None:
        """The SKU's available stock, None when it was never restocked."""
        item = self._items.get(_stock_key(sku))
        return int(item["available"]["N"]) if item else None

    def restock(self, command: Restock) -> dict[str, Any]:
        items = self._items
        current = self.available(command.sku)
        if current is None:
            items.create({**_stock_key(command.sku), "available": {"N": str(command.quantity)}})
            return {"sku": command.sku, "available": command.quantity}
        total = current + command.quantity
        items.update(_stock_key(command.sku), {"available": {"N": str(total)}},
                     expected={"available": {"N": str(current)}})
        return {"sku": command.sku, "available": total}

    def reserve(self, command: ReserveStock) -> dict[str, Any]:
        """Take the lines from stock for the order; :class:`CommandRejected` ``out_of_stock`` if any is short."""
        items = self._items
        wanted: dict[str, int] = {}
        for line in command.lines:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
        for sku, quantity in sorted(wanted.items()):
            current = self.available(sku)
            if current is None or current < quantity:
                raise CommandRejected(OUT_OF_STOCK, f"{sku}: {current or 0} available, {quantity} wanted")
            items.update(_stock_key(sku), {"available": {"N": str(current - quantity)}},
                         expected={"available": {"N": str(current)}})
        items.create({**_reservation_key(command.order_id), "status": {"S": "reserved"},
                      "lines": {"S": json.dumps(wanted, sort_keys=True)}})
        return {"order_id": command.order_id, "reserved": wanted}

    def release(self, command: ReleaseStock) -> dict[str, Any]:
        """Give back what the order reserved (nothing if it reserved nothing or was released already)."""
        items = self._items
        reservation = self._items.get(_reservation_key(command.order_id))
        if reservation is None or reservation["status"]["S"] != "reserved":
            return {"order_id": command.order_id, "released": {}}
        lines: dict[str, int] = json.loads(reservation["lines"]["S"])
        for sku, quantity in sorted(lines.items()):
            current = self.available(sku) or 0
            items.update(_stock_key(sku), {"available": {"N": str(current + quantity)}},
                         expected={"available": {"N": str(current)}})
        items.update(_reservation_key(command.order_id), {"status": {"S": "released"}},
                     expected={"status": {"S": "reserved"}})
        return {"order_id": command.order_id, "released": lines}
