"""The units AWS bills one API call by, as :mod:`benchmarks.pricing` prices them.

- SQS: one request per call, a send or a batch send one per 64 KiB chunk of payload. A receive that returns no
  message is counted apart (``sqs_empty_receives``): the Lambda service's pollers long-poll an idle queue whether or
  not messages flow, so those requests are a standing cost per queue and hour, not a cost per message, and locally
  their number follows the wall-clock time of a run rather than its messages.
- SNS: one publish request per 64 KiB chunk, plus the payload's bytes; each delivery to a subscribed queue (the
  filter policy matched) is one delivered message with its bytes (:func:`sns_delivery_units`), and also one request
  into the receiving queue (``sqs_deliveries``, kept apart so the bill shows it).
- DynamoDB: a write is billed one write request unit per KiB of the *larger* of the item before and after it
  (``PutItem``, ``UpdateItem``), of the item removed (``DeleteItem``), of the item as stored when a condition fails
  (at least one unit); a transaction bills twice that per item; reads one unit per 4 KiB read (half when eventually
  consistent). The sizes before and after come from :class:`ItemSizes` (what the table holds, read without a
  counted call); without them, from the request (the item written, else the returned attributes, else the key).
- S3: ``PutObject``, ``CopyObject``, ``List*`` and ``CreateMultipartUpload`` / ``UploadPart`` are tier-1 requests,
  ``GetObject``, ``HeadObject`` and the rest tier 2; ``DeleteObject`` is free.

Example:
    >>> billed_units("dynamodb", "UpdateItem", {"TableName": "t", "Key": {"pk": {"S": "k"}}}, {},
    ...              sizes=ItemSizes(before=(2500,), after=(900,)))
    {'dynamodb_wru': 3.0}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

KIB = 1024
CHUNK = 64 * KIB
S3_FREE = frozenset({"DeleteObject", "DeleteObjects", "AbortMultipartUpload"})
S3_TIER1 = frozenset(
    {"PutObject", "CopyObject", "PostObject", "ListObjects", "ListObjectsV2", "ListObjectVersions", "ListBuckets",
     "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload"}
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
    """Bytes of an item in DynamoDB JSON (``{"pk": {"S": "x"}}``)."""
    return sum(attribute_size(name, value) for name, value in (item or {}).items())


class ItemLookup(Protocol):
    """What a table holds now, read without a billed call (the bench reads moto's backend)."""

    def stored_size(self, table: str, key_or_item: Mapping[str, Any]) -> int:
        """Bytes of the stored item with the key in ``key_or_item`` (its key attributes are picked out); 0 if none."""
        ...


@dataclass(frozen=True)
class ItemSizes:
    """Bytes of each item a write touches (in the order of :func:`write_targets`), before and after the call."""

    before: tuple[int, ...]
    after: tuple[int, ...]


def write_targets(operation: str, params: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """``(table, key or item)`` of every item a DynamoDB write touches, in request order (``[]`` for reads)."""
    if operation == "PutItem":
        return [(params.get("TableName", ""), params.get("Item", {}))]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(params.get("TableName", ""), params.get("Key", {}))]
    if operation == "TransactWriteItems":
        targets = []
        for entry in params.get("TransactItems", []):
            ((_, body),) = entry.items()
            targets.append((body.get("TableName", ""), body.get("Item") or body.get("Key") or {}))
        return targets
    if operation == "BatchWriteItem":
        return [
            (table, request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key") or {})
            for table, requests in params.get("RequestItems", {}).items()
            for request in requests
        ]
    return []


def sizes_of(lookup: ItemLookup, targets: Sequence[tuple[str, Mapping[str, Any]]]) -> tuple[int, ...]:
    return tuple(lookup.stored_size(table, key) for table, key in targets)


def _write_units(size: int) -> float:
    return float(max(1, math.ceil(size / KIB)))


def _read_units(items: list[Mapping[str, Any]], consistent: bool) -> float:
    units = max(1, math.ceil(sum(item_size(i) for i in items) / (4 * KIB)))
    return float(units if consistent else units / 2)


def _chunks(payload_bytes: int) -> float:
    return float(max(1, math.ceil(payload_bytes / CHUNK)))


def _sqs_units(operation: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> dict[str, float]:
    if operation == "SendMessage":
        return {"sqs_requests": _chunks(len(params.get("MessageBody", "").encode()))}
    if operation == "SendMessageBatch":
        return {"sqs_requests": _chunks(sum(len(e.get("MessageBody", "").encode()) for e in params["Entries"]))}
    if operation == "ReceiveMessage" and not response.get("Messages"):
        return {"sqs_empty_receives": 1.0}
    return {"sqs_requests": 1.0}


def _sns_units(operation: str, params: Mapping[str, Any]) -> dict[str, float]:
    if operation == "Publish":
        size = len(params.get("Message", "").encode())
    elif operation == "PublishBatch":
        size = sum(len(e.get("Message", "").encode()) for e in params["PublishBatchRequestEntries"])
    else:
        return {"sns_requests": 1.0}
    return {"sns_requests": _chunks(size), "sns_payload_bytes": float(size)}


def sns_delivery_units(message: str) -> dict[str, float]:
    """One SNS delivery of ``message`` to a subscribed SQS queue: the delivered message, its bytes, and the request
    it makes on the queue."""
    size = len(message.encode())
    return {"sns_deliveries": 1.0, "sns_delivered_bytes": float(size), "sqs_deliveries": _chunks(size)}


def _fallback_size(operation: str, target: Mapping[str, Any], response: Mapping[str, Any]) -> int:
    if operation == "UpdateItem" and response.get("Attributes"):
        return item_size(response["Attributes"])
    return item_size(target)


def _write_sizes(
    operation: str,
    targets: list[tuple[str, Mapping[str, Any]]],
    response: Mapping[str, Any],
    sizes: ItemSizes | None,
    failed: bool,
) -> list[int]:
    """The billed size of each target: the larger of before and after, or the stored item when the write failed."""
    billed = []
    for n, (_, target) in enumerate(targets):
        if sizes is None:
            billed.append(_fallback_size(operation, target, response))
            continue
        before = sizes.before[n]
        if failed or operation == "DeleteItem":
            billed.append(before)
        else:
            billed.append(max(before, sizes.after[n]))
    return billed


def _dynamodb_units(
    operation: str,
    params: Mapping[str, Any],
    response: Mapping[str, Any],
    sizes: ItemSizes | None,
    failed: bool,
) -> dict[str, float]:
    targets = write_targets(operation, params)
    if targets:
        billed = _write_sizes(operation, targets, response, sizes, failed)
        factor = 2.0 if operation == "TransactWriteItems" else 1.0
        return {"dynamodb_wru": factor * sum(_write_units(size) for size in billed)}
    if operation == "GetItem":
        item = response.get("Item")
        return {"dynamodb_rru": _read_units([item] if item else [], bool(params.get("ConsistentRead")))}
    if operation in ("Query", "Scan"):
        return {"dynamodb_rru": _read_units(list(response.get("Items", [])), bool(params.get("ConsistentRead")))}
    if operation == "BatchGetItem":
        items = [i for rows in response.get("Responses", {}).values() for i in rows]
        return {"dynamodb_rru": _read_units(items, True)}
    if operation == "TransactGetItems":
        items = [r["Item"] for r in response.get("Responses", []) if r.get("Item")]
        return {"dynamodb_rru": 2 * _read_units(items, True)}
    return {}


def _s3_units(operation: str) -> dict[str, float]:
    if operation in S3_FREE:
        return {}
    return {"s3_tier1_requests": 1.0} if operation in S3_TIER1 else {"s3_tier2_requests": 1.0}


def billed_units(
    service: str,
    operation: str,
    params: Mapping[str, Any],
    response: Mapping[str, Any],
    *,
    sizes: ItemSizes | None = None,
    failed: bool = False,
) -> dict[str, float]:
    """The units one call is billed by (see the module docstring); ``{}`` for calls that are not billed per use.
    ``sizes``: the DynamoDB items a write touched, before and after; ``failed``: the call was refused (a write whose
    condition failed is billed on the stored item)."""
    if service == "sqs":
        return _sqs_units(operation, params, response)
    if service == "sns":
        return _sns_units(operation, params)
    if service == "dynamodb":
        return _dynamodb_units(operation, params, response, sizes, failed)
    if service == "s3":
        return _s3_units(operation)
    return {}
