"""The state-items port (messaging.state_items), one contract suite on two backends: the in-memory committer's table
and DynamoDB on moto with the real committer. Billing's credit, Inventory's stock and the saga repository keep their
items through it.

The contract: a read sees what was committed; a new item's key cannot be taken twice; an update commits only while
the item still holds the values it was read with, else the commit raises ConcurrentWriteConflict, nothing is written,
and the retried message reads the new values and decides again (optimistic concurrency)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from billing.credit import CreditService
from billing.models import ReserveCredit, SetCreditLimit
from inventory.models import ReserveStock, Restock, StockLine
from inventory.service import InventoryService
from messaging.errors import CommandRejected, ConcurrentWriteConflict, StateConflict
from messaging.state_items import DynamoDbStateItems, InMemoryStateItems, StateItems
from messaging.unit_of_work import Committer, DedupRecord, DynamoDbCommitter, InMemoryCommitter, unit_of_work
from tests.support.aws import AWS_ENV, create_idempotency_table, create_state_table

pytestmark = pytest.mark.integration

TABLE = "state"
KEY = {"pk": {"S": "SKU#pen"}, "sk": {"S": "STOCK"}}


@dataclass
class Backend:
    committer: Committer
    items: Callable[[], StateItems]
    """A new adapter over the one table (each message handler has its own)."""


@pytest.fixture(params=["in-memory", "dynamodb-on-moto"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    if request.param == "in-memory":
        memory = InMemoryCommitter()
        yield Backend(memory, lambda: InMemoryStateItems(memory, TABLE))
        return
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_state_table(dynamodb, TABLE)
        create_idempotency_table(dynamodb, "dedup")
        yield Backend(DynamoDbCommitter("dedup", dynamodb), lambda: DynamoDbStateItems(TABLE, dynamodb))


def commit(backend: Backend, stage: Callable[[], object]) -> None:
    """Run ``stage`` in a unit of work and commit what it staged, as the consumer does for one message."""
    with unit_of_work() as work:
        stage()
        record = DedupRecord(key=uuid.uuid4().hex, check="c", outcome="{}", expires_at=2_000_000_000)
        backend.committer.commit(work.writes, record)


def test_a_read_sees_what_was_committed(backend: Backend) -> None:
    # Given no item, Then a read finds none
    items = backend.items()
    assert items.get(KEY) is None
    # When one is created and committed, Then a read returns it
    commit(backend, lambda: items.create({**KEY, "available": {"N": "3"}}))
    assert items.get(KEY) == {**KEY, "available": {"N": "3"}}


def test_a_taken_key_cannot_be_created_again(backend: Backend) -> None:
    # Given a committed item
    items = backend.items()
    commit(backend, lambda: items.create({**KEY, "available": {"N": "3"}}))
    # When another message creates an item with the same key, Then its commit fails and the first item stays
    with pytest.raises(StateConflict):
        commit(backend, lambda: items.create({**KEY, "available": {"N": "9"}}))
    assert items.get(KEY) == {**KEY, "available": {"N": "3"}}


def test_an_update_on_stale_values_fails_and_writes_nothing(backend: Backend) -> None:
    # Given an item read by two messages, and the first one's update committed
    first, second = backend.items(), backend.items()
    commit(backend, lambda: first.create({**KEY, "available": {"N": "3"}}))
    read_by_second = second.get(KEY)
    assert read_by_second is not None
    commit(backend, lambda: first.update(KEY, {"available": {"N": "2"}}, expected={"available": {"N": "3"}}))
    # When the second commits its update on the value it read
    with pytest.raises(ConcurrentWriteConflict):
        commit(backend, lambda: second.update(KEY, {"available": {"N": "0"}},
                                              expected={"available": read_by_second["available"]}))
    # Then nothing of it was written
    assert second.get(KEY) == {**KEY, "available": {"N": "2"}}


def test_two_reservations_of_the_last_unit_never_both_take_it(backend: Backend) -> None:
    # Given one pen in stock, and two orders (in two message groups) that both read it before either commits
    commit(backend, lambda: InventoryService(backend.items()).restock(Restock(sku="pen", quantity=1)))
    first, second = InventoryService(backend.items()), InventoryService(backend.items())
    lines = [StockLine(sku="pen", quantity=1)]
    with unit_of_work() as second_work:
        second.reserve(ReserveStock(order_id="o-2", lines=lines))
    # When the first commits, and the second's commit comes after it
    commit(backend, lambda: first.reserve(ReserveStock(order_id="o-1", lines=lines)))
    record = DedupRecord(key="o-2", check="c", outcome="{}", expires_at=2_000_000_000)
    with pytest.raises(ConcurrentWriteConflict):
        backend.committer.commit(second_work.writes, record)
    # Then the retried second order reads the new stock and is refused, and the stock is 0, not -1
    with pytest.raises(CommandRejected, match="0 available"), unit_of_work():
        second.reserve(ReserveStock(order_id="o-2", lines=lines))
    assert first.available("pen") == 0


def test_credit_is_reserved_once_against_the_limit_on_concurrent_reservations(backend: Backend) -> None:
    # Given a limit of 100 and two reservations of 60 read at the same time
    limit = SetCreditLimit(customer_id="c-1", limit=Decimal(100))
    commit(backend, lambda: CreditService(backend.items()).set_limit(limit))
    first, second = CreditService(backend.items()), CreditService(backend.items())
    with unit_of_work() as second_work:
        second.reserve(ReserveCredit(customer_id="c-1", order_id="o-2", amount=Decimal(60)))
    # When the first commits before the second
    commit(backend, lambda: first.reserve(ReserveCredit(customer_id="c-1", order_id="o-1", amount=Decimal(60))))
    record = DedupRecord(key="o-2", check="c", outcome="{}", expires_at=2_000_000_000)
    with pytest.raises(ConcurrentWriteConflict):
        backend.committer.commit(second_work.writes, record)
    # Then the retried second one is over the limit, and 60 is held, not 120
    with pytest.raises(CommandRejected), unit_of_work():
        second.reserve(ReserveCredit(customer_id="c-1", order_id="o-2", amount=Decimal(60)))
    reserved: Any = backend.items().get({"pk": {"S": "CUSTOMER#c-1"}, "sk": {"S": "CREDIT"}})
    assert reserved["reserved"] == {"N": "60"}
