"""AWS API calls counted from botocore, by who made them, with the request units a bill is made of.

Every call goes through ``BaseClient._make_api_call``; :func:`counting` wraps it for the whole process and files each
call under a role: ``function`` (a Lambda handler: the local cloud runs each invocation on a thread named
``lambda:<function>``), ``client`` (the producer or requester, only inside :meth:`CallCounter.as_client`), or
``poller`` (the local cloud's event-source mappings: what the Lambda service does on AWS). Each call also records
the units AWS bills it by (:func:`billed_units`): SQS and SNS requests per 64 KiB chunk of payload, DynamoDB write
request units per KiB of item (doubled in a transaction) and read request units per 4 KiB read.

Example:
    >>> billed_units("dynamodb", "TransactWriteItems",
    ...              {"TransactItems": [{"Put": {"Item": {"pk": {"S": "x" * 1500}}}}]}, {})
    {'dynamodb_wru': 4.0}
"""

from __future__ import annotations

import math
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.client

KIB = 1024
CHUNK = 64 * KIB
FUNCTION_THREAD_PREFIX = "lambda:"
POLLER_THREAD_PREFIX = "poller:"
SQS_BILLED_ONCE = (
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "GetQueueAttributes",
)


def attribute_size(name: str, value: Mapping[str, Any]) -> int:  # noqa: PLR0911 - one return per type
    """DynamoDB's item-size rule, near enough: the name's bytes plus the value's (numbers about one byte per two
    digits, lists and maps their elements plus 3 bytes)."""
    ((kind, inner),) = value.items()
    size = len(name.encode())
    if kind == "S":
        return size + len(str(inner).encode())
    if kind == "N":
        return size + len(str(inner)) // 2 + 1
    if kind == "B":
        return size + len(inner)
    if kind in ("SS", "NS", "BS"):
        return size + sum(len(str(v).encode()) for v in inner)
    if kind == "L":
        return size + 3 + sum(attribute_size("", v) for v in inner)
    if kind == "M":
        return size + 3 + sum(attribute_size(k, v) for k, v in inner.items())
    return size + 1  # BOOL, NULL


def item_size(item: Mapping[str, Any] | None) -> int:
    return sum(attribute_size(name, value) for name, value in (item or {}).items())


def _write_units(item: Mapping[str, Any] | None) -> float:
    return float(max(1, math.ceil(item_size(item) / KIB)))


def _read_units(items: list[Mapping[str, Any]], consistent: bool) -> float:
    units = max(1, math.ceil(sum(item_size(i) for i in items) / (4 * KIB)))
    return float(units if consistent else units / 2)


def _chunks(payload_bytes: int) -> float:
    return float(max(1, math.ceil(payload_bytes / CHUNK)))


def _sqs_units(operation: str, params: Mapping[str, Any]) -> dict[str, float]:
    if operation == "SendMessage":
        return {"sqs_requests": _chunks(len(params.get("MessageBody", "").encode()))}
    if operation == "SendMessageBatch":
        return {"sqs_requests": _chunks(sum(len(e.get("MessageBody", "").encode()) for e in params["Entries"]))}
    return {"sqs_requests": 1.0}


def _sns_units(operation: str, params: Mapping[str, Any]) -> dict[str, float]:
    if operation == "Publish":
        size = len(params.get("Message", "").encode())
    elif operation == "PublishBatch":
        size = sum(len(e.get("Message", "").encode()) for e in params["PublishBatchRequestEntries"])
    else:
        return {"sns_requests": 1.0}
    return {"sns_requests": _chunks(size), "sns_payload_bytes": float(size)}


def _dynamodb_units(  # noqa: PLR0911 - one return per operation
    operation: str, params: Mapping[str, Any], response: Mapping[str, Any]
) -> dict[str, float]:
    if operation == "PutItem":
        return {"dynamodb_wru": _write_units(params.get("Item"))}
    if operation in ("UpdateItem", "DeleteItem"):
        return {"dynamodb_wru": _write_units(response.get("Attributes") or params.get("Key"))}
    if operation == "TransactWriteItems":
        total = 0.0
        for entry in params["TransactItems"]:
            ((_, body),) = entry.items()
            total += 2 * _write_units(body.get("Item") or body.get("Key"))
        return {"dynamodb_wru": total}
    if operation == "GetItem":
        item = response.get("Item")
        return {"dynamodb_rru": _read_units([item] if item else [], bool(params.get("ConsistentRead")))}
    if operation in ("Query", "Scan"):
        return {"dynamodb_rru": _read_units(list(response.get("Items", [])), bool(params.get("ConsistentRead")))}
    if operation == "BatchGetItem":
        items = [i for rows in response.get("Responses", {}).values() for i in rows]
        return {"dynamodb_rru": _read_units(items, True)}
    return {}


def billed_units(
    service: str, operation: str, params: Mapping[str, Any], response: Mapping[str, Any]
) -> dict[str, float]:
    """The units one call is billed by (see the module docstring); ``{}`` for calls that are not billed per use."""
    if service == "sqs":
        return _sqs_units(operation, params)
    if service == "sns":
        return _sns_units(operation, params)
    if service == "dynamodb":
        return _dynamodb_units(operation, params, response)
    return {}


@dataclass
class CallCounter:
    """Calls by ``(role, "service:Operation")`` and billed units by ``(role, unit)`` since the last :meth:`reset`."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    units: defaultdict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    _client: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.units.clear()

    @contextmanager
    def as_client(self) -> Iterator[None]:
        """Count this thread's calls as the client's (the producer or requester)."""
        self._client.on = True
        try:
            yield
        finally:
            self._client.on = False

    def role(self) -> str | None:
        name = threading.current_thread().name
        if name.startswith(FUNCTION_THREAD_PREFIX):
            return "function"
        if name.startswith(POLLER_THREAD_PREFIX):
            return "poller"
        return "client" if getattr(self._client, "on", False) else None

    def record(self, service: str, operation: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> None:
        role = self.role()
        if role is None:
            return
        with self._lock:
            self.calls[(role, f"{service}:{operation}")] += 1
            for unit, amount in billed_units(service, operation, params, response).items():
                self.units[(role, unit)] += amount

    def by_operation(self, roles: tuple[str, ...] = ("client", "function")) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for (role, operation), count in self.calls.items():
            if role in roles:
                totals[operation] += count
        return dict(totals)

    def unit_totals(self, roles: tuple[str, ...] = ("client", "function")) -> dict[str, float]:
        totals: defaultdict[str, float] = defaultdict(float)
        for (role, unit), amount in self.units.items():
            if role in roles:
                totals[unit] += amount
        return dict(totals)


@contextmanager
def counting(counter: CallCounter) -> Iterator[CallCounter]:
    """Count every AWS API call made in this process into ``counter`` while the block runs."""
    client_class: Any = botocore.client.BaseClient
    original = client_class._make_api_call

    def counted(self: Any, operation_name: str, api_params: Any) -> Any:
        response: Any = {}
        try:
            response = original(self, operation_name, api_params)
            return response
        finally:  # a refused call (a lost condition, a throttle) is billed too
            counter.record(self.meta.service_model.service_name, operation_name, api_params, response)

    client_class._make_api_call = counted
    try:
        yield counter
    finally:
        client_class._make_api_call = original
