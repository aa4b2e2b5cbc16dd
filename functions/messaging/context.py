"""What a handler gets besides its payload: :class:`MessageContext`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from messaging.claim_check import CHANNEL_LIMIT_BYTES, envelope_size
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope, Kind, name_based_id, trace_seed, utc_now
from messaging.errors import MessageTooLarge
from messaging.fifo import validate_partition_key
from messaging.tracecontext import continue_trace

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from pydantic import BaseModel

    from messaging.contracts import MessageType

_CODEC = CloudEventJsonCodec()


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message a handler sends to a queue once its outcome is committed (:meth:`MessageContext.send`): now, or at
    ``deliver_at`` through a one-shot schedule; ``cancel=True`` deletes the schedule of that message instead."""

    queue_url: str
    envelope: Envelope
    deliver_at: datetime | None = None
    cancel: bool = False
_EVENT_ID_NAMESPACE = uuid.UUID("0b5c7f4e-8f3a-4d0c-9a86-3f3f54d1c2aa")
_DERIVED_ID_NAMESPACE = uuid.UUID("3e0f2b7a-5c1d-4e8b-9f6a-7d2c4b1e0a93")


def emitted_event(
    type: str,
    data: Mapping[str, Any],
    *,
    request: Envelope,
    source: str,
    position: int,
    partitionkey: str | None,
    kind: Kind,
    catalogue: Mapping[str, MessageType],
    traceparent: str,
    time: datetime | None = None,
) -> Envelope:
    """The ``position``-th event emitted by ``source`` while handling ``request``: its id is derived from the
    request's identity and the position, its ``dataschema`` from the catalogue, so the same request and data give the
    same event (what :meth:`MessageContext.emit` sends and a replay of the stored outcome rebuilds)."""
    return Envelope(
        type=type,
        source=source,
        kind=kind,
        data=data,
        id=event_id(request, source, position),
        time=time or utc_now(),
        partitionkey=partitionkey,
        dataschema=declared.dataschema if (declared := catalogue.get(type)) is not None else None,
        traceparent=traceparent,
        tracestate=request.tracestate,
    )


def event_id(request: Envelope, source: str, position: int) -> str:
    """The id of the ``position``-th event ``source`` emits while handling ``request``."""
    return name_based_id(_EVENT_ID_NAMESPACE, f"{source}\n{request.source}\n{request.id}\n{position}")


