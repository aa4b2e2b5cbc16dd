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

from typing import TYPE_CHECKING, Any

from messaging import unit_of_work
from messaging.aws import DynamoDbTableAdapter
from messaging.saga.state import SagaState, saga_key

if TYPE_CHECKING:
    from messaging.unit_of_work import InMemoryCommitter


class SagaRepository:
    """The port: :meth:`get` a saga's state, :meth:`stage` its new state into the current unit of work."""

    table_name: str

    def _read(self, key: dict[str, Any]) -> dict[str, Any] | None:
        raise NotImplementedError

    def get(self, saga_id: str) -> SagaState | None:
        """The saga's state as last committed, or None."""
        item = self._read(saga_key(saga_id))
        return SagaState.from_item(item) if item is not None else None

    def stage(self, state: SagaState, *, previous_version: int | None) -> None:
        """Stage ``state``: created when ``previous_version`` is None (the commit fails if the saga exists), else
        updated on the condition that the stored version is still ``previous_version``."""
        item = state.to_item()
        work = unit_of_work.current()
        if previous_version is None:
            work.create(self.table_name, item, key=("pk", "sk"), keyed_by_message=True)
            return
        changes = {name: value for name, value in item.items() if name not in ("pk", "sk")}
        work.update(self.table_name, saga_key(state.saga_id), changes,
                    expected={"version": {"N": str(previous_version)}})


class DynamoDbSagaRepository(SagaRepository, DynamoDbTableAdapter):
    """Saga states in a DynamoDB table (``pk``/``sk`` strings), read with ``ConsistentRead``."""

    def _read(self, key: dict[str, Any]) -> dict[str, Any] | None:
        response = self.client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item


class InMemorySagaRepository(SagaRepository):
    """Saga states in an :class:`~messaging.unit_of_work.InMemoryCommitter`'s table."""

    def __init__(self, committer: InMemoryCommitter, table_name: str) -> None:
        self.committer = committer
        self.table_name = table_name

    def _read(self, key: dict[str, Any]) -> dict[str, Any] | None:
        for item in self.committer.items(self.table_name):
            if all(item.get(name) == value for name, value in key.items()):
                return dict(item)
        return None
