"""The message envelope: a CloudEvent 1.0 with the extensions of the wire contract.

An :class:`Envelope` is what services exchange. It is frozen; the codec
(:mod:`messaging.codec`) turns it into the JSON wire form and back.

Example:
    >>> cmd = command("orders.CreateOrder", {"sku": "book"}, source="/web/checkout", partitionkey="customer-42")
    >>> cmd.kind
    <Kind.COMMAND: 'command'>
    >>> reply = reply_to(cmd, ReplyOutcome.success({"order_id": "o-1"}), source="/orders/service")
    >>> reply.correlationid == cmd.id
    True
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from messaging.tracecontext import continue_trace

SCHEMA_VERSION = "1"
"""Version of this project's wire contract, carried in the ``schemaversion`` extension of every message."""

_REPLY_NAMESPACE = uuid.UUID("6f1c1f0e-3d55-4a1e-9a57-2b9b8d6a0c11")


class Kind(StrEnum):
    """What a message body is (the ``kind`` extension)."""

    COMMAND = "command"
    EVENT = "event"
    DOCUMENT = "document"
    REPLY = "reply"


def new_message_id() -> str:
    """A fresh, unique message id."""
    return str(uuid.uuid4())


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message: header attributes plus a JSON object body (``data``).

    ``partitionkey`` becomes the FIFO ``MessageGroupId``; ``replyto`` is the return address of a request;
    ``correlationid`` is the id of the request a reply answers; ``dataref`` (CloudEvents dataref extension) points to
    ``data`` kept elsewhere (a claim check, :mod:`messaging.claim_check`) and is set only when ``data`` is not.
    ``dataschema`` names the type and version of ``data`` (:mod:`messaging.contracts`); ``traceparent`` and
    ``tracestate`` are the W3C trace context (CloudEvents distributed tracing extension, :mod:`messaging.tracecontext`).
    ``extensions`` keeps any other CloudEvents extension attribute so that a message passes through unchanged.
    """

    type: str
    source: str
    kind: Kind
    data: Mapping[str, Any] | None = None
    id: str = field(default_factory=new_message_id)
    time: datetime = field(default_factory=utc_now)
    partitionkey: str | None = None
    replyto: str | None = None
    correlationid: str | None = None
    subject: str | None = None
    datacontenttype: str = "application/json"
    dataref: str | None = None
    extensions: Mapping[str, str] = field(default_factory=dict)
    dataschema: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None

    @property
    def dedup_key(self) -> tuple[str, str]:
        """The identity of a message across redeliveries: (``source``, ``id``)."""
        return (self.source, self.id)


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """The outcome a reply carries: success with a result, or failure with a code and a message.

    Wire form (the reply's ``data``): ``{"outcome": "success", "result": {...}}`` or
    ``{"outcome": "failure", "error": {"code": "...", "message": "..."}}``.
    """

    ok: bool
    result: Mapping[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None

    @classmethod
    def success(cls, result: Mapping[str, Any] | None = None) -> ReplyOutcome:
        return cls(ok=True, result=dict(result or {}))

    @classmethod
    def failure(cls, code: str, message: str) -> ReplyOutcome:
        return cls(ok=False, error_code=code, error_message=message)

    def to_data(self) -> dict[str, Any]:
        if self.ok:
            return {"outcome": "success", "result": dict(self.result or {})}
        return {"outcome": "failure", "error": {"code": self.error_code, "message": self.error_message}}

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> ReplyOutcome:
        """Read the outcome of a reply's ``data``; raises :class:`ValueError` if it is not one."""
        if not isinstance(data, Mapping):
            raise ValueError("reply data must be an object")
        outcome = data.get("outcome")
        if outcome == "success":
            result = data.get("result") or {}
            if not isinstance(result, Mapping):
                raise ValueError("reply result must be an object")
            return cls.success(result)
        if outcome == "failure":
            error = data.get("error")
            if not isinstance(error, Mapping) or not isinstance(error.get("code"), str):
                raise ValueError("failure reply needs error.code and error.message")
            return cls.failure(error["code"], str(error.get("message", "")))
        raise ValueError(f"reply outcome must be 'success' or 'failure', not {outcome!r}")


def message(
    kind: Kind,
    type: str,
    data: Mapping[str, Any] | None,
    *,
    source: str,
    partitionkey: str,
    replyto: str | None = None,
    id: str | None = None,
    dataschema: str | None = None,
    traceparent: str | None = None,
) -> Envelope:
    """A message of any ``kind`` with a fresh id unless ``id`` is given; :func:`command`, :func:`event` and
    :func:`document` are its kind-specific forms."""
    return Envelope(
        type=type,
        source=source,
        kind=kind,
        data=dict(data or {}),
        id=id or new_message_id(),
        partitionkey=partitionkey,
        replyto=replyto,
        dataschema=dataschema,
        traceparent=traceparent,
    )


def command(
    type: str,
    data: Mapping[str, Any] | None,
    *,
    source: str,
    partitionkey: str,
    replyto: str | None = None,
    id: str | None = None,
) -> Envelope:
    """A command: asks one service to do something; with ``replyto`` it expects a reply there."""
    return message(Kind.COMMAND, type, data, source=source, partitionkey=partitionkey, replyto=replyto, id=id)


def event(
    type: str, data: Mapping[str, Any] | None, *, source: str, partitionkey: str, id: str | None = None
) -> Envelope:
    """An event: tells subscribers that something happened."""
    return message(Kind.EVENT, type, data, source=source, partitionkey=partitionkey, id=id)


def document(
    type: str,
    data: Mapping[str, Any] | None,
    *,
    source: str,
    partitionkey: str,
    replyto: str | None = None,
    id: str | None = None,
) -> Envelope:
    """A document: carries data only, the receiver decides what to do with it."""
    return message(Kind.DOCUMENT, type, data, source=source, partitionkey=partitionkey, replyto=replyto, id=id)


def name_based_id(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))``, built from the digest directly (a consumer derives three per message).

    Example:
        >>> name_based_id(uuid.NAMESPACE_URL, "/orders") == str(uuid.uuid5(uuid.NAMESPACE_URL, "/orders"))
        True
    """
    digest = bytearray(hashlib.sha1(namespace.bytes + name.encode("utf-8"), usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def reply_id_for(request: Envelope) -> str:
    """The id of the reply to ``request``: deterministic, so a redelivered request yields the same reply id."""
    return name_based_id(_REPLY_NAMESPACE, f"{request.source}\n{request.id}")


def reply_type_for(request_type: str) -> str:
    """The ``type`` of the reply to a request of ``request_type``.

    Example:
        >>> reply_type_for("orders.CreateOrder")
        'orders.CreateOrder.Reply'
    """
    return f"{request_type}.Reply"


def reply_to(
    request: Envelope,
    outcome: ReplyOutcome,
    *,
    source: str,
    traceparent: str | None = None,
    time: datetime | None = None,
) -> Envelope:
    """The reply to ``request``: ``kind=reply``, ``correlationid`` = the request id, the request's partition key, the
    request's trace continued (:func:`messaging.tracecontext.continue_trace`; ``traceparent``: that continuation, when
    the caller has it already), stamped ``time`` (default now).

    Several responders may answer one request (scatter-gather): each reply has the responder's own ``source``, so the
    (``source``, ``id``) identity of the replies differs while each one is stable across redeliveries.
    """
    return Envelope(
        type=reply_type_for(request.type),
        source=source,
        kind=Kind.REPLY,
        data=outcome.to_data(),
        id=reply_id_for(request),
        time=time or utc_now(),
        partitionkey=request.partitionkey or request.id,
        correlationid=request.id,
        traceparent=traceparent or continue_trace(request.traceparent, trace_seed(source, request)),
        tracestate=request.tracestate,
    )


def trace_seed(source: str, request: Envelope) -> str:
    """What the parent id of the messages ``source`` sends while handling ``request`` derives from."""
    return f"{source}\n{request.source}\n{request.id}"
