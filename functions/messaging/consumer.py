"""Consumer dispatch for Lambda SQS (FIFO) events: decode, route, validate, run, commit once, publish, reply.

A service registers one handler per message type and hands each Lambda event to :meth:`MessageConsumer.handle`::

    consumer = MessageConsumer(service="orders")

    @consumer.command("orders.CreateOrder", model=CreateOrder)
    def create_order(cmd: CreateOrder, ctx: MessageContext) -> dict[str, Any]:
        order = order_service().create(cmd, order_id=ctx.derived_id("order"))   # the repository stages the write
        ctx.emit("orders.OrderCreated", order.summary())
        return order.summary()

    def lambda_handler(event, context):
        return consumer.handle(event, context)

Each record goes: decode -> route by (``kind``, ``type``) -> ``partitionkey`` check -> ``replyto`` allowlist check ->
``dataref`` resolved (:mod:`claim check <messaging.claim_check>`) -> payload model (the tolerant reader, data versions
and upcasters of the type's catalogue entry, :mod:`messaging.contracts`) -> declared shard key check ->
handler inside a :mod:`unit of work <messaging.unit_of_work>` -> commit. Records are processed with Powertools
``SqsFifoPartialProcessor(skip_group_on_error=True)``: a failing record stops only its own message group. After the
batch's commits, what the records send (events, messages to queues, replies, dead letters) leaves in as few
``PublishBatch`` / ``SendMessageBatch`` calls as order allows (:mod:`messaging.delivery`); a record whose delivery
fails is reported in ``batchItemFailures`` with every later record of its group.

Effectively once. The handler performs no effect itself: its repositories stage writes, ``ctx.emit`` and the return
value are collected into one JSON outcome (reply and events). The commit is one conditional write of the staged state
together with the message's dedup record holding that outcome (:class:`~messaging.unit_of_work.Committer`). A second
run of the same (``source``, ``id``) - a redelivery, a crash after the commit, a timed-out run finishing late - loses
the condition and gets the stored outcome back, which it publishes and sends again with the same ids (so SNS/SQS
deduplicate the copies and downstream consumers recognise them). Events and the reply leave only after the commit
(:mod:`messaging.outbox` builds the compact stored outcome, rebuilds it for a replay and dead-letters poison
messages).
A run past its Lambda deadline does not commit (:class:`~messaging.errors.DeadlinePassed`, transient): the runtime
has given up on it and a retry may already hold the message, so the late run must not apply state behind its back.

Failure policy (:mod:`messaging.failures`): a :class:`~messaging.errors.PermanentMessageError` sends the message to
``DEAD_LETTER_QUEUE_URL`` at once (same body and group, reason in message attributes), answers a command that has an
allowed ``replyto`` with a failure reply (a stable code and a fixed message; the detail goes to the log), and reports
the record handled. So does a delivery that SNS/SQS refuse as the sender's fault. Anything else fails the record; SQS
retries it. A :class:`~messaging.errors.CommandRejected` is a business outcome: a failure reply, no effects, the
message is handled (and the rejection is committed, so a redelivery answers the same).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from messaging import failures
from messaging.aws import LazyClient
from messaging.channels import EventPublisher, QueueSender, TopicPublisher
from messaging.claim_check import ClaimCheck
from messaging.codec import CloudEventJsonCodec
from messaging.context import MessageContext
from messaging.contracts import MessageType
from messaging.delayed import DelayedDelivery
from messaging.delivery import BatchDelivery
from messaging.envelope import Envelope, Kind, trace_seed
from messaging.errors import (
    ConfigurationError,
    DataRefUnresolvable,
    PermanentMessageError,
    ReplyToNotAllowed,
    UnknownMessageType,
)
from messaging.execution import MESSAGES_PROCESSED, execute, hand_over
from messaging.fifo import check_shard_key, validate_partition_key
from messaging.logs import consumer_logger, message_keys
from messaging.outbox import MESSAGES_DEAD_LETTERED, REPLIES_SENT, Outbox, Outcome
from messaging.settings import ConsumerSettings, tracing_active
from messaging.tracecontext import continue_trace, trace_id_of
from messaging.unit_of_work import Committer, DynamoDbCommitter

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sqs.client import SQSClient
    from pydantic import BaseModel

__all__ = ["MessageConsumer", "MessageContext", "MessageHandler"]

MessageHandler = Callable[[Any, "MessageContext"], Any]
"""A handler: ``(payload, ctx) -> result``; the payload is the model instance, or the ``data`` dict without a model."""

_HandlerT = TypeVar("_HandlerT", bound=MessageHandler)

_LOG_KEYS = ("cloudevent_id", "cloudevent_type", "partitionkey", "correlationid", "trace_id", "sqs_message_id",
             "redrive_count")
"""Keys of every log line of a record: its CloudEvent identity, its W3C trace id, its SQS message id (``trace`` finds
a message by either id) and, for a message a redrive brought back, how many times it was redriven."""

# Metric names (namespace FifoMessaging, dimension service).
MESSAGES_RETRIED = "MessagesRetried"
DUPLICATE_DELIVERIES = "DuplicateDeliveries"
# MessagesDeadLettered and RepliesSent are counted by the outbox (messaging.outbox).
METRICS = (MESSAGES_PROCESSED, MESSAGES_DEAD_LETTERED, MESSAGES_RETRIED, DUPLICATE_DELIVERIES, REPLIES_SENT)
"""The custom metrics every consumer emits per batch (namespace ``POWERTOOLS_METRICS_NAMESPACE``, dimension
``service``); the Monitoring stack's dashboard reads each of them for each function."""