def millisecond_now() -> datetime:
    """Now, to the millisecond (the ``time`` of what a message's run sends: the stored outcome keeps milliseconds)."""
    now = utc_now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class MessageContext:
    """What a handler gets besides its payload: the incoming envelope, the Lambda context, a logger, ``emit`` and
    ``derived_id``."""

    def __init__(
        self,
        envelope: Envelope,
        *,
        source: str,
        logger: Logger,
        lambda_context: LambdaContext | None = None,
        record: SQSRecord | None = None,
        traceparent: str | None = None,
        catalogue: Mapping[str, MessageType] | None = None,
    ) -> None:
        """``traceparent`` is the trace context of what the handler sends (default: the message's trace continued);
        ``catalogue`` gives the emitted events their ``dataschema``."""
        self.envelope = envelope
        self.traceparent = traceparent or continue_trace(envelope.traceparent, trace_seed(source, envelope))
        self._catalogue = catalogue or {}
        self.lambda_context = lambda_context
        self.logger = logger
        self.record = record
        self._source = source
        self.time = millisecond_now()
        """When the handling began: the ``time`` of the events it emits (and of all the message sends)."""
        self._emitted: list[Envelope] = []
        self._outgoing: list[Outgoing] = []
        self._reply_deferred = False

    def restart(self) -> None:
        """Forget what a run of the handler emitted, sent and deferred: the handler runs again (its commit lost to a
        concurrent write) and says it all anew. ``time`` stays: the events keep the time handling began."""
        self._emitted.clear()
        self._outgoing.clear()
        self._reply_deferred = False

    @property
    def emitted(self) -> tuple[Envelope, ...]:
        """The events emitted so far (published only after the commit)."""
        return tuple(self._emitted)

    def emit(
        self,
        type: str,
        data: Mapping[str, Any] | BaseModel | None = None,
        *,
        partitionkey: str | None = None,
        kind: Kind = Kind.EVENT,
    ) -> Envelope:
        """Emit an event, published to ``EVENT_TOPIC_ARN`` once the message's outcome is committed.

        The partition key defaults to the incoming message's; the event continues the message's trace
        (``traceparent``) and names its data version (``dataschema``) when the catalogue knows its type. The event
        id is derived from the incoming message's (``source``, ``id``) and the position of the event, so it is the
        same every time this message is handled.
        An event over the 256 KiB channel limit raises :class:`~messaging.errors.MessageTooLarge` here, before
        anything is committed (SNS would refuse it for good).
        """
        body = data.model_dump(mode="json") if hasattr(data, "model_dump") else dict(data or {})  # type: ignore[union-attr]
        key = partitionkey if partitionkey is not None else self.envelope.partitionkey
        validate_partition_key(key)
        emitted = emitted_event(
            type, body, request=self.envelope, source=self._source, position=len(self._emitted), partitionkey=key,
            kind=kind, catalogue=self._catalogue, traceparent=self.traceparent, time=self.time,
        )
        size = envelope_size(emitted, _CODEC)
        if size > CHANNEL_LIMIT_BYTES:
            raise MessageTooLarge(
                f"event {type!r} is {size:,} bytes, over the {CHANNEL_LIMIT_BYTES:,}-byte channel limit", field="event"
            )
        self._emitted.append(emitted)
        return emitted

    @property
    def source(self) -> str:
        """The consumer's own ``source`` (what it stamps on the messages it emits and sends)."""
        return self._source

    @property
    def outgoing(self) -> tuple[Outgoing, ...]:
        """The messages :meth:`send` staged (sent only after the commit)."""
        return tuple(self._outgoing)

    @property
    def reply_deferred(self) -> bool:
        """True once :meth:`defer_reply` was called: the command gets no reply from this run."""
        return self._reply_deferred

    def send(self, queue_url: str, envelope: Envelope, *, deliver_at: datetime | None = None) -> None:
        """Send ``envelope`` (built by the handler, with an id derived from what it is about, so a replay sends the
        same) to ``queue_url`` once the outcome is committed; with ``deliver_at`` through an EventBridge Scheduler
        one-shot schedule (:mod:`messaging.delayed`; the consumer needs ``SCHEDULE_GROUP_NAME`` and
        ``SCHEDULER_ROLE_ARN``). Over the channel limit raises :class:`~messaging.errors.MessageTooLarge` here."""
        validate_partition_key(envelope.partitionkey)
        size = envelope_size(envelope, _CODEC)
        if size > CHANNEL_LIMIT_BYTES:
            raise MessageTooLarge(
                f"{envelope.type!r} is {size:,} bytes, over the {CHANNEL_LIMIT_BYTES:,}-byte channel limit",
                field="send",
            )
        self._outgoing.append(Outgoing(queue_url, envelope, deliver_at))

    def cancel_scheduled(self, queue_url: str, envelope: Envelope) -> None:
        """Delete the schedule of an ``envelope`` sent earlier with ``deliver_at``, once the outcome is committed (no
        error if it has fired already)."""
        self._outgoing.append(Outgoing(queue_url, envelope, cancel=True))

    def defer_reply(self) -> None:
        """Send no reply to this command now: the handler (a saga) answers it later with a message of its own."""
        self._reply_deferred = True

    def derived_id(self, name: str) -> str:
        """An id derived from the incoming message's (``source``, ``id``) and ``name``: the same on every delivery.

        Use it for the keys of what a message creates (an order id), so a second run stages the very same item and
        the commit recognises it. A random id would make the retry create a second one.

        Example:
            >>> from messaging.envelope import command
            >>> cmd = command("orders.CreateOrder", {}, source="/web", partitionkey="c-1", id="m-1")
            >>> from aws_lambda_powertools import Logger
            >>> ctx = MessageContext(cmd, source="/orders", logger=Logger(service="doc"))
            >>> ctx.derived_id("order") == ctx.derived_id("order") != ctx.derived_id("invoice")
            True
        """
        seed = f"{self._source}\n{self.envelope.source}\n{self.envelope.id}\n{name}"
        return name_based_id(_DERIVED_ID_NAMESPACE, seed).replace("-", "")

    def remaining_time_in_millis(self) -> int | None:
        """Milliseconds left in this invocation, or ``None`` outside Lambda."""
        if self.lambda_context is None:
            return None
        return int(self.lambda_context.get_remaining_time_in_millis())
