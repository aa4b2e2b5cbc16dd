"""What leaves a consumer for a message: its outcome as stored with the commit, then its events and reply, or, for a
poison message, the dead letter and the failure reply.

The :class:`Outbox` turns a handler's result into an :class:`Outcome` (the reply, the events and the messages sent to
queues, every envelope stamped with one ``time``) and the compact form the commit stores with the dedup record
(:meth:`Outbox.stored_form`); it rebuilds the same outcome from the stored form for a duplicate delivery
(:meth:`Outbox.replay`), lists an outcome's deliveries for the batch's delivery (:meth:`Outbox.plan`,
:mod:`messaging.delivery`) and dead-letters a message under the failure policy (:mod:`messaging.failures`). It
belongs to one :class:`~messaging.consumer.MessageConsumer`, which gives it its collaborators as callables, so
nothing is created before the first message needs it.

Store less. The stored form keeps only what cannot be derived from the request and this consumer: the reply outcome
(the handler's result), the time (milliseconds since the epoch, one for every envelope) and, per event, its ``type``,
its ``data`` (without the fields it shares with the result, in the same order: ``"r": 1``), its ``partitionkey`` if
it is not the request's and its ``kind`` if it is not ``event``; per message sent to a queue, the queue, the
``deliver_at`` and the envelope's attributes other than those derived (``source``, ``traceparent``, ``tracestate``,
``time``). Event ids come from the request's identity and the position (:func:`~messaging.context.emitted_event`),
the ``dataschema`` from the catalogue, the reply entirely from the request and the outcome
(:func:`~messaging.envelope.reply_to`), the trace context from the request
(:func:`~messaging.tracecontext.continue_trace`). A replay therefore sends byte for byte what the first run sent
(same ids, dedup ids, groups, data, time), as long as the redelivered request carries the same trace context (an SQS
redelivery does) and the consumer's source and catalogue are unchanged. An event the rules would not rebuild exactly
is stored whole. Outcomes stored by the earlier wire-JSON form still replay.

Example:
    >>> from messaging.envelope import command
    >>> from messaging.settings import ConsumerSettings
    >>> from aws_lambda_powertools import Logger
    >>> outbox = Outbox(CloudEventJsonCodec(), source=lambda: "/orders", publisher=lambda: None, sqs=lambda: None,
    ...                 settings=ConsumerSettings, logger=lambda: Logger(service="doc"))
    >>> request = command("orders.CreateOrder", {}, source="/web", partitionkey="c-1", replyto="https://q/r.fifo")
    >>> outcome = outbox.outcome(request, ReplyOutcome.success({"order_id": "o-1"}), events=())
    >>> sorted(outcome.stored), outcome.stored["o"]["outcome"]
    (['o', 't', 'v'], 'success')
    >>> outbox.replay(request, outcome.stored, {}).reply == outcome.reply
    True
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from messaging import failures
from messaging.channels import EventPublisher, QueueSender
from messaging.claim_check import CHANNEL_LIMIT_BYTES, message_size
from messaging.codec import CloudEventJsonCodec, rfc3339
from messaging.context import Outgoing, emitted_event, event_id, millisecond_now
from messaging.delivery import Action, Message, Step
from messaging.envelope import SCHEMA_VERSION, Envelope, Kind, ReplyOutcome, reply_to, trace_seed
from messaging.errors import ConfigurationError, MessageTooLarge, PermanentMessageError
from messaging.fifo import dedup_id_of, is_valid_fifo_id
from messaging.settings import ConsumerSettings
from messaging.tracecontext import continue_trace

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from mypy_boto3_sqs.client import SQSClient

    from messaging.contracts import MessageType
    from messaging.delayed import DelayedDelivery

# Metric names (namespace FifoMessaging, dimension service) counted here.
MESSAGES_DEAD_LETTERED = "MessagesDeadLettered"
REPLIES_SENT = "RepliesSent"

STORED_VERSION = 2
"""Version of the compact stored form (``"v"``); an outcome without it is in the earlier wire-JSON form."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DERIVED = ("source", "traceparent", "tracestate")


@dataclass(slots=True)
class Outcome:
    """What a message's run sends once committed: the reply outcome (``None``: no reply), the events, the messages
    for queues, the reply envelope (a command with ``replyto``), the one ``time`` they carry; ``stored`` is the
    compact JSON form the commit keeps (see the module docstring)."""

    result: ReplyOutcome | None
    events: tuple[Envelope, ...]
    sends: tuple[Outgoing, ...]
    reply: Envelope | None
    at: datetime | None
    stored: dict[str, Any] = field(default_factory=dict)


