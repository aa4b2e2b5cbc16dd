"""The transactional outbox, producer side: a producer's own writes and the messages it sends, in one transaction.

A service that is not a consumer (an HTTP handler, a container, a script) and both saves state and sends a message
has the dual-write problem: a crash, timeout or throttle between the save and the send loses the message or,
retried, sends a second one under a new id. Here the producer stages its DynamoDB writes and its messages in an
:class:`OutboxTransaction`; :meth:`OutboxProducer.commit` writes them in one ``TransactWriteItems``: the writes as
staged (with their conditions) and each message as an item of the outbox table. Nothing is sent now; the relay
(:mod:`messaging.relay`) delivers the outbox items from the table's stream, in commit order per ``partitionkey``,
with the deduplication id of ``source`` + ``id`` as every sender here does. Either all of it commits or nothing does.

Outbox item: ``pk`` = the message's ``partitionkey`` (its FIFO group: DynamoDB Streams keeps the records of one
partition key in one shard, in commit order), ``sk`` = a time-ordered id (epoch milliseconds + the message id),
``destination`` (an SNS topic ARN or an SQS queue URL), ``message`` (the CloudEvent as wire JSON), ``expires_at``
(TTL: the item is only needed until its stream record is delivered; streams keep records 24 hours).

Example:
    >>> store = InMemoryOutboxStore()
    >>> producer = OutboxProducer("orders-outbox", source="/orders/api", store=store)
    >>> with producer.transaction() as tx:
    ...     tx.create("orders", {"pk": {"S": "REQUEST#r-1"}, "sk": {"S": "REQUEST"}})
    ...     sent = tx.send("https://sqs.eu-west-1.amazonaws.com/1/orders-commands.fifo", "orders.CreateOrder",
    ...                    {"customer_id": "c-1"}, partitionkey="c-1", id="cmd-1")
    >>> [item["pk"]["S"] for item in store.items("orders-outbox")], sent.id
    (['c-1'], 'cmd-1')
    >>> with producer.transaction() as tx:  # the same request again: its condition fails, nothing is written
    ...     tx.create("orders", {"pk": {"S": "REQUEST#r-1"}, "sk": {"S": "REQUEST"}})
    ...     _ = tx.send("https://sqs/orders.fifo", "orders.CreateOrder", {}, partitionkey="c-1", id="cmd-1")
    Traceback (most recent call last):
    ...
    messaging.producer.WriteConflict: orders item (pk=REQUEST#r-1, sk=REQUEST) already exists
    >>> len(store.items("orders-outbox"))
    1
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from messaging.aws import LazyClient
from messaging.claim_check import CHANNEL_LIMIT_BYTES, message_size
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope, Kind
from messaging.errors import ConcurrentWriteConflict, InvalidMessage, InvalidRequest, MessageTooLarge, StateConflict
from messaging.preparation import invalid_request, prepare_envelope, shard_keys_with
from messaging.unit_of_work import (
    MAX_TRANSACTION_ITEMS,
    Create,
    Item,
    StagedWrite,
    UnitOfWork,
)
from messaging.unit_of_work import _describe as describe
from messaging.unit_of_work import _transact_item as transact_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from messaging.contracts import Catalogue

__all__ = [
    "OUTBOX_TTL_SECONDS",
    "DynamoDbOutboxStore",
    "InMemoryOutboxStore",
    "OutboxItem",
    "OutboxProducer",
    "OutboxStore",
    "OutboxTransaction",
    "WriteConflict",
]

OUTBOX_TTL_SECONDS = 2 * 24 * 60 * 60
"""How long an outbox item is kept: past the 24 hours a stream keeps its record (the relay reads the record, not
the item), then TTL deletes it at no cost."""


class WriteConflict(StateConflict):
    """A staged write's condition failed: nothing of the transaction was written. :attr:`write` is the write
    (a :class:`~messaging.unit_of_work.Create` whose key is taken, an :class:`~messaging.unit_of_work.Update`
    whose item changed)."""

    def __init__(self, write: StagedWrite) -> None:
        reason = f"{describe(write)} already exists" if isinstance(write, Create) else (
            f"{describe(write)} changed or vanished since it was read"
        )
        super().__init__(reason)
        self.write = write


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One message waiting in the outbox: where it goes and its wire JSON, under its partition key."""

    table: str
    partitionkey: str
    sort_key: str
    destination: str
    message: str
    message_id: str
    source: str
    type: str
    expires_at: int

    def to_item(self) -> Item:
        """The DynamoDB item (low-level attribute values)."""
        return {
            "pk": {"S": self.partitionkey},
            "sk": {"S": self.sort_key},
            "destination": {"S": self.destination},
            "message": {"S": self.message},
            "message_id": {"S": self.message_id},
            "source": {"S": self.source},
            "type": {"S": self.type},
            "expires_at": {"N": str(self.expires_at)},
        }

    @classmethod
    def from_item(cls, table: str, item: Mapping[str, Any]) -> OutboxItem:
        """Read an item (a stream record's ``NewImage``); raises :class:`KeyError` if an attribute is missing."""
        return cls(
            table=table,
            partitionkey=item["pk"]["S"],
            sort_key=item["sk"]["S"],
            destination=item["destination"]["S"],
            message=item["message"]["S"],
            message_id=item["message_id"]["S"],
            source=item["source"]["S"],
            type=item["type"]["S"],
            expires_at=int(item["expires_at"]["N"]),
        )