@dataclass(frozen=True, slots=True)
class _Route:
    kind: Kind
    type_name: str | None  # None: any type of this kind (the reply router)
    handler: MessageHandler
    model: type[BaseModel] | None
    idempotent: bool


@dataclass(slots=True)
class _Invocation:
    """Per-invocation state: the Lambda context, the batch's deliveries and metric counts."""

    context: LambdaContext | None
    delivery: BatchDelivery
    counts: Counter[str] = field(default_factory=Counter)


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

    _metrics_minute: int | None = None  # the minute of the last metrics line that held every counter

    def __init__(
        self,
        service: str,
        *,
        source: str | Callable[[], str] | None = None,
        settings: ConsumerSettings | None = None,
        sqs_client: SQSClient | None = None,
        sns_client: SNSClient | None = None,
        dynamodb_client: DynamoDBClient | None = None,
        committer: Committer | None = None,
        event_publisher: EventPublisher | None = None,
        logger: Logger | None = None,
        tracer: Tracer | None = None,
        codec: CloudEventJsonCodec | None = None,
        clock: Callable[[], float] = time.time,
        shard_keys: Mapping[str, str] | None = None,
        claim_check: ClaimCheck | None = None,
        s3_client: S3Client | None = None,
        catalogue: Mapping[str, MessageType] | None = None,
        tracing: bool = False,
        delayed: DelayedDelivery | None = None,
    ) -> None:
        """``shard_keys`` maps a message type to the ``data`` field its ``partitionkey`` must equal (a mismatch is
        ``partitionkey_mismatch``); ``claim_check`` resolves ``dataref`` (default: ``CLAIM_CHECK_BUCKET``);
        ``catalogue`` (:class:`~messaging.contracts.Catalogue`) gives each type its shard key, data version, upcasters
        and strictness, and the ``dataschema`` of the events the handlers emit; ``tracing=True`` creates a Powertools
        ``Tracer`` on the first message X-Ray records (unless ``tracer`` is given; :attr:`tracer`): each message gets
        an X-Ray subsegment annotated with the W3C ``trace_id`` it carries, so ``annotation.trace_id = "<id>"`` finds
        every function's part of one request;
        ``delayed`` schedules what handlers send with ``deliver_at`` (default: ``SCHEDULE_GROUP_NAME`` and
        ``SCHEDULER_ROLE_ARN``)."""
        self.service = service
        self._source = source or f"/{service}"
        self._settings = settings
        self._sqs: LazyClient[SQSClient] = LazyClient("sqs", sqs_client)
        self._sns: LazyClient[SNSClient] = LazyClient("sns", sns_client)
        self._dynamodb_client = dynamodb_client
        self._committer = committer
        self._event_publisher = event_publisher
        self._logger = logger
        self._tracer = tracer
        self._tracing = tracing
        self._codec = codec or CloudEventJsonCodec()
        self._clock = clock
        self._routes: dict[tuple[Kind, str | None], _Route] = {}
        self._lock = threading.RLock()
        self._catalogue: Mapping[str, MessageType] = catalogue or {}
        self._readers: dict[tuple[Kind, str], MessageType] = {}
        self._shard_keys = {
            **{name: t.shard_key for name, t in self._catalogue.items() if t.shard_key},
            **dict(shard_keys or {}),
        }
        self._claim_check = claim_check
        self._s3_client = s3_client
        self._delayed_delivery = delayed
        self._outbox = Outbox(
            self._codec,
            source=lambda: self.source,
            publisher=self._publisher,
            sqs=self._sqs.get,
            settings=lambda: self.settings,
            logger=lambda: self.logger,
            delayed=self._delayed,
        )

    # -- registration -------------------------------------------------------------------------------------------

    def command(
        self, type: str, *, model: type[BaseModel] | None = None, idempotent: bool = True
    ) -> Callable[[_HandlerT], _HandlerT]:
        """Register the handler of command ``type``; its return value is the success reply's ``result``.

        ``idempotent=False`` keeps no dedup record: only for handlers that stage nothing and answer the same every
        time (a pure function of the message, like a price quote).
        """
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
                    self._logger = consumer_logger(self.settings.service_name or self.service)
        return self._logger

    @property
    def committer(self) -> Committer:
        """Where a message's staged writes and dedup record are committed (DynamoDB unless injected)."""
        if self._committer is None:
            with self._lock:
                if self._committer is None:
                    self._committer = DynamoDbCommitter(
                        self.settings.idempotency_table_name, client=self._dynamodb_client, clock=self._clock
                    )
        return self._committer

    def _claims(self) -> ClaimCheck:
        if self._claim_check is None:
            bucket = self.settings.claim_check_bucket
            if not bucket:
                raise DataRefUnresolvable("this consumer has no claim-check bucket (CLAIM_CHECK_BUCKET is not set)")
            with self._lock:
                if self._claim_check is None:
                    self._claim_check = ClaimCheck(bucket, client=self._s3_client, codec=self._codec)
        return self._claim_check

    def _delayed(self) -> DelayedDelivery:
        if self._delayed_delivery is None:
            group, role = self.settings.schedule_group_name, self.settings.scheduler_role_arn
            if not group or not role:
                raise ConfigurationError("SCHEDULE_GROUP_NAME / SCHEDULER_ROLE_ARN are not set: a handler scheduled")
            with self._lock:
                if self._delayed_delivery is None:
                    self._delayed_delivery = DelayedDelivery(group, role, sqs_client=self._sqs.get(), codec=self._codec)
        return self._delayed_delivery

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
        delivery = BatchDelivery(
            publisher=self._publisher, queue=lambda url: QueueSender(url, client=self._sqs.get(), codec=self._codec)
        )
        invocation = _Invocation(context=context, delivery=delivery)
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
        failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
        failed.update(delivery.deliver())
        failures_ = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r.get("messageId") in failed]
        invocation.counts[MESSAGES_RETRIED] += len(failures_)
        self._flush_metrics(invocation.counts)
        return {"batchItemFailures": list(failures_)}

    def _flush_metrics(self, counts: Counter[str]) -> None:
        """One EMF line per batch with the counters of :data:`METRICS`, under the dimension ``service`` = the
        function's Powertools service name (what the dashboard and alarms read: ``quotes-economy``, not the handler
        module's ``quotes``). The first line of each minute (the dashboard's period) holds every counter, zeros
        included, so a minute the function ran shows 0, not a gap; the other lines only the counters their batch
        moved (a line is ingested, and billed, for every batch)."""
        if not any(counts.values()):
            return
        minute = int(time.time() // 60)  # the minute of the line's own timestamp (wall clock, as Powertools stamps it)
        every = minute != self._metrics_minute
        self._metrics_minute = minute
        service = self.settings.service_name or self.service
        metrics = EphemeralMetrics(namespace=self.settings.metrics_namespace, service=service)
        for name in METRICS:
            if every or counts.get(name):
                metrics.add_metric(name=name, unit=MetricUnit.Count, value=counts.get(name, 0))
        metrics.flush_metrics()

    # -- one record ---------------------------------------------------------------------------------------------

    def _process_record(self, record: SQSRecord, invocation: _Invocation) -> None:
        logger = self.logger
        logger.thread_safe_remove_keys(_LOG_KEYS)
        redriven = ((record.raw_event.get("messageAttributes") or {}).get(failures.REDRIVE_COUNT_ATTRIBUTE) or {})
        logger.thread_safe_append_keys(sqs_message_id=record.message_id)
        if str(redriven.get("stringValue") or "").isdigit():
            logger.thread_safe_append_keys(redrive_count=int(redriven["stringValue"]))
        tracer = self.tracer
        with self._subsegment(tracer, record):
            envelope: Envelope | None = None
            try:
                envelope = self._codec.decode(record.body)
                traceparent = continue_trace(envelope.traceparent, trace_seed(self.source, envelope))
                logger.thread_safe_append_keys(**message_keys(envelope, trace_id_of(traceparent)))
                if tracer is not None:
                    tracer.put_annotation("trace_id", trace_id_of(traceparent) or "")
                route = self._route(envelope)
                validate_partition_key(envelope.partitionkey)
                self._check_replyto(envelope)
                if envelope.dataref is not None:
                    envelope = self._claims().resolve(envelope)
                payload = self._payload(route, envelope)
                if envelope.type in self._shard_keys:
                    check_shard_key(envelope, self._shard_keys[envelope.type])
                ctx = MessageContext(
                    envelope,
                    source=self.source,
                    logger=logger,
                    lambda_context=invocation.context,
                    record=record,
                    traceparent=traceparent,
                    catalogue=self._catalogue,
                )
                outcome, duplicate = self._execute(route, payload, ctx)
            except PermanentMessageError as error:
                self._hand_over(record, invocation, envelope, error, duplicate=False)
                return
            except Exception:
                logger.exception("processing failed; SQS will retry", extra={"sqs_message_id": record.message_id})
                raise
            if duplicate:  # its "message processed" line says so (duplicate: true)
                invocation.counts[DUPLICATE_DELIVERIES] += 1
            self._hand_over(record, invocation, envelope, outcome, duplicate=duplicate)

    def _hand_over(
        self, record: SQSRecord, invocation: _Invocation, envelope: Envelope | None,
        outcome: Outcome | PermanentMessageError, *, duplicate: bool,
    ) -> None:
        """Queue the record's deliveries or dead letter for after the batch (:func:`messaging.execution.hand_over`)."""
        keys = {name: value for name, value in self.logger.thread_safe_get_current_keys().items() if name in _LOG_KEYS}
        hand_over(invocation.delivery, record, envelope, outcome, duplicate=duplicate, outbox=self._outbox,
                  logger=self.logger, counts=invocation.counts, log_keys=keys)

    @property
    def tracer(self) -> Tracer | None:
        """The Powertools tracer: the one given, else with ``tracing=True`` one created on the first message X-Ray
        records (:func:`~messaging.settings.tracing_active`: in Lambda, not disabled, the invocation sampled), else
        None: where nothing is recorded the X-Ray SDK is not even imported."""
        if self._tracer is None and self._tracing and tracing_active():
            with self._lock:
                if self._tracer is None:
                    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - only functions that trace load it

                    self._tracer = Tracer(service=self.settings.service_name or self.service)
        return self._tracer

    @staticmethod
    def _subsegment(tracer: Tracer | None, record: SQSRecord) -> AbstractContextManager[Any]:
        if tracer is None:
            return nullcontext()
        return tracer.provider.in_subsegment(name=f"## message {record.message_id}")

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
        """The handler's payload: ``data`` read by the type's catalogue entry (version, upcasters, strictness) with
        the route's model; unknown fields are left out and logged at DEBUG (:meth:`MessageType.read`)."""
        data = dict(envelope.data or {})
        if route.model is None and envelope.type not in self._catalogue:
            return data
        key = (route.kind, envelope.type)
        reader = self._readers.get(key)
        if reader is None:
            declared = self._catalogue.get(envelope.type) or MessageType(envelope.type, route.kind)
            reader = self._readers[key] = replace(declared, model=route.model)

        def unknown(paths: list[str]) -> None:
            self.logger.debug("unknown fields left out of the model", extra={"unknown_fields": paths})

        return reader.read(data, dataschema=envelope.dataschema, unknown=unknown)

    def _execute(self, route: _Route, payload: Any, ctx: MessageContext) -> tuple[Outcome, bool]:
        """Run the handler in a unit of work and commit (:func:`messaging.execution.execute`): (outcome, duplicate)."""
        return execute(
            route.handler, payload, ctx, idempotent=route.idempotent, outbox=self._outbox,
            committer=lambda: self.committer, catalogue=self._catalogue,
            expires_at=lambda: int(self._clock()) + self.settings.idempotency_expiry_seconds,
        )
