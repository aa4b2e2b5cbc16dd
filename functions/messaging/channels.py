"""Channels: publish envelopes to an SNS FIFO topic and send them to an SQS FIFO queue, one at a time or batched.

Every message goes out as CloudEvents JSON with ``MessageGroupId`` = ``partitionkey`` and a deterministic
``MessageDeduplicationId`` (:mod:`messaging.fifo`), plus the message attributes ``type`` and ``kind`` (so SNS filter
policies work with either filter-policy scope). Batches go 10 per call (the SNS/SQS limit); entries the service
rejects are reported in :class:`BatchResult`, never dropped; a whole call refused as the sender's fault is sent again
entry by entry, so the refusal is reported for the one entry at fault (SNS refuses a whole ``PublishBatch`` for one
malformed entry). The delivery per Lambda batch (:mod:`messaging.delivery`) and the client's batch sends
(:meth:`~messaging.client.MessagingClient.notify_batch`) keep message groups in order on top of them. boto3
clients are injected or created lazily on first use, never at import time.

Example:
    >>> from messaging.envelope import event
    >>> class FakeSns:
    ...     def publish_batch(self, **kwargs):
    ...         entries = kwargs["PublishBatchRequestEntries"]
    ...         return {"Successful": [{"Id": e["Id"], "MessageId": "m"} for e in entries], "Failed": []}
    >>> publisher = TopicPublisher("arn:aws:sns:eu-west-1:123456789012:events.fifo", client=FakeSns())
    >>> evt = event("orders.OrderCreated", {"order_id": "o-1"}, source="/orders", partitionkey="c-1", id="e-1")
    >>> publisher.publish_batch([evt])
    BatchResult(succeeded=['e-1'], failed=[])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from messaging.aws import LazyClient
from messaging.claim_check import CHANNEL_LIMIT_BYTES, message_size
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope
from messaging.errors import PublishFailed
from messaging.failures import is_sender_fault
from messaging.fifo import deduplication_id, message_group_id

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sqs.client import SQSClient

MAX_BATCH_SIZE = 10
"""SNS ``PublishBatch`` and SQS ``SendMessageBatch`` take at most 10 entries per call."""
NO_RESULT = "NoResult"
"""Code of an entry a batch answer mentioned neither as successful nor as failed (reported failed, transiently)."""
MAX_BATCH_BYTES = CHANNEL_LIMIT_BYTES
"""... and at most 256 KiB of messages (bodies and attributes) per call."""


@dataclass(frozen=True, slots=True)
class FailedEntry:
    """One message that SNS or SQS did not accept (``id`` is the envelope id)."""

    id: str
    code: str
    message: str
    sender_fault: bool


@dataclass(slots=True)
class BatchResult:
    """Outcome of a batched publish or send: the envelope ids accepted and the entries rejected.

    Example:
        >>> result = BatchResult(succeeded=["a"], failed=[FailedEntry("b", "InvalidParameter", "too long", True)])
        >>> result.ok
        False
        >>> result.raise_for_failures()
        Traceback (most recent call last):
        ...
        messaging.errors.PublishFailed: 1 message(s) not accepted: b: InvalidParameter (too long)
    """

    succeeded: list[str] = field(default_factory=list)
    failed: list[FailedEntry] = field(default_factory=list)
    calls: int = field(default=0, repr=False, compare=False)
    """API calls it took."""

    @property
    def ok(self) -> bool:
        return not self.failed

    def raise_for_failures(self) -> None:
        """Raise :class:`~messaging.errors.PublishFailed` if any entry was rejected."""
        if self.failed:
            raise PublishFailed(
                [(entry.id, entry.code, entry.message) for entry in self.failed],
                [entry.sender_fault for entry in self.failed],
            )


class EventPublisher(Protocol):
    """Port: where a consumer's emitted events go (SNS topic in production, an in-memory fake in unit tests)."""

    def publish(self, envelope: Envelope) -> str:
        """Publish one envelope; return the broker's message id; raise on failure."""
        ...

    def publish_batch(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """Publish envelopes in order; report rejected entries instead of raising."""
        ...


def _entry(body_key: str, body: str, envelope: Envelope, *, fifo: bool) -> dict[str, Any]:
    """The request entry of one message: body, ``type``/``kind`` attributes and, on FIFO, group and dedup ids."""
    entry: dict[str, Any] = {
        body_key: body,
        "MessageAttributes": {
            "type": {"DataType": "String", "StringValue": envelope.type},
            "kind": {"DataType": "String", "StringValue": envelope.kind.value},
        },
    }
    if fifo:
        entry["MessageGroupId"] = message_group_id(envelope)
        entry["MessageDeduplicationId"] = deduplication_id(envelope)
    return entry


def _chunks(entries: Sequence[dict[str, Any]], body_key: str) -> list[list[int]]:
    """Positions of ``entries`` cut into calls of at most 10 entries and 256 KiB."""
    chunks: list[list[int]] = []
    size = 0
    for position, entry in enumerate(entries):
        entry_size = message_size(entry[body_key], entry.get("MessageAttributes"))
        if not chunks or len(chunks[-1]) >= MAX_BATCH_SIZE or size + entry_size > MAX_BATCH_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(position)
        size += entry_size
    return chunks


def _send_in_batches(
    envelopes: Sequence[Envelope],
    entries: Sequence[dict[str, Any]],
    call: Callable[[list[dict[str, Any]]], Any],
    body_key: str,
) -> BatchResult:
    """Send ``entries`` (one per envelope, prepared in advance) in calls of 10 entries and 256 KiB at most, in order;
    an entry's ``Id`` is its position in the call, mapped back to the envelope id in the result. A call refused as a
    whole as the sender's fault is made again entry by entry, to find the entry at fault."""
    from botocore.exceptions import ClientError  # noqa: PLC0415

    result = BatchResult()
    pending = _chunks(entries, body_key)
    while pending:
        chunk = pending.pop(0)
        batch = [{"Id": str(n), **entries[position]} for n, position in enumerate(chunk)]
        result.calls += 1
        try:
            response = call(batch)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
            code, message = str(error.get("Code", "ClientError")), str(error.get("Message", exc))
            fault = 400 <= status < 500
            if len(chunk) > 1 and is_sender_fault(code, status=status):
                pending[:0] = [[position] for position in chunk]  # one by one: which entry is at fault?
                continue
            result.failed.extend(FailedEntry(envelopes[p].id, code, message, fault) for p in chunk)
            continue
        for ok in response.get("Successful", []):
            result.succeeded.append(envelopes[chunk[int(ok["Id"])]].id)
        for bad in response.get("Failed", []):
            result.failed.append(
                FailedEntry(
                    id=envelopes[chunk[int(bad["Id"])]].id,
                    code=str(bad.get("Code", "")),
                    message=str(bad.get("Message", "")),
                    sender_fault=bool(bad.get("SenderFault", False)),
                )
            )
        answered = {str(entry["Id"]) for entry in [*response.get("Successful", []), *response.get("Failed", [])]}
        result.failed.extend(  # an entry the answer does not mention is not known to be sent: never dropped silently
            FailedEntry(envelopes[position].id, NO_RESULT, "the answer did not mention this entry", False)
            for n, position in enumerate(chunk)
            if str(n) not in answered
        )
    return result


class TopicPublisher:
    """Publishes envelopes to an SNS topic (FIFO if the ARN ends in ``.fifo``).

    ``publish`` raises on failure; ``publish_batch`` reports rejected entries in the :class:`BatchResult`.
    """

    def __init__(
        self, topic_arn: str, client: SNSClient | None = None, *, codec: CloudEventJsonCodec | None = None
    ) -> None:
        self.topic_arn = topic_arn
        self._client: LazyClient[SNSClient] = LazyClient("sns", client)
        self._codec = codec or CloudEventJsonCodec()
        self._fifo = topic_arn.endswith(".fifo")

    @property
    def client(self) -> SNSClient:
        return self._client.get()

    def _entry(self, envelope: Envelope) -> dict[str, Any]:
        return _entry("Message", self._codec.encode(envelope), envelope, fifo=self._fifo)

    def publish(self, envelope: Envelope) -> str:
        """Publish one envelope; return the SNS ``MessageId``."""
        response = self.client.publish(TopicArn=self.topic_arn, **self._entry(envelope))
        return response["MessageId"]

    def publish_batch(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """Publish envelopes with ``PublishBatch``, 10 per call (256 KiB at most), in order."""
        entries = [self._entry(env) for env in envelopes]  # validates every envelope before sending any

        def call(batch: list[dict[str, Any]]) -> Any:
            return self.client.publish_batch(TopicArn=self.topic_arn, PublishBatchRequestEntries=batch)  # type: ignore[arg-type]

        return _send_in_batches(envelopes, entries, call, "Message")


class QueueSender:
    """Sends envelopes to an SQS queue (FIFO if the URL ends in ``.fifo``).

    ``send`` raises on failure; ``send_batch`` reports rejected entries in the :class:`BatchResult`.

    Example:
        >>> from messaging.envelope import command
        >>> class FakeSqs:
        ...     def send_message(self, **kwargs):
        ...         return {"MessageId": "sqs-1"}
        >>> sender = QueueSender("https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo", client=FakeSqs())
        >>> sender.send(command("orders.CreateOrder", {}, source="/web", partitionkey="c-1"))
        'sqs-1'
    """

    def __init__(
        self, queue_url: str, client: SQSClient | None = None, *, codec: CloudEventJsonCodec | None = None
    ) -> None:
        self.queue_url = queue_url
        self._client: LazyClient[SQSClient] = LazyClient("sqs", client)
        self._codec = codec or CloudEventJsonCodec()
        self._fifo = queue_url.endswith(".fifo")

    @property
    def client(self) -> SQSClient:
        return self._client.get()

    def _entry(self, envelope: Envelope) -> dict[str, Any]:
        return _entry("MessageBody", self._codec.encode(envelope), envelope, fifo=self._fifo)

    def send(self, envelope: Envelope) -> str:
        """Send one envelope; return the SQS ``MessageId``."""
        response = self.client.send_message(QueueUrl=self.queue_url, **self._entry(envelope))
        return response["MessageId"]

    def send_batch(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """Send envelopes with ``SendMessageBatch``, 10 per call (256 KiB at most), in order."""
        entries = [self._entry(env) for env in envelopes]  # validates every envelope before sending any

        def call(batch: list[dict[str, Any]]) -> Any:
            return self.client.send_message_batch(QueueUrl=self.queue_url, Entries=batch)  # type: ignore[arg-type]

        return _send_in_batches(envelopes, entries, call, "MessageBody")