def _millis(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _from_millis(millis: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=millis)


def _derivable(
    evt: Envelope, request: Envelope, *, source: str, position: int, traceparent: str,
    catalogue: Mapping[str, MessageType],
) -> bool:
    """True if :func:`~messaging.context.emitted_event` rebuilds ``evt`` from its type, data, key and kind."""
    declared = catalogue.get(evt.type)
    return (
        evt.id == event_id(request, source, position)
        and evt.source == source
        and evt.traceparent == traceparent
        and evt.tracestate == request.tracestate
        and evt.dataschema == (declared.dataschema if declared is not None else None)
        and evt.datacontenttype == "application/json"
        and evt.data is not None
        and (evt.replyto, evt.correlationid, evt.subject, evt.dataref) == (None, None, None, None)
        and not evt.extensions
    )


def _shares_result(data: Mapping[str, Any], result: Mapping[str, Any]) -> bool:
    """True if ``data`` starts with every field of ``result``, equal and in the same order."""
    return bool(result) and list(data)[: len(result)] == list(result) and all(
        data[name] == value for name, value in result.items()
    )


class Outbox:
    """Builds, delivers and dead-letters what one consumer sends (see the module docstring)."""

    def __init__(
        self,
        codec: CloudEventJsonCodec,
        *,
        source: Callable[[], str],
        publisher: Callable[[], EventPublisher],
        sqs: Callable[[], SQSClient],
        settings: Callable[[], ConsumerSettings],
        logger: Callable[[], Logger],
        delayed: Callable[[], DelayedDelivery] | None = None,
    ) -> None:
        """``delayed``: the scheduler of messages sent with ``deliver_at`` (asked for on the first one)."""
        self._codec = codec
        self._delayed = delayed
        self._source = source
        self._publisher = publisher
        self._sqs = sqs
        self._settings = settings
        self._logger = logger

    # -- before the commit ------------------------------------------------------------------------------------------

    def outcome(
        self,
        request: Envelope,
        outcome: ReplyOutcome | None,
        *,
        events: Sequence[Envelope],
        outgoing: Sequence[Outgoing] = (),
        at: datetime | None = None,
        catalogue: Mapping[str, MessageType] | None = None,
        traceparent: str | None = None,
    ) -> Outcome:
        """The outcome of a message: its envelopes, all stamped with one ``time`` (``at``, default now, to the
        millisecond), and the compact form the commit stores (:meth:`stored_form`; ``catalogue`` gave the events
        their ``dataschema``; ``traceparent``: the request's trace as continued by this consumer, when the caller
        has it already). A reply over the channel limit raises :class:`~messaging.errors.MessageTooLarge`
        before anything commits."""
        moment = at or millisecond_now()
        traceparent = traceparent or self._traceparent(request)
        reply = None
        if outcome is not None and request.replyto is not None:
            reply = self.reply_envelope(request, outcome, traceparent=traceparent, time=moment)
            if message_size(self._codec.encode(reply)) > CHANNEL_LIMIT_BYTES:
                raise MessageTooLarge(f"the reply is over the {CHANNEL_LIMIT_BYTES:,}-byte limit", field="reply")
        stamped = tuple(evt if evt.time == moment else replace(evt, time=moment) for evt in events)
        sends = tuple(replace(item, envelope=replace(item.envelope, time=moment)) for item in outgoing)
        result = Outcome(outcome, stamped, sends, reply, moment)
        result.stored = self.stored_form(result, request, catalogue, traceparent=traceparent)
        return result

    def replay(self, request: Envelope, stored: Mapping[str, Any], catalogue: Mapping[str, MessageType]) -> Outcome:
        """The outcome a first run stored, rebuilt: the same envelopes it delivered (ids, dedup ids, groups, data and
        time), from the request, this consumer's source and ``catalogue`` and the compact stored form."""
        if stored.get("v") != STORED_VERSION:
            return self._replay_wire(request, stored)
        source, traceparent = self._source(), self._traceparent(request)
        moment = _from_millis(int(stored["t"]))
        outcome = ReplyOutcome.from_data(stored["o"]) if stored.get("o") is not None else None
        result = outcome.result if outcome is not None and outcome.ok else None
        events = []
        for position, item in enumerate(stored.get("e") or []):
            if "m" in item:
                events.append(self._expand(item["m"], source, request, traceparent, moment))
                continue
            data = {**dict(result or {}), **item.get("d", {})} if item.get("r") else dict(item.get("d", {}))
            evt = emitted_event(
                item["y"], data, request=request, source=source, position=position,
                partitionkey=item.get("p", request.partitionkey), kind=Kind(item.get("k", Kind.EVENT.value)),
                catalogue=catalogue, traceparent=traceparent,
            )
            events.append(replace(evt, time=moment))
        sends = []
        for item in stored.get("s") or []:
            envelope = self._expand(item["m"], source, request, traceparent, moment)
            deliver_at = datetime.fromisoformat(item["at"]) if item.get("at") else None
            sends.append(Outgoing(item["q"], envelope, deliver_at, bool(item.get("c"))))
        reply = None
        if outcome is not None and request.replyto is not None:
            reply = self.reply_envelope(request, outcome, traceparent=traceparent, time=moment)
        replayed = Outcome(outcome, tuple(events), tuple(sends), reply, moment)
        replayed.stored = dict(stored)
        return replayed

    def _replay_wire(self, request: Envelope, stored: Mapping[str, Any]) -> Outcome:
        """An outcome stored before the compact form (the events, the reply and the sends as wire JSON)."""
        events = tuple(self._codec.decode(raw) for raw in stored.get("events") or [])
        sends = tuple(
            Outgoing(str(item["queue"]), self._codec.decode(str(item["message"])),
                     datetime.fromisoformat(item["deliver_at"]) if item.get("deliver_at") else None,
                     bool(item.get("cancel")))
            for item in stored.get("sends") or []
        )
        reply = self._codec.decode(stored["reply"]) if stored.get("reply") and request.replyto else None
        outcome = ReplyOutcome.from_data(stored["outcome"]) if stored.get("outcome") is not None else None
        replayed = Outcome(outcome, events, sends, reply, None)
        replayed.stored = dict(stored)
        return replayed

    def reply_envelope(
        self, request: Envelope, outcome: ReplyOutcome, *, traceparent: str | None = None, time: datetime | None = None
    ) -> Envelope:
        """The reply to ``request`` from this consumer, in a group SQS accepts (``traceparent``, ``time``: see
        :func:`~messaging.envelope.reply_to`)."""
        reply = reply_to(request, outcome, source=self._source(), traceparent=traceparent, time=time)
        if reply.partitionkey is None or not is_valid_fifo_id(reply.partitionkey):
            # The request's key (or id) cannot be a MessageGroupId: use a digest of its identity instead.
            return replace(reply, partitionkey=dedup_id_of(request.source, request.id))
        return reply

    def _traceparent(self, request: Envelope) -> str:
        return continue_trace(request.traceparent, trace_seed(self._source(), request))

    def stored_form(
        self, outcome: Outcome, request: Envelope, catalogue: Mapping[str, MessageType] | None = None,
        *, traceparent: str | None = None,
    ) -> dict[str, Any]:
        """The compact JSON form of ``outcome`` (see the module docstring; ``traceparent`` as for :meth:`outcome`)."""
        source, traceparent = self._source(), traceparent or self._traceparent(request)
        stored: dict[str, Any] = {"v": STORED_VERSION, "t": _millis(outcome.at or millisecond_now())}
        if outcome.result is not None:
            stored["o"] = outcome.result.to_data()
        result = stored["o"].get("result") or {} if outcome.result is not None and outcome.result.ok else {}
        events = []
        for position, evt in enumerate(outcome.events):
            if not _derivable(evt, request, source=source, position=position, traceparent=traceparent,
                              catalogue=catalogue or {}):
                events.append({"m": self._compact(evt, source, request, traceparent)})  # not rebuilt exactly: whole
                continue
            data = dict(evt.data or {})
            item: dict[str, Any] = {"y": evt.type}
            if _shares_result(data, result):
                item["r"] = 1
                data = {name: value for name, value in data.items() if name not in result}
            if data:
                item["d"] = data
            if evt.partitionkey != request.partitionkey:
                item["p"] = evt.partitionkey
            if evt.kind is not Kind.EVENT:
                item["k"] = evt.kind.value
            events.append(item)
        if events:
            stored["e"] = events
        sends = []
        for send in outcome.sends:
            compact = self._compact(send.envelope, source, request, traceparent)
            entry: dict[str, Any] = {"q": send.queue_url, "m": compact}
            if send.deliver_at is not None:
                entry["at"] = send.deliver_at.isoformat()
            if send.cancel:
                entry["c"] = 1
            sends.append(entry)
        if sends:
            stored["s"] = sends
        return stored

    def _compact(self, envelope: Envelope, source: str, request: Envelope, traceparent: str) -> dict[str, Any]:
        """The wire attributes of ``envelope`` that :meth:`_expand` cannot derive (a derivable one that the
        envelope lacks is kept as ``null``)."""
        document: dict[str, Any] = json.loads(self._codec.encode(envelope))
        for name in ("specversion", "schemaversion", "time"):
            document.pop(name, None)
        if document.get("datacontenttype") == "application/json":
            del document["datacontenttype"]
        for name, derived in zip(_DERIVED, (source, traceparent, request.tracestate), strict=True):
            if document.get(name) == derived and derived is not None:
                del document[name]
            elif name not in document and derived is not None:
                document[name] = None
        return document

    def _expand(
        self, document: Mapping[str, Any], source: str, request: Envelope, traceparent: str, moment: datetime
    ) -> Envelope:
        derived = dict(zip(_DERIVED, (source, traceparent, request.tracestate), strict=True))
        full = {"specversion": "1.0", "schemaversion": SCHEMA_VERSION, "datacontenttype": "application/json",
                **derived, **document, "time": rfc3339(moment)}
        return self._codec.decode(json.dumps({name: value for name, value in full.items() if value is not None}))

    # -- after the commit -------------------------------------------------------------------------------------------

    def plan(self, request: Envelope, outcome: Outcome) -> tuple[list[Step], dict[str, Any]]:
        """The deliveries of a committed outcome, in order, for :class:`~messaging.delivery.BatchDelivery`: the
        events (to the topic) and the messages sent to queues, scheduled or cancelled, then the reply (stage 1); and
        what they are, for the log line of the message."""
        steps: list[Step] = [Message(evt) for evt in outcome.events]
        sent: dict[str, Any] = {}
        if outcome.events:
            sent["event_ids"] = [evt.id for evt in outcome.events]
        if outcome.sends:
            sent["sent_ids"] = [item.envelope.id for item in outcome.sends if not item.cancel]
            steps.extend(self._send_step(item) for item in outcome.sends)
        if outcome.reply is not None and request.replyto:
            steps.append(Message(outcome.reply, queue_url=request.replyto, stage=1))
            sent["reply_id"] = outcome.reply.id
            sent["outcome"] = (outcome.reply.data or {}).get("outcome")
        return steps, sent

    def _send_step(self, item: Outgoing) -> Step:
        """A message sent to a queue now, or (``deliver_at`` in the future, a cancellation) a call to the scheduler."""
        envelope, at = item.envelope, item.deliver_at
        if not item.cancel and (at is None or (self._delayed is not None and self._delayed().is_due(at))):
            return Message(envelope, queue_url=item.queue_url)  # due now (or a replay late)
        if self._delayed is None:
            raise ConfigurationError("a handler scheduled a message but the consumer has no scheduler")
        delayed = self._delayed

        def call() -> None:
            if item.cancel:
                delayed().cancel(envelope)
            elif at is not None:
                delayed().schedule(item.queue_url, envelope, at)

        return Action(call, name=f"{'cancel' if item.cancel else 'schedule'} {envelope.id}")

    def send_reply(self, replyto: str, reply: Envelope, counts: Counter[str]) -> None:
        QueueSender(replyto, client=self._sqs(), codec=self._codec).send(reply)
        counts[REPLIES_SENT] += 1

    # -- poison messages --------------------------------------------------------------------------------------------

    def dead_letter(
        self, record: SQSRecord, error: PermanentMessageError, envelope: Envelope | None, counts: Counter[str]
    ) -> None:
        """Move a poison message to the DLQ and answer a command with an allowed ``replyto`` with a failure reply
        (policy: :mod:`messaging.failures`). The detail goes to the log with the message ids, never to the reply."""
        settings, logger = self._settings(), self._logger()
        failures.dead_letter(self._sqs(), settings.dead_letter_queue_url, record, error)
        counts[MESSAGES_DEAD_LETTERED] += 1
        logger.warning(
            "message moved to the dead-letter queue",
            extra={
                "failure_code": error.code,
                "failure_reason": error.reason,
                "failure_field": error.field,
                "sqs_message_id": record.message_id,
            },
        )
        request = envelope if envelope is not None else failures.salvage_request(record.body)
        if request is None or not failures.answers_with_failure(request, error, settings.reply_to_allowlist):
            return
        reply = self.reply_envelope(request, failures.failure_outcome(error))
        try:
            self.send_reply(request.replyto or "", reply, counts)
        except Exception as exc:
            if failures.rejection_of(exc) is None:
                raise  # transient: the record is retried; SQS drops the copy of the dead letter (same dedup id)
            logger.warning("the failure reply was refused by the broker", extra={"reply_id": reply.id})
            return
        logger.info("failure reply sent", extra={"reply_id": reply.id, "code": error.code})