class OutboxStore(Protocol):
    """Port: commits staged writes and outbox items atomically; raises :class:`WriteConflict` when a staged
    condition fails (nothing written) and :class:`~messaging.errors.ConcurrentWriteConflict` when the transaction
    met another one (retry it)."""

    def commit(self, writes: Sequence[StagedWrite], items: Sequence[OutboxItem]) -> None: ...


class OutboxTransaction:
    """What one producer call stages: state writes (:meth:`create`, :meth:`update`) and messages (:meth:`send` to a
    queue, :meth:`publish` to a topic). Messages are checked when staged; nothing is written before the commit."""

    def __init__(self, producer: OutboxProducer) -> None:
        self._producer = producer
        self.work = UnitOfWork()
        self.items: list[OutboxItem] = []
        self.messages: list[Envelope] = []

    def create(self, table: str, item: Item, *, key: Sequence[str] = ("pk", "sk")) -> None:
        """Stage a new item of the producer's own table (fails the commit if its key exists)."""
        self.work.create(table, item, key=key)

    def update(self, table: str, key: Item, changes: Item, *, expected: Item | None = None) -> None:
        """Stage changes to an existing item, conditional on ``expected`` (optimistic concurrency)."""
        self.work.update(table, key, changes, expected=expected)

    def send(
        self,
        queue_url: str,
        type: str,
        data: Mapping[str, Any] | None,
        *,
        partitionkey: str | None = None,
        kind: Kind = Kind.COMMAND,
        replyto: str | None = None,
        id: str | None = None,
        traceparent: str | None = None,
    ) -> Envelope:
        """Stage a message for an SQS queue; return it as it will be sent (its ``id`` is the correlation id of a
        reply). Give ``id`` to make a retried producer call stage the very same message; ``traceparent`` continues
        a W3C trace (else the message starts one)."""
        return self._stage(queue_url, kind, type, data, partitionkey=partitionkey, replyto=replyto, id=id,
                           traceparent=traceparent)

    def publish(
        self,
        topic_arn: str,
        type: str,
        data: Mapping[str, Any] | None,
        *,
        partitionkey: str | None = None,
        kind: Kind = Kind.EVENT,
        id: str | None = None,
        traceparent: str | None = None,
    ) -> Envelope:
        """Stage a message (an event by default) for an SNS topic; return it as it will be published."""
        return self._stage(topic_arn, kind, type, data, partitionkey=partitionkey, replyto=None, id=id,
                           traceparent=traceparent)

    def _stage(
        self,
        destination: str,
        kind: Kind,
        type: str,
        data: Mapping[str, Any] | None,
        *,
        partitionkey: str | None,
        replyto: str | None,
        id: str | None,
        traceparent: str | None = None,
    ) -> Envelope:
        if not (destination.startswith("arn:") or destination.startswith("http")):
            raise InvalidRequest(f"destination must be an SNS topic ARN or an SQS queue URL, not {destination!r}")
        if len(self.work.writes) + len(self.items) + 1 > MAX_TRANSACTION_ITEMS:
            raise InvalidRequest(f"a transaction holds at most {MAX_TRANSACTION_ITEMS} writes and messages")
        producer = self._producer
        envelope = prepare_envelope(kind, type, data, source=producer.source, shard_keys=producer.shard_keys,
                                    catalogue=producer.catalogue, partitionkey=partitionkey, replyto=replyto, id=id,
                                    traceparent=traceparent)
        try:
            raw = producer.codec.encode(envelope)
        except InvalidMessage as exc:
            raise invalid_request(exc) from exc
        if message_size(raw) > CHANNEL_LIMIT_BYTES:
            raise MessageTooLarge(f"the message is over the {CHANNEL_LIMIT_BYTES:,}-byte channel limit", field="data")
        now = producer.clock()
        self.items.append(
            OutboxItem(
                table=producer.table,
                partitionkey=str(envelope.partitionkey),  # always set: prepare_envelope gives or refuses one
                sort_key=f"{int(now * 1000):013d}#{envelope.id}",
                destination=destination,
                message=raw,
                message_id=envelope.id,
                source=envelope.source,
                type=envelope.type,
                expires_at=int(now) + OUTBOX_TTL_SECONDS,
            )
        )
        self.messages.append(envelope)
        return envelope


