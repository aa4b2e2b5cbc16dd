"""Unit of work: a handler's state changes are staged, then committed in one conditional write with the message's
dedup record, so a message is applied at most once even when its handler runs twice (a crash, a timeout, a redelivery).

A handler never writes state itself. Its repositories stage writes into the unit of work of the message being handled
(:func:`current`); after the handler returns, the consumer commits them through a :class:`Committer` together with a
:class:`DedupRecord` (the message's identity and its outcome: reply and events). Nothing happens before the commit,
so a second run of the same message - concurrent, late (a timed-out run that finishes after its retry) or a
redelivery - loses the commit's condition and gets the first run's stored outcome back to replay. The commit is:

- one conditional ``PutItem`` when the handler staged a single new item whose key is the same on every delivery of
  the message (``keyed_by_message``): the dedup attributes ride on that item (the floor: one write per message);
- one conditional ``PutItem`` of the dedup record when the handler staged nothing (a rejection, a no-op);
- otherwise one ``TransactWriteItems``: the staged writes with their conditions plus the dedup record.

Example:
    >>> committer = InMemoryCommitter()
    >>> record = DedupRecord(key="m-1", check="c", outcome='{"reply": null}', expires_at=4102444800)
    >>> with unit_of_work() as work:
    ...     current().create("orders", {"pk": {"S": "o-1"}}, key=("pk",), keyed_by_message=True)
    >>> committer.commit(work.writes, record).committed
    True
    >>> committer.commit(work.writes, record)  # the same message again: the first outcome comes back
    CommitResult(committed=False, stored=StoredOutcome(check='c', outcome='{"reply": null}'))
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from messaging.aws import LazyClient
from messaging.errors import ConcurrentWriteConflict, ConfigurationError, StateConflict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

__all__ = [
    "CommitResult",
    "Committer",
    "Create",
    "DedupRecord",
    "DynamoDbCommitter",
    "InMemoryCommitter",
    "StoredOutcome",
    "UnitOfWork",
    "Update",
    "current",
    "unit_of_work",
]

AttributeValue = dict[str, Any]
"""A DynamoDB attribute value in the low-level form (``{"S": "..."}``, ``{"N": "1"}``)."""
Item = dict[str, AttributeValue]

MAX_TRANSACTION_ITEMS = 100
"""DynamoDB ``TransactWriteItems`` takes at most 100 items (the dedup record is one of them)."""

# Attributes the dedup record rides on when it shares the staged item (names of our own, prefixed to avoid clashes).
APPLIED_BY = "applied_by"
APPLIED_CHECK = "applied_check"
APPLIED_OUTCOME = "applied_outcome"
# Attributes of a dedup record of its own in the dedup (idempotency) table; the names follow Powertools' records.
RECORD_KEY = "id"
RECORD_EXPIRY = "expiration"
RECORD_STATUS = "status"
RECORD_OUTCOME = "data"
RECORD_CHECK = "validation"


@dataclass(frozen=True, slots=True)
class Create:
    """Stage a new item: the commit fails its condition if an item with this key exists.

    ``keyed_by_message``: the key is the same on every delivery of the message (derived from its identity or its
    content, never random), so the dedup record can ride on this item when it is the only write.
    """

    table: str
    item: Item
    key: tuple[str, ...]
    keyed_by_message: bool = False

    @property
    def key_value(self) -> Item:
        return {name: self.item[name] for name in self.key}


@dataclass(frozen=True, slots=True)
class Update:
    """Stage changes to attributes of an existing item; ``expected`` holds the values the item must still have when
    the commit runs (optimistic concurrency: what the handler read). Other attributes are kept."""

    table: str
    key: Item
    changes: Item
    expected: Item = field(default_factory=dict)


StagedWrite = Create | Update


class UnitOfWork:
    """The writes one message's handler staged. Repositories add to :func:`current`; the consumer commits.

    Example:
        >>> work = UnitOfWork()
        >>> status = {"status": {"S": "cancelled"}}
        >>> work.update("orders", {"pk": {"S": "o-1"}}, status, expected={"status": {"S": "open"}})
        >>> [type(w).__name__ for w in work.writes]
        ['Update']
    """

    def __init__(self) -> None:
        self._writes: list[StagedWrite] = []

    @property
    def writes(self) -> tuple[StagedWrite, ...]:
        return tuple(self._writes)

    def create(
        self, table: str, item: Item, *, key: Sequence[str] = ("pk", "sk"), keyed_by_message: bool = False
    ) -> None:
        """Stage a new item (see :class:`Create`)."""
        missing = [name for name in key if name not in item]
        if missing:
            raise ValueError(f"the item lacks its key attribute(s) {', '.join(missing)}")
        self._stage(Create(table, dict(item), tuple(key), keyed_by_message))

    def update(self, table: str, key: Item, changes: Item, *, expected: Item | None = None) -> None:
        """Stage changes to an existing item (see :class:`Update`)."""
        if not changes:
            raise ValueError("an update needs at least one changed attribute")
        self._stage(Update(table, dict(key), dict(changes), dict(expected or {})))

    def clear(self) -> None:
        """Forget every staged write (a rejected command has no effects)."""
        self._writes.clear()

    def _stage(self, write: StagedWrite) -> None:
        if len(self._writes) >= MAX_TRANSACTION_ITEMS - 1:
            raise ValueError(f"a message can stage at most {MAX_TRANSACTION_ITEMS - 1} writes (one transaction)")
        self._writes.append(write)


_CURRENT: ContextVar[UnitOfWork | None] = ContextVar("messaging_unit_of_work", default=None)


def current() -> UnitOfWork:
    """The unit of work of the message being handled; raises :class:`ConfigurationError` outside a handler."""
    work = _CURRENT.get()
    if work is None:
        raise ConfigurationError("no unit of work: state is written from inside a message handler only")
    return work


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """Open a unit of work for the code inside the block (the consumer does this around each handler call)."""
    work = UnitOfWork()
    token = _CURRENT.set(work)
    try:
        yield work
    finally:
        _CURRENT.reset(token)


@dataclass(frozen=True, slots=True)
class DedupRecord:
    """The identity of a message and its outcome, committed with its writes.

    ``key`` identifies the message (the digest of ``source`` and ``id``); ``check`` is a digest of its content, so a
    different message reusing the identity is recognised; ``outcome`` is the JSON the consumer replays on a duplicate;
    ``expires_at`` (epoch seconds) is when a record of its own may be deleted and the identity reused.
    """

    key: str
    check: str
    outcome: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class StoredOutcome:
    """What the first commit of a message stored: its content check and its outcome."""

    check: str
    outcome: str


@dataclass(frozen=True, slots=True)
class CommitResult:
    """``committed``: the writes and the record are in; otherwise ``stored`` holds the first commit's outcome."""

    committed: bool
    stored: StoredOutcome | None = None


