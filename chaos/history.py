"""The history of a chaos run: what the harness sent, in order, and every state write that took effect, in order.

Effects are read from the calls themselves (see :mod:`chaos.faults`), whatever consumer made them: a ``PutItem``, an
``UpdateItem`` or each item of a ``TransactWriteItems`` on a service's state table becomes one :class:`Effect`, with
a global sequence number. A conditional write that lost its condition did not take effect and is not recorded, so an
effect recorded twice was applied twice.

Example::

    history = History(tables={"orders-state": "orders"})
    history.record_call("orders", "dynamodb", "PutItem", {"TableName": "orders-state", "Item": {...}})
    history.effects  # [Effect(seq=1, service="orders", kind="order_created", ...)]
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

TAG = re.compile(r"chaos#(\d+)")
"""Every command the harness sends carries a tag ``chaos#<n>`` in a field its effect stores (sku, cancel reason)."""


@dataclass(frozen=True)
class Sent:
    """One message the harness sent: its tag, shard, kind (``create``, ``cancel``, ``poison``) and identity.

    ``correlation_id``: the id its replies carry, when it asked for one; ``order_tag``: for a cancel, the tag of the
    create whose order it cancels; ``body``: the exact wire body (how a dead letter is identified); ``source``: its
    CloudEvents ``source``; ``total``: for a create, the order total its reply must state; ``failure_code``: for a
    poison request that must be answered, the code of its failure reply (None: no reply is due).
    """

    tag: int
    shard: str
    kind: str
    message_id: str
    correlation_id: str | None = None
    order_tag: int | None = None
    body: str | None = None
    source: str | None = None
    total: str | None = None
    failure_code: str | None = None


@dataclass(frozen=True)
class Effect:
    """A state write that took effect. ``key`` identifies what was written (a command tag for orders, an order id for
    the subscribers); ``shard`` is the customer."""

    seq: int
    service: str
    kind: str
    key: str
    shard: str
    function: str


@dataclass(frozen=True)
class Delivery:
    """One SQS record handed to a function: the queue, the SQS message id, the body."""

    queue_arn: str
    message_id: str
    body: str


@dataclass
class History:
    """Thread-safe record of sends and effects. ``tables`` maps a state table name to its service."""

    tables: Mapping[str, str]
    sent: list[Sent] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    published: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: int = 0

    def record_sent(self, sent: Sent) -> None:
        with self._lock:
            self.sent.append(sent)

    def record_delivery(self, queue_arn: str, message_id: str, body: str) -> None:
        """A record a queue's event source mapping handed to its function (a retry of the same SQS message too)."""
        with self._lock:
            self.deliveries.append(Delivery(queue_arn, message_id, body))

    def record_call(self, function: str, service: str, operation: str, params: dict[str, Any]) -> None:
        """What :class:`chaos.faults.FaultInjector` reports for every call that took effect."""
        if service == "sns" and operation in ("Publish", "PublishBatch"):
            entries = params.get("PublishBatchRequestEntries") or [params]
            with self._lock:
                self.published.extend(
                    {"Message": e.get("Message"), "GroupId": e.get("MessageGroupId")} for e in entries
                )
            return
        if service != "dynamodb":
            return
        for table, item in writes_of(operation, params):
            owner = self.tables.get(table)
            if owner is None:
                continue
            effect = _effect_of(owner, item)
            if effect is None:
                continue
            kind, key, shard = effect
            with self._lock:
                self._seq += 1
                self.effects.append(Effect(self._seq, owner, kind, key, shard, function))


def writes_of(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, what was written) of a write call; for an update, the key plus the values it set."""
    if operation == "PutItem":
        yield params["TableName"], params.get("Item", {})
    elif operation == "UpdateItem":
        yield params["TableName"], _updated(params)
    elif operation == "TransactWriteItems":
        for entry in params.get("TransactItems", []):
            if "Put" in entry:
                yield entry["Put"]["TableName"], entry["Put"].get("Item", {})
            elif "Update" in entry:
                yield entry["Update"]["TableName"], _updated(entry["Update"])
    elif operation == "BatchWriteItem":
        for table, requests in params.get("RequestItems", {}).items():
            for request in requests:
                if "PutRequest" in request:
                    yield table, request["PutRequest"].get("Item", {})


def _updated(update: dict[str, Any]) -> dict[str, Any]:
    """The key and the values of a ``SET`` update (conditions' values left out), as if it were an item."""
    names = update.get("ExpressionAttributeNames", {})
    values = update.get("ExpressionAttributeValues", {})
    item = dict(update.get("Key", {}))
    expression = update.get("UpdateExpression", "")
    set_part = expression.split("SET", 1)[-1] if "SET" in expression else ""
    for assignment in set_part.split(","):
        if "=" not in assignment:
            continue
        name, value = (part.strip() for part in assignment.split("=", 1))
        item[names.get(name, name)] = values.get(value, {})
    return item


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(_text(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return str(value)


def _string(item: dict[str, Any], name: str) -> str:
    value = item.get(name, {})
    return str(value.get("S", "")) if isinstance(value, dict) else ""


def _effect_of(service: str, item: dict[str, Any]) -> tuple[str, str, str] | None:
    """(kind, key, shard) of a write to a state table, or None for what is not a business effect."""
    pk, sk = _string(item, "pk"), _string(item, "sk")
    shard = pk.removeprefix("CUSTOMER#")
    if service == "orders" and sk.startswith("ORDER#"):
        status = _string(item, "status")
        if status == "cancelled":
            tag = TAG.search(_string(item, "cancel_reason"))
            return ("order_cancelled", tag.group(1) if tag else sk, shard)
        if status == "open":
            lines = _string(item, "lines")
            tag = TAG.search(lines) or TAG.search(_text(json.loads(lines) if lines else ""))
            return ("order_created", tag.group(1) if tag else sk, shard)
        return None
    if service == "billing" and "#" in sk:
        kind, order_id = sk.split("#", 1)
        return (kind.lower(), order_id, shard)
    if service == "notifications" and sk.startswith("NOTIFICATION#"):
        return ("notification", sk.removeprefix("NOTIFICATION#"), shard)
    return None


def duplicate_deliveries(deliveries: list[Delivery], queue_arn: str) -> int:
    """Copies a queue's consumer received: for each message identity (``source``, ``id``; the body when it is not a
    CloudEvent), the distinct SQS messages that carried it, beyond the first. A retry of one SQS message is not a copy.

    Example:
        >>> body = '{"source": "/c", "id": "m-1"}'
        >>> copies = [Delivery("q", "s-1", body), Delivery("q", "s-1", body), Delivery("q", "s-2", body)]
        >>> duplicate_deliveries(copies, "q")
        1
    """
    carriers: dict[tuple[str, str], set[str]] = {}
    for delivery in deliveries:
        if delivery.queue_arn != queue_arn:
            continue
        carriers.setdefault(_identity_of(delivery.body), set()).add(delivery.message_id)
    return sum(len(ids) - 1 for ids in carriers.values())


def _identity_of(body: str) -> tuple[str, str]:
    try:
        document = json.loads(body)
    except ValueError:
        return ("", body)
    if isinstance(document, dict) and isinstance(document.get("id"), str):
        return (str(document.get("source")), document["id"])
    return ("", body)
