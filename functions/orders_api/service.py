"""Order requests taken over HTTP: the request record and its CreateOrder command are committed in one transaction
through the outbox (:mod:`messaging.producer`); the reply is read from the reply store, by the command's id.

The ``Idempotency-Key`` (scoped by the caller) is the command's identity: the command id is derived from it, and the
request record, keyed by that id, is created only once. The same key with the same body answers the same request
again (nothing new is written); with another body it is refused (:class:`KeyReused`).

Example:
    >>> from messaging.producer import InMemoryOutboxStore, OutboxProducer
    >>> from messaging.reply_store import InMemoryReplyStore
    >>> from orders.models import CreateOrder
    >>> store = InMemoryOutboxStore()
    >>> requests = OrderRequests(OutboxProducer("outbox", source=SOURCE, store=store), InMemoryRequestRecords(store),
    ...                          InMemoryReplyStore(), settings=Settings("state", "replies", "https://q/orders.fifo",
    ...                                                                   "https://q/replies.fifo"))
    >>> order = CreateOrder(customer_id="c-1", lines=[{"sku": "book", "quantity": 1, "unit_price": "12.50"}])
    >>> first = requests.accept("key-1", order, caller="anonymous")
    >>> again = requests.accept("key-1", order, caller="anonymous")
    >>> (first.id == again.id, first.created, again.created, len(store.log))
    (True, True, False, 1)
    >>> requests.status(first.id).status
    'pending'
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from messaging.aws import DynamoDbTableAdapter
from messaging.errors import ConcurrentWriteConflict
from messaging.producer import InMemoryOutboxStore, OutboxProducer, WriteConflict
from messaging.reply_store import REPLY_TTL_SECONDS, ReplyStore
from orders.models import CreateOrder

SOURCE = "/orders/api"
REQUEST_TTL_SECONDS = REPLY_TTL_SECONDS
"""A request record lives as long as its reply: one day."""
_KEY_NAMESPACE = uuid.UUID("0d6c3b0e-8a0f-4f4b-9a57-5d1c6f1e2a90")
_COMMIT_ATTEMPTS = 5


class KeyReused(Exception):  # noqa: N818 - names of the public API
    """The idempotency key was used before with another body."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the requests, replies and commands go (``from_env`` reads the function's environment)."""

    state_table: str
    reply_table: str
    command_queue_url: str
    reply_queue_url: str

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(env["STATE_TABLE_NAME"], env["REPLY_TABLE_NAME"], env["ORDERS_COMMAND_QUEUE_URL"],
                   env["REPLY_QUEUE_URL"])


@dataclass(frozen=True, slots=True)
class Accepted:
    """A request taken: its id (the CreateOrder's id, the correlation id of its reply) and whether it is new."""

    id: str
    created: bool
    customer_id: str

    def body(self) -> dict[str, Any]:
        return {"id": self.id, "status": "pending", "customer_id": self.customer_id,
                "location": location_of(self.id)}


@dataclass(frozen=True, slots=True)
class RequestStatus:
    """``pending`` until the reply is stored, then ``done`` with the reply's outcome."""

    id: str
    status: str
    reply: dict[str, Any] | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.reply is not None:
            body["reply"] = self.reply
        return body


@dataclass(frozen=True, slots=True)
class RequestRecord:
    id: str
    fingerprint: str
    customer_id: str


class RequestRecords(Protocol):
    """Port: reads the request records (the producer writes them)."""

    def get(self, table: str, request_id: str) -> RequestRecord | None: ...


def location_of(request_id: str) -> str:
    """Where a request's status is read."""
    return f"/orders/requests/{request_id}"


def command_id(caller: str, key: str) -> str:
    """The CreateOrder id of an idempotency key, scoped by the caller (two callers' keys never collide)."""
    return str(uuid.uuid5(_KEY_NAMESPACE, f"{caller}\n{key}"))


def fingerprint(order: CreateOrder) -> str:
    """A digest of the request's content (what "the same body" means: equal after parsing)."""
    canonical = json.dumps(order.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _key(request_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"REQUEST#{request_id}"}, "sk": {"S": "REQUEST"}}


def _record(item: dict[str, Any] | None, request_id: str) -> RequestRecord | None:
    if not item:
        return None
    return RequestRecord(request_id, item["fingerprint"]["S"], item["customer_id"]["S"])


class DynamoDbRequestRecords(DynamoDbTableAdapter):
    """Request records in the orders state table (``pk`` = ``REQUEST#<id>``), read strongly consistent."""

    def __init__(self, client: Any = None) -> None:
        super().__init__("", client)

    def get(self, table: str, request_id: str) -> RequestRecord | None:
        item = self.client.get_item(TableName=table, Key=_key(request_id), ConsistentRead=True).get("Item")
        return _record(item, request_id)


class InMemoryRequestRecords:
    """Request records read from an :class:`~messaging.producer.InMemoryOutboxStore`."""

    def __init__(self, store: InMemoryOutboxStore) -> None:
        self._store = store

    def get(self, table: str, request_id: str) -> RequestRecord | None:
        wanted = _key(request_id)
        item = next((i for i in self._store.items(table) if i["pk"] == wanted["pk"] and i["sk"] == wanted["sk"]),
                    None)
        return _record(item, request_id)


class OrderRequests:
    """Takes CreateOrder requests and answers their status (see the module docstring)."""

    def __init__(self, producer: OutboxProducer, records: RequestRecords, replies: ReplyStore, *,
                 settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.producer = producer
        self.records = records
        self.replies = replies
        self.settings = settings
        self._clock = clock

    def accept(self, key: str, order: CreateOrder, *, caller: str) -> Accepted:
        """Record the request and send its command (one transaction), or answer the one already taken for ``key``;
        raises :class:`KeyReused` when ``key`` was taken with another body."""
        request_id = command_id(caller, key)
        digest = fingerprint(order)
        for _ in range(_COMMIT_ATTEMPTS):
            try:
                self._commit(request_id, key, order, digest, caller)
                return Accepted(request_id, True, order.customer_id)
            except WriteConflict:
                pass
            except ConcurrentWriteConflict:  # a concurrent request with the same key: read what it committed
                time.sleep(0.05)
            existing = self.records.get(self.settings.state_table, request_id)
            if existing is not None:
                if existing.fingerprint != digest:
                    raise KeyReused(key)
                return Accepted(request_id, False, existing.customer_id)
        raise ConcurrentWriteConflict("the request could not be committed; retry it with the same key")

    def _commit(self, request_id: str, key: str, order: CreateOrder, digest: str, caller: str) -> None:
        now = self._clock()
        expires = {"N": str(int(now) + REQUEST_TTL_SECONDS)}
        settings = self.settings
        with self.producer.transaction() as tx:
            tx.create(settings.state_table, {
                **_key(request_id),
                "fingerprint": {"S": digest},
                "idempotency_key": {"S": key},
                "caller": {"S": caller},
                "customer_id": {"S": order.customer_id},
                "created_at": {"N": str(int(now * 1000))},
                "expires_at": expires,
            })
            tx.send(settings.command_queue_url, "orders.CreateOrder", order.model_dump(mode="json"),
                    partitionkey=order.customer_id, replyto=settings.reply_queue_url, id=request_id)

    def status(self, request_id: str) -> RequestStatus | None:
        """The request's status, or None if there is no such request."""
        if self.records.get(self.settings.state_table, request_id) is None:
            return None
        replies = self.replies.get(request_id)
        if not replies:
            return RequestStatus(request_id, "pending")
        return RequestStatus(request_id, "done", dict(replies[0].data or {}))