class OutboxProducer:
    """Stages and commits a producer's writes and messages (see the module docstring).

    ``table``: the outbox table (``pk``/``sk``, stream ``NEW_IMAGE``); ``source``: the CloudEvents ``source`` of the
    messages; ``shard_keys``: message type -> the ``data`` field its ``partitionkey`` is taken from; ``catalogue``:
    what staged messages are checked against (type, kind, ``data`` read as the type's model; the message names its
    ``dataschema``). Messages are prepared as the client prepares them (:mod:`messaging.preparation`).

    Example:
        >>> producer = OutboxProducer("outbox", source="/web", store=InMemoryOutboxStore())
        >>> tx = producer.begin()
        >>> _ = tx.publish("arn:aws:sns:eu-west-1:1:order-events.fifo", "orders.Noted", {}, partitionkey="c-1")
        >>> producer.commit(tx)
        >>> producer.store.items("outbox")[0]["destination"]["S"]
        'arn:aws:sns:eu-west-1:1:order-events.fifo'
    """

    def __init__(
        self,
        table: str,
        *,
        source: str,
        store: OutboxStore | None = None,
        client: DynamoDBClient | None = None,
        shard_keys: Mapping[str, str] | None = None,
        catalogue: Catalogue | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table = table
        self.source = source
        self.store: Any = store if store is not None else DynamoDbOutboxStore(client)
        self.catalogue = catalogue
        self.shard_keys = shard_keys_with(catalogue, shard_keys)
        self.clock = clock
        self.codec = CloudEventJsonCodec()

    def begin(self) -> OutboxTransaction:
        """A new, empty transaction."""
        return OutboxTransaction(self)

    def commit(self, transaction: OutboxTransaction) -> None:
        """Write the staged writes and the outbox items in one transaction (see :class:`OutboxStore` for errors)."""
        if not transaction.work.writes and not transaction.items:
            return
        self.store.commit(transaction.work.writes, transaction.items)

    @contextmanager
    def transaction(self) -> Iterator[OutboxTransaction]:
        """Stage inside the block; the commit runs when it ends without an exception."""
        tx = self.begin()
        yield tx
        self.commit(tx)


# ---------------------------------------------------------------------------------------------------- DynamoDB


def _outbox_put(item: OutboxItem) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": item.table,
            "Item": item.to_item(),
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": "pk"},
        }
    }


