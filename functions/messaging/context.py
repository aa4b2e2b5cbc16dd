"""What a handler gets besides its payload: :class:`MessageContext`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from messaging.claim_check import CHANNEL_LIMIT_BYTES, envelope_size
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope, Kind, trace_seed
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
_EVENT_ID_NAMESPACE = uuid.UUID("0b5c7f4e-8f3a-4d0c-9a86-3f3f54d1c2aa")
_DERIVED_ID_NAMESPACE = uuid.UUID("3e0f2b7a-5c1d-4e8b-9f6a-7d2c4b1e0a93")


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
        self._emitted: list[Envelope] = []

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
        seed = f"{self._source}\n{self.envelope.source}\n{self.envelope.id}\n{len(self._emitted)}"
        emitted = Envelope(
            type=type,
            source=self._source,
            kind=kind,
            data=body,
            id=str(uuid.uuid5(_EVENT_ID_NAMESPACE, seed)),
            partitionkey=key,
            dataschema=declared.dataschema if (declared := self._catalogue.get(type)) is not None else None,
            traceparent=self.traceparent,
            tracestate=self.envelope.tracestate,
        )
        size = envelope_size(emitted, _CODEC)
        if size > CHANNEL_LIMIT_BYTES:
            raise MessageTooLarge(
                f"event {type!r} is {size:,} bytes, over the {CHANNEL_LIMIT_BYTES:,}-byte channel limit", field="event"
            )
        self._emitted.append(emitted)
        return emitted

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
        return uuid.uuid5(_DERIVED_ID_NAMESPACE, seed).hex

    def remaining_time_in_millis(self) -> int | None:
        """Milliseconds left in this invocation, or ``None`` outside Lambda."""
        if self.lambda_context is None:
            return None
        return int(self.lambda_context.get_remaining_time_in_millis())
