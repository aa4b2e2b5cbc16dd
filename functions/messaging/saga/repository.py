"""Where saga states live: one DynamoDB item per saga (:func:`~messaging.saga.state.saga_key`), read consistently,
written through the unit of work with optimistic concurrency on ``version``. Two backends of one port: DynamoDB and
the in-memory committer's tables (the unit tests).

Example:
    >>> from messaging.unit_of_work import InMemoryCommitter
    >>> repo = InMemorySagaRepository(InMemoryCommitter(), "sagas")
    >>> repo.get("s-1") is None
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from messaging.saga.state import SagaState, saga_key
from messaging.state_items import DynamoDbStateItems, InMemoryStateItems, StateItems

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from messaging.unit_of_work import InMemoryCommitter


class SagaRepository:
    """The port: :meth:`get` a saga's state, :meth:`stage` its new state into the current unit of work; its items are
    those of :attr:`items` (:mod:`messaging.state_items`)."""

    items: StateItems

    @property
    def table_name(self) -> str:
        return self.items.table_name

    def get(self, saga_id: str) -> SagaState | None:
        """The saga's state as last committed, or None."""
        item = self.items.get(saga_key(saga_id))
        return SagaState.from_item(item) if item is not None else None

    def stage(self, state: SagaState, *, previous_version: int | None) -> None:
        """Stage ``state``: created when ``previous_version`` is None (the commit fails if the saga exists), else
        updated on the condition that the stored version is still ``previous_version``."""
        item = state.to_item()
        if previous_version is None:
            self.items.create(item, keyed_by_message=True)
            return
        changes = {name: value for name, value in item.items() if name not in ("pk", "sk")}
        self.items.update(saga_key(state.saga_id), changes, expected={"version": {"N": str(previous_version)}})


class DynamoDbSagaRepository(SagaRepository):
    """Saga states in a DynamoDB table (``pk``/``sk`` strings), read with ``ConsistentRead``."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.items = DynamoDbStateItems(table_name, client)


class InMemorySagaRepository(SagaRepository):
    """Saga states in an :class:`~messaging.unit_of_work.InMemoryCommitter`'s table."""

    def __init__(self, committer: InMemoryCommitter, table_name: str) -> None:
        self.items = InMemoryStateItems(committer, table_name)
