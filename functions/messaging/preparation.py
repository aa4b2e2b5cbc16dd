"""A message as it will be sent, every argument checked: what :meth:`messaging.client.MessagingClient.prepare` and the
outbox producer (:mod:`messaging.producer`) both do before a message leaves, so that the two cannot drift.

- ``data`` must be a JSON object;
- with a ``catalogue`` (:class:`~messaging.contracts.Catalogue`) the type must be catalogued with this kind and
  ``data`` must read as its model, and the message names its data version (``dataschema``); a type the catalogue does
  not declare but whose shard key is registered (``shard_keys``, what ``make service`` adds) goes unchecked;
- a ``traceparent`` given must be W3C Trace Context; none given, the message starts a new trace;
- the ``partitionkey`` is the one given or the value of the type's declared shard-key field
  (:func:`partition_key_for`).

Every refusal is :class:`~messaging.errors.InvalidRequest` (the caller's mistake, nothing sent).

Example:
    >>> envelope = prepare_envelope(Kind.COMMAND, "orders.CreateOrder", {"customer_id": "c-42"}, source="/web",
    ...                             shard_keys={"orders.CreateOrder": "customer_id"})
    >>> envelope.partitionkey, envelope.traceparent is not None
    ('c-42', True)
    >>> prepare_envelope(Kind.COMMAND, "orders.CreateOrder", ["c-42"], source="/web", shard_keys={})
    Traceback (most recent call last):
    ...
    messaging.errors.InvalidRequest: data must be a JSON object (a mapping), not list
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from messaging.envelope import Envelope, Kind, message
from messaging.errors import InvalidMessage, InvalidRequest
from messaging.fifo import is_valid_fifo_id, shard_key_value
from messaging.tracecontext import is_valid, new_traceparent

if TYPE_CHECKING:
    from messaging.contracts import Catalogue

__all__ = ["invalid_request", "partition_key_for", "prepare_envelope", "shard_keys_with"]


def partition_key_for(
    type: str, data: Mapping[str, Any], partitionkey: str | None, shard_keys: Mapping[str, str]
) -> str:
    """The ``partitionkey`` a message of ``type`` goes with: the given one, or the value of the type's declared
    shard-key field; raises :class:`~messaging.errors.InvalidRequest` if there is none, it contradicts the declared
    field, or it cannot be a FIFO ``MessageGroupId``.

    Example:
        >>> shard_keys = {"orders.CreateOrder": "customer_id"}
        >>> partition_key_for("orders.CreateOrder", {"customer_id": "c-42"}, None, shard_keys)
        'c-42'
    """
    declared = shard_keys.get(type)
    expected = shard_key_value(data, declared) if declared else None
    if partitionkey is None:
        if declared is None:
            raise InvalidRequest(f"partitionkey is required: {type} declares no shard key to take it from")
        if expected is None:
            raise InvalidRequest(f"partitionkey not given and data.{declared} (the shard key of {type}) is missing")
        partitionkey = expected
    elif declared is not None and partitionkey != expected:
        raise InvalidRequest(f"partitionkey {partitionkey!r} is not data.{declared}, the shard key of {type}")
    if not is_valid_fifo_id(partitionkey):
        raise InvalidRequest("partitionkey must be 1-128 letters, digits and ASCII punctuation")
    return partitionkey


def shard_keys_with(catalogue: Catalogue | None, shard_keys: Mapping[str, str] | None) -> dict[str, str]:
    """The shard keys a sender uses: the catalogue's, and ``shard_keys`` over them (types the catalogue lacks)."""
    return {**(catalogue.shard_keys if catalogue is not None else {}), **dict(shard_keys or {})}


def invalid_request(error: InvalidMessage) -> InvalidRequest:
    """A message the envelope or codec refused, as the sender's :class:`~messaging.errors.InvalidRequest`."""
    return InvalidRequest(f"{error.field or 'message'}: {error.reason}")


def prepare_envelope(
    kind: Kind,
    type: str,
    data: Mapping[str, Any] | None,
    *,
    source: str,
    shard_keys: Mapping[str, str],
    catalogue: Catalogue | None = None,
    partitionkey: str | None = None,
    replyto: str | None = None,
    id: str | None = None,
    traceparent: str | None = None,
) -> Envelope:
    """The envelope of a message of ``kind`` and ``type`` from ``source``, every argument checked (see the module
    docstring); ``id`` None gives a new one. Raises :class:`~messaging.errors.InvalidRequest`."""
    if data is not None and not isinstance(data, Mapping):
        raise InvalidRequest(f"data must be a JSON object (a mapping), not {data.__class__.__name__}")
    body = dict(data or {})
    try:
        json.dumps(body)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"data is not JSON-serializable: {exc}") from exc
    keys = shard_keys_with(catalogue, shard_keys)
    dataschema = None
    if catalogue is not None and (type in catalogue or type not in keys):
        dataschema = catalogue.check(kind, type, body).dataschema
    if traceparent is not None and not is_valid(traceparent):
        raise InvalidRequest("traceparent must be 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags> (W3C)")
    key = partition_key_for(type, body, partitionkey, keys)
    try:
        return message(kind, type, body, source=source, partitionkey=key, replyto=replyto, id=id,
                       dataschema=dataschema, traceparent=traceparent or new_traceparent())
    except InvalidMessage as exc:
        raise invalid_request(exc) from exc
