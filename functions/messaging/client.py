"""The requester side: notify, send with a reply address, wait for a reply, publish, scatter-gather.

Replies reach the requester through the reply queue and the reply router, which stores them in a
:class:`~messaging.reply_store.ReplyStore` by correlation id; the client polls that store (with a short backoff), so
many concurrent requesters never see each other's replies and a requester that went away can collect them later.
A request needs nothing but its message: the router stores every reply the reply queue takes (the queue's policy
says who may send there), and the request's id, a random UUID, is the only key its replies are read by.

Arguments are checked before anything is sent (:class:`~messaging.errors.InvalidRequest`): ``data`` a JSON object,
the ``partitionkey`` a valid FIFO group id, filled from the type's declared shard-key field when not given
(``shard_keys``) and refused when it contradicts it. A message over the 256 KiB channel limit travels with its
``data`` in the claim-check bucket (``claim_check``, :mod:`messaging.claim_check`); ``data`` over 5 MiB, or over the
channel limit without a bucket, is :class:`~messaging.errors.PayloadTooLarge`. With a ``catalogue``
(:class:`~messaging.contracts.Catalogue`) the type must be catalogued with this kind and ``data`` must read as its
model (field named), and the message names its data version (``dataschema``); a type the catalogue does not declare
but whose shard key is registered (``shard_keys``, what ``make service`` adds) is sent unchecked. Every message
carries a W3C ``traceparent``: the one given (``traceparent=``, checked), else a new trace.

Example:
    >>> from messaging.reply_store import InMemoryReplyStore
    >>> class FakeSqs:
    ...     def send_message(self, **kwargs):
    ...         return {"MessageId": "m-1"}
    >>> store = InMemoryReplyStore()
    >>> client = MessagingClient("https://sqs/replies.fifo", store, source="/web", sqs_client=FakeSqs())
    >>> correlation_id = client.send("https://sqs/orders.fifo", "orders.CreateOrder", {"sku": "x"}, partitionkey="c-1")
    >>> client.get_reply(correlation_id) is None
    True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from messaging.aws import LazyClient
from messaging.channels import FailedEntry, QueueSender, TopicPublisher
from messaging.claim_check import ClaimCheck, offload_if_large
from messaging.codec import CloudEventJsonCodec
from messaging.contracts import Catalogue
from messaging.delayed import DelayedDelivery
from messaging.delivery import send_in_order
from messaging.envelope import Envelope, Kind, ReplyOutcome
from messaging.errors import InvalidMessage, InvalidRequest, PublishFailed, ReplyTimeout
from messaging.preparation import invalid_request, prepare_envelope

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sqs.client import SQSClient

    from messaging.reply_store import ReplyStore

_MAX_POLL_INTERVAL = 0.5
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply as the requester sees it: the envelope, its outcome, the request it answers and who answered."""

    envelope: Envelope
    outcome: ReplyOutcome
    correlation_id: str
    responder: str

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> Reply:
        """Read a reply envelope; raises :class:`ValueError` if it is not a well-formed reply."""
        if envelope.kind is not Kind.REPLY or not envelope.correlationid:
            raise ValueError("not a reply: kind must be reply and correlationid set")
        return cls(envelope, ReplyOutcome.from_data(envelope.data), envelope.correlationid, envelope.source)


