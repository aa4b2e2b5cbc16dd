"""Consumer dispatch for Lambda SQS (FIFO) events: decode, route, validate, run idempotently, publish, reply.

A service registers one handler per message type and hands each Lambda event to :meth:`MessageConsumer.handle`::

    consumer = MessageConsumer(service="orders")

    @consumer.command("orders.CreateOrder", model=CreateOrder)
    def create_order(cmd: CreateOrder, ctx: MessageContext) -> dict[str, Any]:
        ctx.emit("orders.OrderCreated", {"order_id": "o-1"})
        return {"order_id": "o-1"}

    def lambda_handler(event, context):
        return consumer.handle(event, context)

Each record goes: decode -> route by (``kind``, ``type``) -> ``partitionkey`` check -> ``replyto`` allowlist check ->
payload model -> handler, run through Powertools idempotency keyed on (``source``, ``id``) -> publish the emitted
events -> send the reply (commands with ``replyto``). Records are processed with Powertools
``SqsFifoPartialProcessor(skip_group_on_error=True)``: a failing record stops only its own message group.

Failure policy: a :class:`~messaging.errors.PermanentMessageError` sends the message to ``DEAD_LETTER_QUEUE_URL`` at
once (same body and group, reason in message attributes), answers a command that has an allowed ``replyto`` with a
failure reply, and reports the record handled. Anything else fails the record; SQS retries it. A
:class:`~messaging.errors.CommandRejected` is a business outcome: a failure reply, the message is handled.

Seam for a unit of work (transactional outbox). A handler does not perform its messaging effects: ``ctx.emit`` and the
return value are collected by ``_Execution`` into one JSON result (outcome, reply, events), which Powertools stores as
the idempotency record; publishing and replying happen afterwards from that result, so a redelivery replays them
unchanged. ``MessageConsumer._execute`` is the single place where "run the handler, then record that it ran" happens.
A unit of work replaces that step: the handler stages its business writes, and one DynamoDB ``TransactWriteItems``
commits them together with the dedup record (holding the result) and the events as outbox items; the publish step
then moves to a stream-driven outbox publisher. Handlers and the wire contract do not change.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel, ValidationError

from messaging.aws import LazyClient
from messaging.channels import EventPublisher, QueueSender, TopicPublisher
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope, Kind, ReplyOutcome, reply_to
from messaging.errors import (
    CommandRejected,
    ConfigurationError,
    MessageIdConflict,
    PayloadValidationError,
    PermanentMessageError,
    ReplyToNotAllowed,
    UnknownMessageType,
)
from messaging.fifo import dedup_id_of, is_valid_fifo_id, validate_partition_key
from messaging.settings import ConsumerSettings

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sqs.client import SQSClient

__all__ = ["MessageConsumer", "MessageContext", "MessageHandler"]

MessageHandler = Callable[[Any, "MessageContext"], Any]
"""A handler: ``(payload, ctx) -> result``; the payload is the model instance, or the ``data`` dict without a model."""

_HandlerT = TypeVar("_HandlerT", bound=MessageHandler)

_EVENT_ID_NAMESPACE = uuid.UUID("0b5c7f4e-8f3a-4d0c-9a86-3f3f54d1c2aa")
_LOG_KEYS = ("cloudevent_id", "cloudevent_type", "partitionkey", "correlationid")
_MAX_ATTRIBUTE_CHARS = 1024

# Metric names (namespace FifoMessaging, dimension service).
MESSAGES_PROCESSED = "MessagesProcessed"
MESSAGES_DEAD_LETTERED = "MessagesDeadLettered"
MESSAGES_RETRIED = "MessagesRetried"
DUPLICATE_DELIVERIES = "DuplicateDeliveries"
REPLIES_SENT = "RepliesSent"


@dataclass(frozen=True, slots=True)
class _Route:
    kind: Kind
    type_name: str | None  # None: any type of this kind (the reply router)
    handler: MessageHandler
    model: type[BaseModel] | None
    idempotent: bool


class MessageContext:
    """What a handler gets besides its payload: the incoming envelope, the Lambda context, a logger, and ``emit``."""

    def __init__(
        self,
        envelope: Envelope,
        *,
        source: str,
        logger: Logger,
        lambda_context: LambdaContext | None = None,
        record: SQSRecord | None = None,
    ) -> None:
        self.envelope = envelope
        self.lambda_context = lambda_context
        self.logger = logger
        self.record = record
        self._source = source
        self._emitted: list[Envelope] = []

    @property
    def emitted(self) -> tuple[Envelope, ...]:
        """The events emitted so far (published only after the handler succeeded)."""
        return tuple(self._emitted)

    def emit(
        self,
        type: str,
        data: Mapping[str, Any] | BaseModel | None = None,
        *,
        partitionkey: str | None = None,
        kind: Kind = Kind.EVENT,
    ) -> Envelope:
        """Emit an event, published to ``EVENT_TOPIC_ARN`` once the handler has succeeded.

        The partition key defaults to the incoming message's. The event id is derived from the incoming message's
        (``source``, ``id``) and the position of the event, so it is the same every time this message is handled.
        """
        body = data.model_dump(mode="json") if isinstance(data, BaseModel) else dict(data or {})
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
        )
        self._emitted.append(emitted)
        return emitted

    def remaining_time_in_millis(self) -> int | None:
        """Milliseconds left in this invocation, or ``None`` outside Lambda."""
        if self.lambda_context is None:
            return None
        return int(self.lambda_context.get_remaining_time_in_millis())


class _Execution:
    """Runs one handler once and captures its effects as a JSON-serialisable result.

    The result is what the idempotency record stores: ``outcome`` (reply data of a command, or None), ``reply``
    (the reply envelope as CloudEvents JSON, or None) and ``events`` (each emitted event as CloudEvents JSON).
    """

    def __init__(self, consumer: MessageConsumer, route: _Route, payload: Any, ctx: MessageContext) -> None:
        self.consumer = consumer
        self.route = route
        self.payload = payload
        self.ctx = ctx
        self.ran = False

    def __call__(self) -> dict[str, Any]:
        self.ran = True
        request = self.ctx.envelope
        try:
            returned = self.route.handler(self.payload, self.ctx)
        except CommandRejected as rejected:
            if request.kind is not Kind.COMMAND:
                raise
            self.ctx.logger.info("command rejected", extra={"code": rejected.code, "reason": rejected.message})
            failure = ReplyOutcome.failure(rejected.code, rejected.message)
            return self.consumer._result(request, failure, events=())  # a rejection has no effects
        outcome = ReplyOutcome.success(_as_result(returned)) if request.kind is Kind.COMMAND else None
        return self.consumer._result(request, outcome, events=self.ctx.emitted)


def _run_execution(*, message: dict[str, Any], execution: _Execution) -> dict[str, Any]:
    """The function Powertools makes idempotent; ``message`` holds the key (source, id) and the checked payload."""
    del message  # only the idempotency layer reads it
    return execution()


def _as_result(returned: Any) -> dict[str, Any]:
    if returned is None:
        return {}
    if isinstance(returned, BaseModel):
        return dict(returned.model_dump(mode="json"))
    if isinstance(returned, Mapping):
        return dict(returned)
    raise TypeError(f"a command handler must return a mapping, a pydantic model or None, not {type(returned).__name__}")


@dataclass(slots=True)
class _Invocation:
    """Per-invocation state: the Lambda context, the idempotent runner (built on first use) and metric counts."""

    context: LambdaContext | None
    build_runner: Callable[[LambdaContext | None], Callable[..., dict[str, Any]]]
    counts: Counter[str] = field(default_factory=Counter)
    _runner: Callable[..., dict[str, Any]] | None = None

    def idempotent(self, **kwargs: Any) -> dict[str, Any]:
        if self._runner is None:
            self._runner = self.build_runner(self.context)
        return self._runner(**kwargs)


class MessageConsumer:
    """Routes the records of a Lambda SQS event to registered handlers; see the module docstring.

    Nothing is read from the environment and no client is created until the first :meth:`handle` call.

    Example:
        >>> consumer = MessageConsumer(service="orders", settings=ConsumerSettings())
        >>> @consumer.event("orders.OrderCreated")
        ... def on_created(data, ctx):
        ...     return None
        >>> consumer.source
        '/orders'
        >>> consumer.handle({"Records": []}, None)
        {'batchItemFailures': []}
    """

    def __init__(
        self,
        service: str,
        *,
        source: str | Callable[[], str] | None = None,
        settings: ConsumerSettings | None = None,
        sqs_client: SQSClient | None = None,
        sns_client: SNSClient | None = None,
        dynamodb_client: DynamoDBClient | None = None,
        persistence_store: BasePersistenceLayer | None = None,
        event_publisher: EventPublisher | None = None,
        logger: Logger | None = None,
        tracer: Tracer | None = None,
        codec: CloudEventJsonCodec | None = None,
    ) -> None:
        self.service = service
        self._source = source or f"/{service}"
        self._settings = settings
        self._sqs: LazyClient[SQSClient] = LazyClient("sqs", sqs_client)
        self._sns: LazyClient[SNSClient] = LazyClient("sns", sns_client)
        self._dynamodb_client = dynamodb_client
        self._persistence_store = persistence_store
        self._event_publisher = event_publisher
        self._logger = logger
        self._tracer = tracer
        self._codec = codec or CloudEventJsonCodec()
        self._routes: dict[tuple[Kind, str | None], _Route] = {}
        self._lock = threading.RLock()

    # -- registration -------------------------------------------------------------------------------------------

    def command(
        self, type: str, *, model: type[BaseModel] | None = None, idempotent: bool = True
    ) -> Callable[[_HandlerT], _HandlerT]:
        """Register the handler of command ``type``; its return value is the success reply's ``result``."""
        return self._register(Kind.COMMAND, type, model, idempotent)

    def event(
        self, type: str, *, model: type[BaseModel] | None = None, idempotent: bool = True
    ) -> Callable[[_HandlerT], _HandlerT]:
        """Register the handler of event ``type``; its return value is ignored."""
        return self._register(Kind.EVENT, type, model, idempotent)

    def document(
        self, type: str, *, model: type[BaseModel] | None = None, idempotent: bool = True
    ) -> Callable[[_HandlerT], _HandlerT]:
        """Register the handler of document ``type``; its return value is ignored."""
        return self._register(Kind.DOCUMENT, type, model, idempotent)

    def reply(
        self,
        type: str | None = None,
        *,
        model: type[BaseModel] | None = None,
        idempotent: bool = True,
    ) -> Callable[[_HandlerT], _HandlerT]:
        """Register the handler of replies of ``type``, or of every reply type when ``type`` is None."""
        return self._register(Kind.REPLY, type, model, idempotent)

    def _register(
        self, kind: Kind, type_: str | None, model: type[BaseModel] | None, idempotent: bool
    ) -> Callable[[_HandlerT], _HandlerT]:
        def decorator(handler: _HandlerT) -> _HandlerT:
            key = (kind, type_)
            if key in self._routes:
                raise ValueError(f"a handler for {kind.value} {type_ or '*'} is already registered")
            self._routes[key] = _Route(kind, type_, handler, model, idempotent)
            return handler

        return decorator

    # -- lazily created collaborators ---------------------------------------------------------------------------

    @property
    def source(self) -> str:
        """``source`` of the messages this consumer sends (replies, events); a callable is resolved on first use.

        Several functions answering the same request (scatter-gather responders) need distinct sources, because a
        reply's identity is (``source``, ``id``) and its id is derived from the request.
        """
        if callable(self._source):
            with self._lock:
                if callable(self._source):
                    self._source = self._source()
        return self._source

    @property
    def settings(self) -> ConsumerSettings:
        if self._settings is None:
            with self._lock:
                if self._settings is None:
                    self._settings = ConsumerSettings.from_env()
        return self._settings

    @property
    def logger(self) -> Logger:
        if self._logger is None:
            with self._lock:
                if self._logger is None:
                    self._logger = Logger(service=self.settings.service_name or self.service)
        return self._logger

    def _persistence(self) -> BasePersistenceLayer:
        if self._persistence_store is None:
            table = self.settings.idempotency_table_name
            if not table:
                raise ConfigurationError("IDEMPOTENCY_TABLE_NAME is not set: idempotent handlers need it")
            from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer  # noqa: PLC0415

            with self._lock:
                if self._persistence_store is None:
                    self._persistence_store = DynamoDBPersistenceLayer(
                        table_name=table, boto3_client=self._dynamodb_client
                    )
        return self._persistence_store

    def _publisher(self) -> EventPublisher:
        if self._event_publisher is None:
            topic = self.settings.event_topic_arn
            if not topic:
                raise ConfigurationError("EVENT_TOPIC_ARN is not set: the handler emitted events")
            with self._lock:
                if self._event_publisher is None:
                    self._event_publisher = TopicPublisher(topic, client=self._sns.get(), codec=self._codec)
        return self._event_publisher

    # -- the Lambda entry point ---------------------------------------------------------------------------------

    def handle(self, event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
        """Process a Lambda SQS event; return the partial batch response ``{"batchItemFailures": [...]}``."""
        if not event.get("Records"):
            return {"batchItemFailures": []}
        invocation = _Invocation(context=context, build_runner=self._idempotent_runner)
        processor = SqsFifoPartialProcessor(skip_group_on_error=True)
        processor.raise_on_entire_batch_failure = False  # report every record instead of failing the invocation

        def record_handler(record: SQSRecord) -> None:
            self._process_record(record, invocation)

        try:
            response = process_partial_response(
                event=dict(event), record_handler=record_handler, processor=processor, context=context
            )
        finally:
            self.logger.thread_safe_remove_keys(_LOG_KEYS)
        failures = response.get("batchItemFailures", [])
        invocation.counts[MESSAGES_RETRIED] += len(failures)
        self._flush_metrics(invocation.counts)
        return {"batchItemFailures": list(failures)}

    def _idempotent_runner(self, context: LambdaContext | None) -> Callable[..., dict[str, Any]]:
        # Imported on the first idempotent record, not with the handler module: the idempotency package imports boto3,
        # about half of a handler's cold import time.
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function  # noqa: PLC0415
        from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415
            IdempotencyValidationError,
        )

        # A config per invocation: register_lambda_context mutates it, and invocations may run in parallel threads.
        config = IdempotencyConfig(
            event_key_jmespath="[source, id]",
            payload_validation_jmespath="[type, data]",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=self.settings.idempotency_expiry_seconds,
        )
        if context is not None:
            config.register_lambda_context(context)
        run: Callable[..., dict[str, Any]] = idempotent_function(
            _run_execution, data_keyword_argument="message", persistence_store=self._persistence(), config=config
        )

        def runner(**kwargs: Any) -> dict[str, Any]:
            try:
                return run(**kwargs)
            except IdempotencyValidationError as exc:
                raise MessageIdConflict() from exc

        return runner

    def _flush_metrics(self, counts: Counter[str]) -> None:
        if not any(counts.values()):
            return
        metrics = EphemeralMetrics(namespace=self.settings.metrics_namespace, service=self.service)
        for name, value in sorted(counts.items()):
            if value:
                metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        metrics.flush_metrics()

    # -- one record ---------------------------------------------------------------------------------------------

    def _process_record(self, record: SQSRecord, invocation: _Invocation) -> None:
        logger = self.logger
        logger.thread_safe_remove_keys(_LOG_KEYS)
        with self._subsegment(record):
            envelope: Envelope | None = None
            try:
                envelope = self._codec.decode(record.body)
                logger.thread_safe_append_keys(
                    cloudevent_id=envelope.id,
                    cloudevent_type=envelope.type,
                    partitionkey=envelope.partitionkey,
                    correlationid=envelope.correlationid or envelope.id,
                )
                route = self._route(envelope)
                validate_partition_key(envelope.partitionkey)
                self._check_replyto(envelope)
                payload = self._payload(route, envelope)
                ctx = MessageContext(
                    envelope, source=self.source, logger=logger, lambda_context=invocation.context, record=record
                )
                result, duplicate = self._execute(route, payload, ctx, invocation)
            except PermanentMessageError as error:
                self._dead_letter(record, error, envelope, invocation)
                return
            except Exception:
                logger.exception("processing failed; SQS will retry", extra={"sqs_message_id": record.message_id})
                raise
            if duplicate:
                invocation.counts[DUPLICATE_DELIVERIES] += 1
                logger.info("duplicate delivery: replaying the stored outcome, the handler did not run")
            self._deliver(envelope, result, invocation)
            invocation.counts[MESSAGES_PROCESSED] += 1
            logger.info("message processed", extra={"kind": envelope.kind.value, "duplicate": duplicate})

    def _subsegment(self, record: SQSRecord) -> AbstractContextManager[Any]:
        if self._tracer is None:
            return nullcontext()
        return self._tracer.provider.in_subsegment(name=f"## message {record.message_id}")

    def _route(self, envelope: Envelope) -> _Route:
        route = self._routes.get((envelope.kind, envelope.type))
        if route is None and envelope.kind is Kind.REPLY:
            route = self._routes.get((Kind.REPLY, None))
        if route is None:
            raise UnknownMessageType(envelope.type, envelope.kind.value)
        return route

    def _check_replyto(self, envelope: Envelope) -> None:
        if envelope.replyto is not None and envelope.replyto not in self.settings.reply_to_allowlist:
            raise ReplyToNotAllowed(envelope.replyto)

    def _payload(self, route: _Route, envelope: Envelope) -> Any:
        data = dict(envelope.data or {})
        if route.model is None:
            return data
        try:
            return route.model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            location = ".".join(str(part) for part in first.get("loc", ()))
            field_name = f"data.{location}" if location else "data"
            reason = f"data does not match {route.model.__name__}: {field_name}: {first.get('msg', 'invalid')}"
            raise PayloadValidationError(reason, field=field_name) from exc

    def _execute(
        self, route: _Route, payload: Any, ctx: MessageContext, invocation: _Invocation
    ) -> tuple[dict[str, Any], bool]:
        """Run the handler at most once per (source, id) and return (result, duplicate). The unit-of-work seam."""
        execution = _Execution(self, route, payload, ctx)
        if not route.idempotent:
            return execution(), False
        envelope = ctx.envelope
        data = dict(envelope.data or {})
        message = {"source": envelope.source, "id": envelope.id, "type": envelope.type, "data": data}
        result = invocation.idempotent(message=message, execution=execution)
        return result, not execution.ran

    def _result(self, request: Envelope, outcome: ReplyOutcome | None, *, events: Sequence[Envelope]) -> dict[str, Any]:
        reply = None
        if outcome is not None and request.replyto is not None:
            reply = self._codec.encode(self._reply_envelope(request, outcome))
        return {
            "outcome": outcome.to_data() if outcome is not None else None,
            "reply": reply,
            "events": [self._codec.encode(evt) for evt in events],
        }

    def _reply_envelope(self, request: Envelope, outcome: ReplyOutcome) -> Envelope:
        reply = reply_to(request, outcome, source=self.source)
        if reply.partitionkey is None or not is_valid_fifo_id(reply.partitionkey):
            # The request's key (or id) cannot be a MessageGroupId: use a digest of its identity instead.
            return replace(reply, partitionkey=dedup_id_of(request.source, request.id))
        return reply

    def _deliver(self, request: Envelope, result: Mapping[str, Any], invocation: _Invocation) -> None:
        """Publish the result's events, then send its reply. Failures raise: the record is retried and replays both."""
        events = [self._codec.decode(raw) for raw in result.get("events") or []]
        if events:
            self._publisher().publish_batch(events).raise_for_failures()
            self.logger.info("events published", extra={"count": len(events)})
        raw_reply = result.get("reply")
        if raw_reply and request.replyto:
            reply = self._codec.decode(raw_reply)
            QueueSender(request.replyto, client=self._sqs.get(), codec=self._codec).send(reply)
            invocation.counts[REPLIES_SENT] += 1
            self.logger.info("reply sent", extra={"reply_id": reply.id, "outcome": (reply.data or {}).get("outcome")})

    def _dead_letter(
        self, record: SQSRecord, error: PermanentMessageError, envelope: Envelope | None, invocation: _Invocation
    ) -> None:
        """Move a poison message to the DLQ (and answer a command with an allowed replyto with a failure reply)."""
        url = self.settings.dead_letter_queue_url
        if not url:
            raise ConfigurationError("DEAD_LETTER_QUEUE_URL is not set: cannot dead-letter the message") from error
        attributes = {
            "failure-code": error.code,
            "failure-reason": error.reason[:_MAX_ATTRIBUTE_CHARS] or error.code,
            "source-queue": record.event_source_arn or "unknown",
            "source-message-id": record.message_id,
        }
        if error.field:
            attributes["failure-field"] = error.field
        params: dict[str, Any] = {
            "QueueUrl": url,
            "MessageBody": record.body,
            "MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        }
        if url.endswith(".fifo"):
            params["MessageGroupId"] = record.attributes.message_group_id or "dead-letter"
            params["MessageDeduplicationId"] = record.attributes.message_deduplication_id or dedup_id_of(
                record.event_source_arn or "", record.message_id
            )
        self._sqs.get().send_message(**params)
        invocation.counts[MESSAGES_DEAD_LETTERED] += 1
        self.logger.warning(
            "message moved to the dead-letter queue",
            extra={"failure_code": error.code, "failure_reason": error.reason, "failure_field": error.field},
        )
        if (
            envelope is not None
            and envelope.kind is Kind.COMMAND
            and envelope.replyto is not None
            and not isinstance(error, ReplyToNotAllowed)
            and envelope.replyto in self.settings.reply_to_allowlist
        ):
            reply = self._reply_envelope(envelope, ReplyOutcome.failure(error.code, error.reason))
            QueueSender(envelope.replyto, client=self._sqs.get(), codec=self._codec).send(reply)
            invocation.counts[REPLIES_SENT] += 1
            self.logger.info("failure reply sent", extra={"reply_id": reply.id, "code": error.code})