class DynamoDbOutboxStore:
    """Commits with one ``TransactWriteItems`` (up to 100 items: writes + messages; 2 write units per item)."""

    def __init__(self, client: DynamoDBClient | None = None) -> None:
        self._client: LazyClient[DynamoDBClient] = LazyClient("dynamodb", client)

    @property
    def client(self) -> DynamoDBClient:
        return self._client.get()

    def commit(self, writes: Sequence[StagedWrite], items: Sequence[OutboxItem]) -> None:
        client = self.client
        request = [transact_item(write) for write in writes] + [_outbox_put(item) for item in items]
        try:
            client.transact_write_items(TransactItems=request)  # type: ignore[arg-type]
        except client.exceptions.TransactionCanceledException as exc:
            reasons: list[dict[str, Any]] = exc.response.get("CancellationReasons", [])  # type: ignore[assignment]
            codes = [str(reason.get("Code") or "None") for reason in reasons]
            failed = [i for i, code in enumerate(codes[: len(writes)]) if code == "ConditionalCheckFailed"]
            if failed:
                raise _conflict(writes[failed[0]]) from exc
            raise ConcurrentWriteConflict(f"the transaction was cancelled: {', '.join(codes)}") from exc

    def items(self, table: str) -> list[Item]:
        """Every item of an outbox table (a scan: for tests and inspection)."""
        return list(self.client.scan(TableName=table, ConsistentRead=True)["Items"])  # type: ignore[arg-type]


def _conflict(write: StagedWrite) -> WriteConflict:
    return WriteConflict(write)


# ---------------------------------------------------------------------------------------------------- in memory


class InMemoryOutboxStore:
    """The :class:`OutboxStore` port in dicts, with the conditions and atomicity of :class:`DynamoDbOutboxStore`;
    ``log`` lists the committed outbox items in commit order (what a stream would carry)."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Item]] = {}
        self.log: list[OutboxItem] = []
        self._lock = threading.Lock()

    @staticmethod
    def _key(item_key: Item) -> str:
        return json.dumps(item_key, sort_keys=True)

    def items(self, table: str) -> list[Item]:
        with self._lock:
            return [dict(item) for item in self.tables.get(table, {}).values()]

    def commit(self, writes: Sequence[StagedWrite], items: Sequence[OutboxItem]) -> None:
        with self._lock:
            for write in writes:
                rows = self.tables.get(write.table, {})
                if isinstance(write, Create):
                    if self._key(write.key_value) in rows:
                        raise WriteConflict(write)
                else:
                    old = rows.get(self._key(write.key))
                    if old is None or any(old.get(name) != value for name, value in write.expected.items()):
                        raise _conflict(write)
            for item in items:
                if self._key({"pk": {"S": item.partitionkey}, "sk": {"S": item.sort_key}}) in self.tables.get(
                    item.table, {}
                ):
                    raise ConcurrentWriteConflict("the transaction was cancelled: an outbox item's key is taken")
            for write in writes:
                rows = self.tables.setdefault(write.table, {})
                if isinstance(write, Create):
                    rows[self._key(write.key_value)] = dict(write.item)
                else:
                    key = self._key(write.key)
                    rows[key] = {**rows.get(key, {}), **write.changes}
            for item in items:
                key = self._key({"pk": {"S": item.partitionkey}, "sk": {"S": item.sort_key}})
                self.tables.setdefault(item.table, {})[key] = item.to_item()
                self.log.append(item)