class Committer(Protocol):
    """Port: commits a message's staged writes together with its dedup record, or reports it was already committed.

    Raises :class:`~messaging.errors.ConcurrentWriteConflict` (transient) when a staged condition no longer holds or
    the transaction met another one, and :class:`~messaging.errors.StateConflict` (permanent) when a new item's key
    is already taken by another message.
    """

    def commit(self, writes: Sequence[StagedWrite], record: DedupRecord) -> CommitResult: ...


def rides_on_item(writes: Sequence[StagedWrite]) -> Create | None:
    """The single staged write the dedup record can ride on, if there is one."""
    if len(writes) == 1 and isinstance(writes[0], Create) and writes[0].keyed_by_message:
        return writes[0]
    return None


# ---------------------------------------------------------------------------------------------------- DynamoDB


def _s(value: str) -> AttributeValue:
    return {"S": value}


def _riding_item(write: Create, record: DedupRecord) -> Item:
    return {
        **write.item,
        APPLIED_BY: _s(record.key),
        APPLIED_CHECK: _s(record.check),
        APPLIED_OUTCOME: _s(record.outcome),
    }


def _record_item(record: DedupRecord) -> Item:
    return {
        RECORD_KEY: _s(record.key),
        RECORD_EXPIRY: {"N": str(record.expires_at)},
        RECORD_STATUS: _s("COMPLETED"),
        RECORD_OUTCOME: _s(record.outcome),
        RECORD_CHECK: _s(record.check),
    }


def _stored_on_item(old: Item | None) -> StoredOutcome | None:
    if not old or APPLIED_BY not in old:
        return None
    return StoredOutcome(old[APPLIED_CHECK]["S"], old[APPLIED_OUTCOME]["S"])


def _stored_in_record(old: Item | None) -> StoredOutcome | None:
    if not old or RECORD_OUTCOME not in old:
        return None
    return StoredOutcome(old.get(RECORD_CHECK, {}).get("S", ""), old[RECORD_OUTCOME]["S"])


