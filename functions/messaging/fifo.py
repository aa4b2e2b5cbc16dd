"""FIFO identity of a message: ``MessageGroupId`` from ``partitionkey``, ``MessageDeduplicationId`` from source + id.

Example:
    >>> from messaging.envelope import event
    >>> evt = event("orders.OrderCreated", {}, source="/orders", partitionkey="customer-42", id="e-1")
    >>> message_group_id(evt)
    'customer-42'
    >>> deduplication_id(evt) == deduplication_id(evt)
    True
    >>> len(deduplication_id(evt))
    64
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from messaging.envelope import Envelope
from messaging.errors import InvalidAttribute, MissingPartitionKey, PartitionKeyMismatch

MAX_GROUP_ID_LENGTH = 128
# SQS and SNS accept alphanumerics and punctuation (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~) in group and dedup ids.
_FIFO_ID = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")


def is_valid_fifo_id(value: str) -> bool:
    """True if ``value`` is acceptable as a ``MessageGroupId`` or ``MessageDeduplicationId``."""
    return bool(_FIFO_ID.match(value))


def validate_partition_key(partitionkey: str | None) -> str:
    """Return ``partitionkey`` if it can be a ``MessageGroupId``; raise a typed error naming the field otherwise."""
    if partitionkey is None or partitionkey == "":
        raise MissingPartitionKey()
    if not is_valid_fifo_id(partitionkey):
        raise InvalidAttribute(
            "partitionkey must be 1-128 characters of letters, digits and ASCII punctuation", field="partitionkey"
        )
    return partitionkey


def shard_key_value(data: Mapping[str, Any] | None, shard_key: str) -> str | None:
    """The value of the declared shard-key field in ``data``, if it is a string (what ``partitionkey`` must be).

    Example:
        >>> shard_key_value({"customer_id": "c-1"}, "customer_id")
        'c-1'
    """
    value = (data or {}).get(shard_key)
    return value if isinstance(value, str) else None


def check_shard_key(envelope: Envelope, shard_key: str) -> None:
    """Raise :class:`~messaging.errors.PartitionKeyMismatch` unless ``partitionkey`` equals ``data[shard_key]``.

    Two messages of one shard (one customer) in two message groups could be processed at once and out of order, so
    a message type that declares its shard key accepts no other partition key.

    Example:
        >>> from messaging.envelope import command
        >>> check_shard_key(command("t", {"customer_id": "c-2"}, source="/s", partitionkey="c-1"), "customer_id")
        Traceback (most recent call last):
        ...
        messaging.errors.PartitionKeyMismatch: partitionkey must equal data.customer_id, the declared shard key
    """
    if envelope.partitionkey is None or envelope.partitionkey != shard_key_value(envelope.data, shard_key):
        raise PartitionKeyMismatch(shard_key)


def message_group_id(envelope: Envelope) -> str:
    """The FIFO ``MessageGroupId`` of ``envelope``: its ``partitionkey`` (the shard key)."""
    return validate_partition_key(envelope.partitionkey)


def deduplication_id(envelope: Envelope) -> str:
    """The FIFO ``MessageDeduplicationId``: SHA-256 hex (64 chars) of ``source`` and ``id``, so a resend of the same
    message, by anyone, is recognised as a duplicate."""
    return dedup_id_of(envelope.source, envelope.id)


def dedup_id_of(source: str, message_id: str) -> str:
    return hashlib.sha256(f"{source}\n{message_id}".encode()).hexdigest()