class MessagingClient:
    """Sends commands, documents and events and collects replies. Clients are created lazily unless injected."""

    def __init__(
        self,
        reply_queue_url: str,
        reply_store: ReplyStore,
        *,
        source: str,
        sqs_client: SQSClient | None = None,
        sns_client: SNSClient | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        shard_keys: Mapping[str, str] | None = None,
        claim_check: ClaimCheck | None = None,
        catalogue: Catalogue | None = None,
        delayed: DelayedDelivery | None = None,
    ) -> None:
        """``delayed``: the schedule group and role for ``deliver_at`` (:mod:`messaging.delayed`); without it a
        ``deliver_at`` is refused."""
        self.reply_queue_url = reply_queue_url
        self.reply_store = reply_store
        self.source = source
        self.catalogue = catalogue
        self.shard_keys = {**(catalogue.shard_keys if catalogue is not None else {}), **dict(shard_keys or {})}
        self.claim_check = claim_check
        self.delayed = delayed
        self._sqs: LazyClient[SQSClient] = LazyClient("sqs", sqs_client)
        self._sns: LazyClient[SNSClient] = LazyClient("sns", sns_client)
        self._sleep = sleep
        self._clock = clock
        self._codec = CloudEventJsonCodec()

    def prepare(
        self,
        kind: Kind,
        type: str,
        data: Mapping[str, Any] | None,
        *,
        partitionkey: str | None = None,
        replyto: str | None = None,
        traceparent: str | None = None,
    ) -> Envelope:
        """The envelope as it will be sent, every argument checked (see the module docstring and
        :func:`~messaging.preparation.prepare_envelope`, which the outbox producer shares); ``data`` that does not
        fit the channel is already in the claim-check bucket. Raises :class:`~messaging.errors.InvalidRequest`."""
        envelope = prepare_envelope(kind, type, data, source=self.source, shard_keys=self.shard_keys,
                                    catalogue=self.catalogue, partitionkey=partitionkey, replyto=replyto,
                                    traceparent=traceparent)
        try:
            return offload_if_large(envelope, self.claim_check, self._codec)
        except InvalidMessage as exc:
            raise invalid_request(exc) from exc

    def notify(
        self,
        queue_url: str,
        type: str,
        data: Mapping[str, Any] | None,
        *,
        partitionkey: str | None = None,
        kind: Kind = Kind.COMMAND,
        traceparent: str | None = None,
        deliver_at: datetime | None = None,
    ) -> Envelope:
        """Send a one-way message (a command without ``replyto``, or a ``kind=Kind.DOCUMENT``); return it as sent.

        With ``deliver_at`` (timezone-aware) the message is scheduled instead and reaches the queue at that time
        (EventBridge Scheduler, :mod:`messaging.delayed`)."""
        self._check_deliver_at(deliver_at)
        envelope = self.prepare(kind, type, data, partitionkey=partitionkey, traceparent=traceparent)
        self._deliver(queue_url, envelope, deliver_at)
        return envelope

    def send(
        self,
        queue_url: str,
        type: str,
        data: Mapping[str, Any] | None,
        *,
        partitionkey: str | None = None,
        traceparent: str | None = None,
        deliver_at: datetime | None = None,
    ) -> str:
        """Send a command that asks for a reply on the reply queue; return its id (the correlation id). With
        ``deliver_at`` it reaches the queue at that time (as in :meth:`notify`)."""
        self._check_deliver_at(deliver_at)
        envelope = self.prepare(
            Kind.COMMAND, type, data, partitionkey=partitionkey, replyto=self.reply_queue_url, traceparent=traceparent
        )
        self._deliver(queue_url, envelope, deliver_at)
        return envelope.id

    def _check_deliver_at(self, deliver_at: datetime | None) -> None:
        if deliver_at is None:
            return
        if self.delayed is None:
            raise InvalidRequest("deliver_at needs delayed delivery (the stacks' schedule group and role)")
        self.delayed.check_time(deliver_at)

    def _deliver(self, queue_url: str, envelope: Envelope, deliver_at: datetime | None) -> None:
        if deliver_at is None or self.delayed is None:
            QueueSender(queue_url, client=self._sqs.get(), codec=self._codec).send(envelope)
        else:
            self.delayed.schedule(queue_url, envelope, deliver_at)

    def get_reply(self, correlation_id: str) -> Reply | None:
        """The (first) reply to ``correlation_id`` if it has arrived."""
        replies = self.reply_store.get(correlation_id)
        return Reply.from_envelope(replies[0]) if replies else None

    def get_replies(self, correlation_id: str) -> list[Reply]:
        """Every reply to ``correlation_id`` so far, oldest first."""
        return [Reply.from_envelope(envelope) for envelope in self.reply_store.get(correlation_id)]

    def request(
        self,
        queue_url: str,
        type: str,
        data: Mapping[str, Any] | None,
        *,
        partitionkey: str | None = None,
        timeout: float = 10.0,
        poll_interval: float = 0.05,
        traceparent: str | None = None,
    ) -> Reply:
        """Send a command and wait for its reply; raise :class:`~messaging.errors.ReplyTimeout` after ``timeout``."""
        correlation_id = self.send(queue_url, type, data, partitionkey=partitionkey, traceparent=traceparent)
        reply = self._poll(lambda: self.get_reply(correlation_id), lambda r: r is not None, timeout, poll_interval)
        if reply is None:
            raise ReplyTimeout(correlation_id, timeout)
        return reply

    def publish(
        self,
        topic_arn: str,
        type: str,
        data: Mapping[str, Any] | None,
        *,
        partitionkey: str | None = None,
        kind: Kind = Kind.EVENT,
        traceparent: str | None = None,
    ) -> Envelope:
        """Publish a message of ``kind`` (an event by default) to an SNS topic; return it as sent."""
        envelope = self.prepare(kind, type, data, partitionkey=partitionkey, traceparent=traceparent)
        TopicPublisher(topic_arn, client=self._sns.get(), codec=self._codec).publish(envelope)
        return envelope

    def scatter_gather(
        self,
        topic_arn: str,
        type: str,
        data: Mapping[str, Any] | None,
        *,
        partitionkey: str | None = None,
        window: float = 2.0,
        min_replies: int | None = None,
        poll_interval: float = 0.05,
        traceparent: str | None = None,
    ) -> list[Reply]:
        """Publish a request (a command with ``replyto``) to a topic and collect the replies of every responder
        until ``window`` seconds have passed or ``min_replies`` have arrived; oldest first."""
        request = self.prepare(
            Kind.COMMAND, type, data, partitionkey=partitionkey, replyto=self.reply_queue_url, traceparent=traceparent
        )
        TopicPublisher(topic_arn, client=self._sns.get(), codec=self._codec).publish(request)

        def enough(replies: list[Reply]) -> bool:
            return min_replies is not None and len(replies) >= min_replies

        return self._poll(lambda: self.get_replies(request.id), enough, window, poll_interval)

    def _poll(self, read: Callable[[], _T], done: Callable[[_T], bool], window: float, poll_interval: float) -> _T:
        """Call ``read`` until ``done`` holds for its value or ``window`` seconds have passed; return the last value.

        The first read comes one ``poll_interval`` after the call (the request was just sent: nothing can have
        answered yet, and a read is a billed call); the pause between reads then grows by half each time, up to half a
        second, and never overshoots the window.
        """
        deadline = self._clock() + window
        interval = poll_interval
        self._sleep(min(interval, window))
        while True:
            value = read()
            if done(value):
                return value
            remaining = deadline - self._clock()
            if remaining <= 0:
                return value
            self._sleep(min(interval, remaining))
            interval = min(interval * 1.5, _MAX_POLL_INTERVAL)

    def notify_batch(self, queue_url: str, messages: Sequence[BatchMessage]) -> BatchSent:
        """Send one-way messages with ``SendMessageBatch``: every message is prepared and checked (as by
        :meth:`notify`) before any is sent; then each call takes the first unsent message of every message group,
        10 per call and 256 KiB at most (:func:`messaging.delivery.send_in_order`), so messages of distinct groups
        share calls and a group is never reordered: a message SQS does not accept stops the later messages of its
        group (not sent, failed with ``PrecedingMessageFailed``). Nothing is dropped silently: every message comes
        back sent or failed, typed, with SQS's code and whether it was the sender's fault.

        Example:
            >>> from messaging.reply_store import InMemoryReplyStore
            >>> class FakeSqs:
            ...     def send_message_batch(self, **kwargs):
            ...         return {"Successful": [{"Id": e["Id"], "MessageId": "m"} for e in kwargs["Entries"]]}
            >>> client = MessagingClient("https://sqs/replies.fifo", InMemoryReplyStore(), source="/web",
            ...                          sqs_client=FakeSqs())
            >>> sent = client.notify_batch("https://sqs/orders.fifo", [
            ...     BatchMessage("orders.CancelOrder", {"order_id": "o-1"}, partitionkey="c-1"),
            ...     BatchMessage("orders.CancelOrder", {"order_id": "o-2"}, partitionkey="c-2")])
            >>> sent.ok, len(sent.sent), sent.calls
            (True, 2, 1)
        """
        envelopes = [
            self.prepare(m.kind, m.type, m.data, partitionkey=m.partitionkey, traceparent=m.traceparent)
            for m in messages
        ]
        sender = QueueSender(queue_url, client=self._sqs.get(), codec=self._codec)
        result = send_in_order(envelopes, sender.send_batch)
        by_id = {envelope.id: envelope for envelope in envelopes}
        return BatchSent(
            sent=[by_id[envelope_id] for envelope_id in result.succeeded],
            failed=[(by_id[entry.id], entry) for entry in result.failed],
            calls=result.calls,
        )


@dataclass(frozen=True, slots=True)
class BatchMessage:
    """One message of :meth:`MessagingClient.notify_batch`: what :meth:`MessagingClient.notify` takes."""

    type: str
    data: Mapping[str, Any] | None
    partitionkey: str | None = None
    kind: Kind = Kind.COMMAND
    traceparent: str | None = None


@dataclass(frozen=True, slots=True)
class BatchSent:
    """What :meth:`MessagingClient.notify_batch` sent: the envelopes SQS accepted, in the order sent, and each one it
    did not with its :class:`~messaging.channels.FailedEntry` (``code``, ``message``, ``sender_fault``)."""

    sent: list[Envelope]
    failed: list[tuple[Envelope, FailedEntry]]
    calls: int

    @property
    def ok(self) -> bool:
        return not self.failed

    def raise_for_failures(self) -> None:
        """Raise :class:`~messaging.errors.PublishFailed` if any message was not sent."""
        if self.failed:
            raise PublishFailed(
                [(envelope.id, entry.code, entry.message) for envelope, entry in self.failed],
                [entry.sender_fault for _, entry in self.failed],
            )
