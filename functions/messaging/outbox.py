"""What leaves a consumer for a message: its outcome as stored with the commit, then its events and reply, or, for a
poison message, the dead letter and the failure reply.

The :class:`Outbox` turns a handler's result into the outcome the commit stores (the reply and the events as wire
JSON, so a duplicate delivery replays exactly what the first run sent), delivers an outcome after the commit (events
first with ``PublishBatch``, then the reply), and dead-letters a message under the failure policy
(:mod:`messaging.failures`). It belongs to one :class:`~messaging.consumer.MessageConsumer`, which gives it its
collaborators as callables, so nothing is created before the first message needs it.

Example:
    >>> from messaging.envelope import command
    >>> from messaging.settings import ConsumerSettings
    >>> from aws_lambda_powertools import Logger
    >>> outbox = Outbox(CloudEventJsonCodec(), source=lambda: "/orders", publisher=lambda: None, sqs=lambda: None,
    ...                 settings=ConsumerSettings, logger=lambda: Logger(service="doc"))
    >>> request = command("orders.CreateOrder", {}, source="/web", partitionkey="c-1", replyto="https://q/r.fifo")
    >>> stored = outbox.outcome(request, ReplyOutcome.success({"order_id": "o-1"}), events=())
    >>> sorted(stored), stored["outcome"]["outcome"]
    (['events', 'outcome', 'reply'], 'success')
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from messaging import failures
from messaging.channels import EventPublisher, QueueSender
from messaging.claim_check import CHANNEL_LIMIT_BYTES, message_size
from messaging.codec import CloudEventJsonCodec
from messaging.context import Outgoing
from messaging.envelope import Envelope, ReplyOutcome, reply_to
from messaging.errors import ConfigurationError, MessageTooLarge, PermanentMessageError
from messaging.fifo import dedup_id_of, is_valid_fifo_id
from messaging.settings import ConsumerSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from mypy_boto3_sqs.client import SQSClient

    from messaging.delayed import DelayedDelivery

# Metric names (namespace FifoMessaging, dimension service) counted here.
MESSAGES_DEAD_LETTERED = "MessagesDeadLettered"
REPLIES_SENT = "RepliesSent"


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
        self._thread = threading.local()

    # -- before the commit ------------------------------------------------------------------------------------------

    def outcome(
        self,
        request: Envelope,
        outcome: ReplyOutcome | None,
        *,
        events: Sequence[Envelope],
        outgoing: Sequence[Outgoing] = (),
    ) -> dict[str, Any]:
        """The outcome of a message as stored with its commit: reply data, the reply and the events as wire JSON, and
        (when the handler staged any, :meth:`~messaging.context.MessageContext.send`) the messages it sends to
        queues. A reply over the channel limit raises :class:`~messaging.errors.MessageTooLarge` before anything
        commits."""
        fresh = self._fresh_envelopes()
        reply = None
        if outcome is not None and request.replyto is not None:
            reply_envelope = self.reply_envelope(request, outcome)
            reply = self._codec.encode(reply_envelope)
            if message_size(reply) > CHANNEL_LIMIT_BYTES:
                raise MessageTooLarge(f"the reply is over the {CHANNEL_LIMIT_BYTES:,}-byte limit", field="reply")
            fresh[reply] = reply_envelope
        encoded = []
        for evt in events:
            raw = self._codec.encode(evt)
            fresh[raw] = evt
            encoded.append(raw)
        stored: dict[str, Any] = {
            "outcome": outcome.to_data() if outcome is not None else None,
            "reply": reply,
            "events": encoded,
        }
        if outgoing:
            sends = []
            for item in outgoing:
                raw = self._codec.encode(item.envelope)
                fresh[raw] = item.envelope
                at = item.deliver_at.isoformat() if item.deliver_at is not None else None
                sends.append({"queue": item.queue_url, "message": raw, "deliver_at": at, "cancel": item.cancel})
            stored["sends"] = sends
        return stored

    def reply_envelope(self, request: Envelope, outcome: ReplyOutcome) -> Envelope:
        """The reply to ``request`` from this consumer, in a group SQS accepts."""
        reply = reply_to(request, outcome, source=self._source())
        if reply.partitionkey is None or not is_valid_fifo_id(reply.partitionkey):
            # The request's key (or id) cannot be a MessageGroupId: use a digest of its identity instead.
            return replace(reply, partitionkey=dedup_id_of(request.source, request.id))
        return reply

    def _fresh_envelopes(self) -> dict[str, Envelope]:
        """This thread's envelopes of the record being processed, by their wire JSON: a first run delivers the
        envelopes it made instead of decoding its own outcome again (a duplicate decodes the stored one)."""
        fresh: dict[str, Envelope] | None = getattr(self._thread, "fresh", None)
        if fresh is None:
            fresh = self._thread.fresh = {}
        return fresh

    def _decoded(self, raw: str) -> Envelope:
        envelope = self._fresh_envelopes().pop(raw, None)
        return envelope if envelope is not None else self._codec.decode(raw)

    # -- after the commit -------------------------------------------------------------------------------------------

    def deliver(self, request: Envelope, result: Mapping[str, Any], counts: Counter[str]) -> dict[str, Any]:
        """Publish the result's events, then send its reply; return what was sent, for the log. Failures raise: the
        record is retried and replays both."""
        sent: dict[str, Any] = {}
        try:
            events = [self._decoded(raw) for raw in result.get("events") or []]
            if events:
                self._publisher().publish_batch(events).raise_for_failures()
                sent["event_ids"] = [event.id for event in events]
            if result.get("sends"):
                sent["sent_ids"] = self._send_all(result["sends"])
            raw_reply = result.get("reply")
            if raw_reply and request.replyto:
                reply = self._decoded(raw_reply)
                self._send_reply(request.replyto, reply, counts)
                sent["reply_id"] = reply.id
                sent["outcome"] = (reply.data or {}).get("outcome")
        finally:
            self._fresh_envelopes().clear()
        return sent

    def _send_all(self, sends: Sequence[Mapping[str, Any]]) -> list[str]:
        """Send, schedule or cancel the stored messages in order (same ids on a replay: SQS and Scheduler dedup)."""
        from datetime import datetime  # noqa: PLC0415

        ids = []
        for item in sends:
            envelope = self._decoded(str(item["message"]))
            queue = str(item["queue"])
            at = datetime.fromisoformat(item["deliver_at"]) if item.get("deliver_at") else None
            if item.get("cancel") or at is not None:
                if self._delayed is None:
                    raise ConfigurationError("a handler scheduled a message but the consumer has no scheduler")
                delayed = self._delayed()
                if item.get("cancel"):
                    delayed.cancel(envelope)
                    continue
                if at is not None and not delayed.is_due(at):
                    delayed.schedule(queue, envelope, at)
                    ids.append(envelope.id)
                    continue
            QueueSender(queue, client=self._sqs(), codec=self._codec).send(envelope)  # due now (or a replay late)
            ids.append(envelope.id)
        return ids

    def _send_reply(self, replyto: str, reply: Envelope, counts: Counter[str]) -> None:
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
            self._send_reply(request.replyto or "", reply, counts)
        except Exception as exc:
            if failures.rejection_of(exc) is None:
                raise  # transient: the record is retried; SQS drops the copy of the dead letter (same dedup id)
            logger.warning("the failure reply was refused by the broker", extra={"reply_id": reply.id})
            return
        logger.info("failure reply sent", extra={"reply_id": reply.id, "code": error.code})
