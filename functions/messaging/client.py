"""The requester side: notify, send with a reply address, wait for a reply, publish, scatter-gather.

Replies reach the requester through the reply queue and the reply router, which stores them in a
:class:`~messaging.reply_store.ReplyStore` by correlation id; the client polls that store (with a short backoff), so
many concurrent requesters never see each other's replies and a requester that went away can collect them later.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from messaging.aws import LazyClient
from messaging.channels import QueueSender, TopicPublisher
from messaging.envelope import Envelope, Kind, ReplyOutcome, command, message
from messaging.errors import ReplyTimeout

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
    """Sends commands and events and collects replies. Clients are created lazily unless injected."""

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
    ) -> None:
        self.reply_queue_url = reply_queue_url
        self.reply_store = reply_store
        self.source = source
        self._sqs: LazyClient[SQSClient] = LazyClient("sqs", sqs_client)
        self._sns: LazyClient[SNSClient] = LazyClient("sns", sns_client)
        self._sleep = sleep
        self._clock = clock

    def _command(
        self, type_: str, data: Mapping[str, Any] | None, partitionkey: str, *, replyto: str | None
    ) -> Envelope:
        return command(type_, data, source=self.source, partitionkey=partitionkey, replyto=replyto)

    def notify(self, queue_url: str, type: str, data: Mapping[str, Any] | None, *, partitionkey: str) -> Envelope:
        """Send a one-way command (no ``replyto``); return it."""
        envelope = self._command(type, data, partitionkey, replyto=None)
        QueueSender(queue_url, client=self._sqs.get()).send(envelope)
        return envelope

    def send(self, queue_url: str, type: str, data: Mapping[str, Any] | None, *, partitionkey: str) -> str:
        """Send a command that asks for a reply on the reply queue; return its id (the correlation id)."""
        envelope = self._command(type, data, partitionkey, replyto=self.reply_queue_url)
        QueueSender(queue_url, client=self._sqs.get()).send(envelope)
        return envelope.id

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
        partitionkey: str,
        timeout: float = 10.0,
        poll_interval: float = 0.05,
    ) -> Reply:
        """Send a command and wait for its reply; raise :class:`~messaging.errors.ReplyTimeout` after ``timeout``."""
        correlation_id = self.send(queue_url, type, data, partitionkey=partitionkey)
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
        partitionkey: str,
        kind: Kind = Kind.EVENT,
    ) -> Envelope:
        """Publish a message of ``kind`` (an event by default) to an SNS topic; return it."""
        envelope = message(kind, type, data, source=self.source, partitionkey=partitionkey)
        TopicPublisher(topic_arn, client=self._sns.get()).publish(envelope)
        return envelope

    def scatter_gather(
        self,
        topic_arn: str,
        type: str,
        data: Mapping[str, Any] | None,
        *,
        partitionkey: str,
        window: float = 2.0,
        min_replies: int | None = None,
        poll_interval: float = 0.05,
    ) -> list[Reply]:
        """Publish a request (a command with ``replyto``) to a topic and collect the replies of every responder
        until ``window`` seconds have passed or ``min_replies`` have arrived; oldest first."""
        request = self._command(type, data, partitionkey, replyto=self.reply_queue_url)
        TopicPublisher(topic_arn, client=self._sns.get()).publish(request)

        def enough(replies: list[Reply]) -> bool:
            return min_replies is not None and len(replies) >= min_replies

        return self._poll(lambda: self.get_replies(request.id), enough, window, poll_interval)

    def _poll(self, read: Callable[[], _T], done: Callable[[_T], bool], window: float, poll_interval: float) -> _T:
        """Call ``read`` until ``done`` holds for its value or ``window`` seconds have passed; return the last value.

        The pause between reads grows by half each time, up to half a second, and never overshoots the window.
        """
        deadline = self._clock() + window
        interval = poll_interval
        while True:
            value = read()
            if done(value):
                return value
            remaining = deadline - self._clock()
            if remaining <= 0:
                return value
            self._sleep(min(interval, remaining))
            interval = min(interval * 1.5, _MAX_POLL_INTERVAL)
