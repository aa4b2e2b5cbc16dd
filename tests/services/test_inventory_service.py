"""Unit tests of the Inventory service (no network): stock per SKU, reservations all or nothing, releases once."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from inventory.models import SHARD_KEYS, ReleaseStock, ReserveStock, Restock
from inventory.service import InventoryService
from messaging.errors import CommandRejected
from messaging.state_items import InMemoryStateItems
from messaging.unit_of_work import DedupRecord, InMemoryCommitter, unit_of_work

pytestmark = pytest.mark.unit


class Inventory:
    """The service on an in-memory table, each call committed as one message would be."""

    def __init__(self) -> None:
        self.committer = InMemoryCommitter()
        self.service = InventoryService(InMemoryStateItems(self.committer, "inventory"))
        self.count = 0

    def run(self, call: Any, command: Any) -> Any:
        self.count += 1
        with unit_of_work() as work:
            result = call(command)
        record = DedupRecord(key=f"m-{self.count}", check="c", outcome="{}", expires_at=4102444800)
        assert self.committer.commit(work.writes, record).committed
        return result


def test_restock_starts_a_sku_and_adds_to_it() -> None:
    inventory = Inventory()
    assert inventory.run(inventory.service.restock, Restock(sku="pen", quantity=3))["available"] == 3
    assert inventory.run(inventory.service.restock, Restock(sku="pen", quantity=2))["available"] == 5
    assert inventory.service.available("pen") == 5 and inventory.service.available("ink") is None


def test_a_reservation_takes_every_line_or_nothing() -> None:
    # Given 5 pens and 1 ink
    inventory = Inventory()
    inventory.run(inventory.service.restock, Restock(sku="pen", quantity=5))
    inventory.run(inventory.service.restock, Restock(sku="ink", quantity=1))
    # When an order wants 2 pens and 2 inks, another an unknown SKU
    for lines in ([{"sku": "pen", "quantity": 2}, {"sku": "ink", "quantity": 2}], [{"sku": "nope", "quantity": 1}]):
        with pytest.raises(CommandRejected) as refused:
            inventory.run(inventory.service.reserve, ReserveStock(order_id="o-1", lines=lines))
        # Then each is refused out_of_stock and nothing was taken
        assert refused.value.code == "out_of_stock"
    assert (inventory.service.available("pen"), inventory.service.available("ink")) == (5, 1)


def test_a_release_gives_back_what_the_order_holds_once() -> None:
    # Given 5 pens of which an order reserved 2 (twice the same SKU in its lines)
    inventory = Inventory()
    inventory.run(inventory.service.restock, Restock(sku="pen", quantity=5))
    lines = [{"sku": "pen", "quantity": 1}, {"sku": "pen", "quantity": 1}]
    inventory.run(inventory.service.reserve, ReserveStock(order_id="o-1", lines=lines))
    assert inventory.service.available("pen") == 3
    # When it is released twice, and an order that reserved nothing is released
    first = inventory.run(inventory.service.release, ReleaseStock(order_id="o-1"))
    second = inventory.run(inventory.service.release, ReleaseStock(order_id="o-1"))
    none = inventory.run(inventory.service.release, ReleaseStock(order_id="o-2"))
    # Then the 2 came back once
    assert (first["released"], second["released"], none["released"]) == ({"pen": 2}, {}, {})
    assert inventory.service.available("pen") == 5


def test_every_declared_shard_key_is_a_required_field() -> None:
    assert SHARD_KEYS == {"inventory.Restock": "sku"}
    assert Restock.model_fields["sku"].is_required()


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (Restock, {"sku": "not a group id", "quantity": 1}),
        (Restock, {"sku": "pen", "quantity": 0}),
        (Restock, {"sku": "pen", "quantity": 1, "colour": "red"}),
        (ReserveStock, {"order_id": "o-1", "lines": []}),
    ],
)
def test_a_command_breaking_its_schema_is_refused(model: Any, data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(data)