class DynamoDbCommitter:
    """Commits to DynamoDB; ``dedup_table`` keeps the records that do not ride on an item (key ``id``, TTL
    ``expiration``). A lost condition returns the stored item (``ReturnValuesOnConditionCheckFailure=ALL_OLD``), so
    a duplicate costs no extra read."""

    def __init__(
        self, dedup_table: str | None, client: DynamoDBClient | None = None, *, clock: Any = time.time
    ) -> None:
        self.dedup_table = dedup_table
        self._client: LazyClient[DynamoDBClient] = LazyClient("dynamodb", client)
        self._clock = clock

    @property
    def client(self) -> DynamoDBClient:
        return self._client.get()

    def commit(self, writes: Sequence[StagedWrite], record: DedupRecord) -> CommitResult:
        riding = rides_on_item(writes)
        if riding is not None:
            return self._put_riding(riding, record)
        if not writes:
            return self._put_record(record)
        return self._transact(writes, record)

    def _put_riding(self, write: Create, record: DedupRecord) -> CommitResult:
        client = self.client
        try:
            client.put_item(**_create_request(write, _riding_item(write, record)))
        except client.exceptions.ConditionalCheckFailedException as exc:
            old: Item | None = exc.response.get("Item")  # type: ignore[assignment]
            return CommitResult(False, _duplicate_of_item(write, record, old))
        return CommitResult(True)

    def _put_record(self, record: DedupRecord) -> CommitResult:
        client = self.client
        try:
            client.put_item(**self._record_request(record))
        except client.exceptions.ConditionalCheckFailedException as exc:
            old: Item | None = exc.response.get("Item")  # type: ignore[assignment]
            return CommitResult(False, _stored_in_record(old) or self._read_record(record))
        return CommitResult(True)

    def _transact(self, writes: Sequence[StagedWrite], record: DedupRecord) -> CommitResult:
        client = self.client
        items: list[dict[str, Any]] = [_transact_item(write) for write in writes]
        items.append({"Put": self._record_request(record)})
        try:
            client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except client.exceptions.TransactionCanceledException as exc:
            reasons: list[dict[str, Any]] = exc.response.get("CancellationReasons", [])  # type: ignore[assignment]
            codes = [str(reason.get("Code") or "None") for reason in reasons]
            if codes and codes[-1] == "ConditionalCheckFailed":
                stored = _stored_in_record(reasons[-1].get("Item")) or self._read_record(record)
                return CommitResult(False, stored)
            failed = [i for i, code in enumerate(codes[:-1]) if code == "ConditionalCheckFailed"]
            if failed:
                raise _condition_lost(writes[failed[0]]) from exc
            raise ConcurrentWriteConflict(f"the transaction was cancelled: {', '.join(codes)}") from exc
        return CommitResult(True)

    def _record_request(self, record: DedupRecord) -> dict[str, Any]:
        if not self.dedup_table:
            raise ConfigurationError("IDEMPOTENCY_TABLE_NAME is not set: the commit needs a dedup table")
        return {
            "TableName": self.dedup_table,
            "Item": _record_item(record),
            # An expired record that TTL has not deleted yet no longer protects its identity.
            "ConditionExpression": "attribute_not_exists(#id) OR #expiration < :now",
            "ExpressionAttributeNames": {"#id": RECORD_KEY, "#expiration": RECORD_EXPIRY},
            "ExpressionAttributeValues": {":now": {"N": str(int(self._clock()))}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def _read_record(self, record: DedupRecord) -> StoredOutcome:
        """Fallback when a cancelled transaction did not return the record (it always should)."""
        response = self.client.get_item(
            TableName=self.dedup_table or "", Key={RECORD_KEY: _s(record.key)}, ConsistentRead=True
        )
        stored = _stored_in_record(response.get("Item"))  # type: ignore[arg-type]
        if stored is None:
            raise ConcurrentWriteConflict("the dedup record vanished while committing; retrying")
        return stored


def _condition_lost(write: StagedWrite) -> StateConflict | ConcurrentWriteConflict:
    """The error of a staged write whose condition failed: a taken key is permanent, a changed item is retried (the
    handler then reads the new state)."""
    if isinstance(write, Create):
        return StateConflict(f"{_describe(write)} already exists")
    return ConcurrentWriteConflict(f"{_describe(write)} changed or vanished since it was read")


def _duplicate_of_item(write: Create, record: DedupRecord, old: Item | None) -> StoredOutcome:
    """The stored outcome when the riding put lost its condition; the item must have been written by this message."""
    if old is not None and old.get(APPLIED_BY, {}).get("S") == record.key:
        stored = _stored_on_item(old)
        if stored is not None:
            return stored
    raise StateConflict(f"{_describe(write)} already exists and was written by another message")


def _names(attributes: Mapping[str, Any], prefix: str) -> dict[str, str]:
    return {f"#{prefix}{i}": name for i, name in enumerate(attributes)}


def _create_request(write: Create, item: Item) -> dict[str, Any]:
    return {
        "TableName": write.table,
        "Item": item,
        "ConditionExpression": "attribute_not_exists(#k0)",
        "ExpressionAttributeNames": {"#k0": write.key[0]},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _update_request(write: Update) -> dict[str, Any]:
    names = {**_names(write.changes, "c"), **_names(write.expected, "e"), **_names(write.key, "k")}
    values: dict[str, AttributeValue] = {}
    sets = []
    for i, (_name, value) in enumerate(write.changes.items()):
        sets.append(f"#c{i} = :c{i}")
        values[f":c{i}"] = value
    conditions = [f"attribute_exists(#k{i})" for i in range(len(write.key))]
    for i, (_name, value) in enumerate(write.expected.items()):
        conditions.append(f"#e{i} = :e{i}")
        values[f":e{i}"] = value
    return {
        "TableName": write.table,
        "Key": write.key,
        "UpdateExpression": "SET " + ", ".join(sets),
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _transact_item(write: StagedWrite) -> dict[str, Any]:
    if isinstance(write, Create):
        request = _create_request(write, write.item)
        request.pop("ReturnValuesOnConditionCheckFailure")
        return {"Put": request}
    return {"Update": _update_request(write)}


def _describe(write: StagedWrite) -> str:
    key = write.key_value if isinstance(write, Create) else write.key
    shown = ", ".join(f"{name}={next(iter(value.values()))}" for name, value in key.items())
    return f"{write.table} item ({shown})"


# ---------------------------------------------------------------------------------------------------- in memory


class InMemoryCommitter:
    """The :class:`Committer` port in dicts, with the conditions and atomicity of :class:`DynamoDbCommitter`.

    ``tables`` maps a table name to its items by key; ``records`` holds the dedup records of their own.
    """

    def __init__(self, *, clock: Any = time.time) -> None:
        self.tables: dict[str, dict[tuple[tuple[str, str], ...], Item]] = {}
        self.records: dict[str, tuple[int, StoredOutcome]] = {}
        self._clock = clock
        self._lock = threading.Lock()

    def items(self, table: str) -> list[Item]:
        """Every item of ``table`` (copies)."""
        with self._lock:
            return [dict(item) for item in self.tables.get(table, {}).values()]

    def commit(self, writes: Sequence[StagedWrite], record: DedupRecord) -> CommitResult:
        with self._lock:
            riding = rides_on_item(writes)
            if riding is not None:
                old = self._get(riding.table, riding.key_value)
                if old is not None:
                    return CommitResult(False, _duplicate_of_item(riding, record, old))
                self._put(riding.table, riding.key_value, _riding_item(riding, record))
                return CommitResult(True)
            existing = self.records.get(record.key)
            if existing is not None and existing[0] >= int(self._clock()):
                return CommitResult(False, existing[1])
            for write in writes:  # check every condition first: all or nothing
                self._check(write)
            for write in writes:
                self._apply(write)
            self.records[record.key] = (record.expires_at, StoredOutcome(record.check, record.outcome))
            return CommitResult(True)

    @staticmethod
    def _key(key: Item) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((name, repr(value)) for name, value in key.items()))

    def _get(self, table: str, key: Item) -> Item | None:
        return self.tables.get(table, {}).get(self._key(key))

    def _put(self, table: str, key: Item, item: Item) -> None:
        self.tables.setdefault(table, {})[self._key(key)] = dict(item)

    def _check(self, write: StagedWrite) -> None:
        if isinstance(write, Create):
            holds = self._get(write.table, write.key_value) is None
        else:
            old = self._get(write.table, write.key)
            holds = old is not None and all(old.get(name) == value for name, value in write.expected.items())
        if not holds:
            raise _condition_lost(write)

    def _apply(self, write: StagedWrite) -> None:
        if isinstance(write, Create):
            self._put(write.table, write.key_value, write.item)
            return
        old = self._get(write.table, write.key) or {}
        self._put(write.table, write.key, {**old, **write.changes})
