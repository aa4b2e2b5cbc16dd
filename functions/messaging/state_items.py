"""The items of a service's state table, with optimistic concurrency: read consistently, written through the unit of
work of the message being handled, each change conditional on the values it read.

A service reads what it needs (:meth:`StateItems.get`), decides, and stages its writes: :meth:`StateItems.create`
(the commit fails if the key exists) and :meth:`StateItems.update` with ``expected`` = the attributes as read. The
consumer commits them with the message's dedup record in one conditional write; when another message changed an item
in between, the commit raises :class:`~messaging.errors.ConcurrentWriteConflict` (transient), nothing is written, and
the consumer runs the handler again: the service reads the new values and decides again. Two message groups never
both take the last unit of stock, and a version or a counter never goes back.

Two backends of one port (one contract suite runs on both): :class:`DynamoDbStateItems` (``GetItem`` with
``ConsistentRead``) and :class:`InMemoryStateItems` (the table of an
:class:`~messaging.unit_of_work.InMemoryCommitter`, for unit tests). Items are low-level attribute values keyed by
``pk`` and ``sk``.

Example:
    >>> from messaging.unit_of_work import DedupRecord, InMemoryCommitter, unit_of_work
    >>> committer = InMemoryCommitter()
    >>> items = InMemoryStateItems(committer, "stock")
    >>> key = {"pk": {"S": "SKU#pen"}, "sk": {"S": "STOCK"}}
    >>> with unit_of_work() as work:
    ...     items.create({**key, "available": {"N": "3"}})
    ...     _ = committer.commit(work.writes, DedupRecord(key="m-1", check="c", outcome="{}", expires_at=0))
    >>> items.get(key)["available"]
    {'N': '3'}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from messaging import unit_of_work
from messaging.aws import DynamoDbTableAdapter

if TYPE_CHECKING:
    from messaging.unit_of_work import InMemoryCommitter, Item

KEY = ("pk", "sk")
"""The key attributes of a state table."""


class StateItems:
    """Port: read an item of the state table :attr:`table_name`; stage writes into the current unit of work."""

    table_name: str

    def get(self, key: Item) -> Item | None:
        """The item as last committed (a consistent read), or None."""
        raise NotImplementedError

    def create(self, item: Item, *, keyed_by_message: bool = False) -> None:
        """Stage a new item: the commit fails if its key exists (``keyed_by_message``: the key is derived from the
        message, so the dedup record may ride on the item; see :class:`~messaging.unit_of_work.Create`)."""
        unit_of_work.current().create(self.table_name, item, key=KEY, keyed_by_message=keyed_by_message)

    def update(self, key: Item, changes: Item, *, expected: Item) -> None:
        """Stage ``changes`` to the item at ``key``, on the condition that its attributes are still ``expected``
        (the values read: optimistic concurrency)."""
        unit_of_work.current().update(self.table_name, key, changes, expected=expected)


class DynamoDbStateItems(StateItems, DynamoDbTableAdapter):
    """The items of a DynamoDB table (``pk``/``sk`` strings); the client is injected or created on first use."""

    def get(self, key: Item) -> Item | None:
        response = self.client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item


class InMemoryStateItems(StateItems):
    """The items of an in-memory committer's table (unit tests)."""

    def __init__(self, committer: InMemoryCommitter, table_name: str) -> None:
        self.committer = committer
        self.table_name = table_name

    def get(self, key: Item) -> Item | None:
        for item in self.committer.items(self.table_name):
            if all(item.get(name) == value for name, value in key.items()):
                return dict(item)
        return None
