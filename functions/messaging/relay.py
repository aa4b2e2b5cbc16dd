"""The transactional outbox, relay side: outbox items, read from the outbox table's DynamoDB stream, go to their SNS
topic or SQS queue in commit order per ``partitionkey`` (transaction log tailing).

The relay is the Lambda function of the stream's event source mapping (one batch per shard at a time,
``ParallelizationFactor`` 1, partial batch responses). A stream keeps the records of one partition key in one
shard in the order they were written, and the outbox item's partition key is the message's ``partitionkey``, so a
batch holds each key's messages in commit order. The relay sends them in that order, batched (``PublishBatch``,
``SendMessageBatch``: consecutive records with one destination, at most 10, each ``partitionkey`` at most once per
call, so a failed entry never has a later message of its key sent in the same call). It stops at the first record
it could not deliver for now and reports that record's sequence number (``batchItemFailures``): Lambda retries the
batch from there, so nothing of that shard after it is sent before it. A retry, or a second relay, sends the same
messages with the same ``MessageDeduplicationId`` (``source`` + ``id``): SNS/SQS drop the copies within their 5-minute
window, the consumers' dedup records beyond it.

A record the broker refuses for good (the sender's fault: too large, an unknown topic, ...) or that is not a valid
outbox item goes to the relay's dead-letter queue (``RELAY_DEAD_LETTER_QUEUE_URL``) with ``failure-code`` and
``failure-reason`` and counts as handled: it never loops. Delivered items are not marked (a write per message): they
expire by TTL (:data:`~messaging.producer.OUTBOX_TTL_SECONDS`); ``REMOVE`` and ``MODIFY`` records are ignored.

Example:
    >>> class FakeSqs:
    ...     def __init__(self):
    ...         self.sent = []
    ...     def send_message_batch(self, **kwargs):
    ...         self.sent += [e["MessageGroupId"] for e in kwargs["Entries"]]
    ...         return {"Successful": [{"Id": e["Id"], "MessageId": "m"} for e in kwargs["Entries"]], "Failed": []}
    >>> from messaging.producer import InMemoryOutboxStore, OutboxProducer
    >>> store = InMemoryOutboxStore()
    >>> with OutboxProducer("outbox", source="/web", store=store).transaction() as tx:
    ...     _ = tx.send("https://sqs/orders.fifo", "orders.CreateOrder", {}, partitionkey="c-1")
    >>> sqs = FakeSqs()
    >>> relay = OutboxRelay(sqs=sqs, dead_letter_queue_url="https://sqs/relay-dlq", logger=Logger(level="ERROR"))
    >>> outcome = relay.relay(relay.records(stream_event(store.log)))
    >>> sqs.sent, len(outcome.delivered), outcome.stopped_at
    (['c-1'], 1, None)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from messaging.aws import LazyClient
from messaging.channels import BatchResult, QueueSender, TopicPublisher
from messaging.claim_check import CHANNEL_LIMIT_BYTES, message_size
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope
from messaging.errors import ConfigurationError, InvalidMessage
from messaging.failures import MAX_ATTRIBUTE_CHARS, is_sender_fault
from messaging.producer import OutboxItem
from messaging.settings import DEFAULT_METRICS_NAMESPACE

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sqs.client import SQSClient

__all__ = ["OutboxRelay", "RelayOutcome", "stream_event"]

MESSAGES_RELAYED = "OutboxMessagesRelayed"
MESSAGES_DEAD_LETTERED = "OutboxMessagesDeadLettered"
MESSAGES_RETRIED = "OutboxMessagesRetried"
MAX_BATCH = 10


@dataclass(frozen=True, slots=True)
class _Record:
    sequence_number: str
    item: OutboxItem | None
    envelope: Envelope | None
    failure: tuple[str, str] | None  # (code, reason) of a record that cannot be delivered at all
    raw: str


@dataclass(slots=True)
class RelayOutcome:
    """What one batch came to: message ids delivered and dead-lettered, and where it stopped (None: the end)."""

    delivered: list[str]
    dead_lettered: list[str]
    stopped_at: str | None = None


def _table_of(event_source_arn: str) -> str:
    """The table name of a stream ARN (``arn:aws:dynamodb:r:a:table/NAME/stream/LABEL``)."""
    return event_source_arn.split(":table/", 1)[-1].split("/", 1)[0]


class OutboxRelay:
    """Delivers the outbox items of a DynamoDB stream batch (see the module docstring). Clients are injected or
    created on first use; ``dead_letter_queue_url`` defaults to ``RELAY_DEAD_LETTER_QUEUE_URL`` at call time."""

    def __init__(
        self,
        *,
        sns: SNSClient | None = None,
        sqs: SQSClient | None = None,
        dead_letter_queue_url: str | None = None,
        service: str | None = None,
        environ: Callable[[], Mapping[str, str]] | None = None,
        logger: Logger | None = None,
    ) -> None:
        self._sns: LazyClient[SNSClient] = LazyClient("sns", sns)
        self._sqs: LazyClient[SQSClient] = LazyClient("sqs", sqs)
        self._dead_letter_queue_url = dead_letter_queue_url
        self._codec = CloudEventJsonCodec()
        self.service = service
        """The ``service`` dimension of the metrics and the logger's service; None: the function's
        ``POWERTOOLS_SERVICE_NAME`` (``orders-outbox-relay``, what the dashboard and alarms read), else
        ``outbox-relay``."""
        self.logger = logger or Logger(service=service)  # Powertools reads POWERTOOLS_SERVICE_NAME when None
        self._environ = environ

    def _env(self) -> Mapping[str, str]:
        import os  # noqa: PLC0415

        return self._environ() if self._environ is not None else os.environ

    def handle(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        """The Lambda handler: a stream event in, ``{"batchItemFailures": [...]}`` out (at most one entry: the
        record to retry the shard from)."""
        outcome = self.relay(self.records(event))
        counts = Counter({MESSAGES_RELAYED: len(outcome.delivered), MESSAGES_DEAD_LETTERED: len(outcome.dead_lettered)})
        failures: list[dict[str, str]] = []
        if outcome.stopped_at is not None:
            failures.append({"itemIdentifier": outcome.stopped_at})
            counts[MESSAGES_RETRIED] += 1
        self._flush_metrics(counts)
        return {"batchItemFailures": failures}

    def records(self, event: Mapping[str, Any]) -> list[_Record]:
        """The ``INSERT`` records of a stream event, read as outbox items (others are ignored)."""
        return [self._read(record) for record in event.get("Records", []) if record.get("eventName") == "INSERT"]

    def _read(self, record: Mapping[str, Any]) -> _Record:
        stream = record.get("dynamodb", {})
        sequence = str(stream.get("SequenceNumber", ""))
        image = stream.get("NewImage") or {}
        raw = json.dumps(image, sort_keys=True)
        try:
            item = OutboxItem.from_item(_table_of(str(record.get("eventSourceARN", ""))), image)
        except (KeyError, TypeError, ValueError):
            return _Record(sequence, None, None, ("invalid_outbox_item", "the record is not an outbox item"), raw)
        try:
            envelope = self._codec.decode(item.message)
        except InvalidMessage as exc:
            return _Record(sequence, item, None, (exc.code, f"{exc.field or 'message'}: {exc.reason}"), item.message)
        if envelope.partitionkey is None:
            return _Record(sequence, item, None, ("missing_partitionkey", "the message has no partitionkey"),
                           item.message)
        return _Record(sequence, item, envelope, None, item.message)

    # -- delivery ---------------------------------------------------------------------------------------------------

    def relay(self, records: Sequence[_Record]) -> RelayOutcome:
        """Deliver ``records`` in order; stop at the first one that cannot be delivered for now."""
        outcome = RelayOutcome([], [])
        position = 0
        while position < len(records):
            record = records[position]
            if record.failure is not None or record.item is None or record.envelope is None:
                code, reason = record.failure or ("invalid_outbox_item", "the record is not an outbox item")
                if not self._dead_letter(record, code, reason, outcome):
                    return outcome
                position += 1
                continue
            chunk = self._chunk(records, position)
            if not self._deliver(chunk, outcome):
                return outcome
            position += len(chunk)
        return outcome

    @staticmethod
    def _chunk(records: Sequence[_Record], start: int) -> list[_Record]:
        """Deliverable records from ``start`` with one destination, at most 10, each partition key at most once."""
        first = records[start]
        assert first.item is not None
        chunk: list[_Record] = []
        keys: set[str] = set()
        for record in records[start:]:
            if record.failure is not None or record.item is None or record.envelope is None:
                break
            if record.item.destination != first.item.destination or record.item.partitionkey in keys:
                break
            chunk.append(record)
            keys.add(record.item.partitionkey)
            if len(chunk) == MAX_BATCH:
                break
        return chunk

    def _deliver(self, chunk: Sequence[_Record], outcome: RelayOutcome) -> bool:
        destination = chunk[0].item.destination if chunk[0].item else ""
        envelopes = [record.envelope for record in chunk if record.envelope is not None]
        try:
            result = self._send(destination, envelopes)
        except InvalidMessage as exc:  # an envelope the channel refuses before sending (checked when staged)
            return self._dead_letter(chunk[0], exc.code, exc.reason, outcome)
        except Exception:
            self.logger.exception("outbox delivery failed; the batch is retried from this record",
                                  extra={"cloudevent_id": envelopes[0].id, "destination": destination})
            outcome.stopped_at = chunk[0].sequence_number
            return False
        failed = {entry.id: entry for entry in result.failed}
        for record in chunk:
            envelope = record.envelope
            assert envelope is not None
            entry = failed.get(envelope.id)
            if entry is None:
                outcome.delivered.append(envelope.id)
                self.logger.info("outbox message relayed", extra=self._log_fields(record, destination))
                continue
            if is_sender_fault(entry.code, sender_fault=entry.sender_fault):
                reason = f"the broker refused the message for good: {entry.code}: {entry.message}"
                if self._dead_letter(record, "delivery_rejected", reason, outcome):
                    continue
                return False
            self.logger.warning("outbox delivery failed; the batch is retried from this record",
                                extra={**self._log_fields(record, destination), "error_code": entry.code})
            outcome.stopped_at = record.sequence_number
            return False
        return True

    @staticmethod
    def _log_fields(record: _Record, destination: str) -> dict[str, Any]:
        envelope = record.envelope
        assert envelope is not None
        return {
            "cloudevent_id": envelope.id,
            "cloudevent_type": envelope.type,
            "partitionkey": envelope.partitionkey,
            "kind": envelope.kind.value,
            "destination": destination,
            "sequence_number": record.sequence_number,
        }

    def _send(self, destination: str, envelopes: Sequence[Envelope]) -> BatchResult:
        if destination.startswith("arn:aws:sns:"):
            return TopicPublisher(destination, client=self._sns.get(), codec=self._codec).publish_batch(envelopes)
        return QueueSender(destination, client=self._sqs.get(), codec=self._codec).send_batch(envelopes)

    def _dead_letter(self, record: _Record, code: str, reason: str, outcome: RelayOutcome) -> bool:
        """Send the record to the relay's dead-letter queue with its reason; False (stop here) if that failed."""
        url = self._dead_letter_queue_url or self._env().get("RELAY_DEAD_LETTER_QUEUE_URL")
        if not url:
            raise ConfigurationError("RELAY_DEAD_LETTER_QUEUE_URL is not set: cannot dead-letter an outbox item")
        attributes = {
            "failure-code": code,
            "failure-reason": reason[:MAX_ATTRIBUTE_CHARS],
            "stream-sequence-number": record.sequence_number,
        }
        if record.item is not None:
            attributes |= {"destination": record.item.destination[:MAX_ATTRIBUTE_CHARS],
                           "outbox-table": record.item.table, "outbox-sk": record.item.sort_key}
        body = record.raw if message_size(record.raw) <= CHANNEL_LIMIT_BYTES - 4096 else record.raw[:200_000]
        message_id = record.envelope.id if record.envelope else (record.item.message_id if record.item else "")
        try:
            self._sqs.get().send_message(
                QueueUrl=url,
                MessageBody=body or "{}",
                MessageAttributes={k: {"DataType": "String", "StringValue": v or "-"} for k, v in attributes.items()},
            )
        except Exception:
            self.logger.exception("the outbox dead-letter queue refused the item; the batch is retried from it")
            outcome.stopped_at = record.sequence_number
            return False
        outcome.dead_lettered.append(message_id or record.sequence_number)
        self.logger.warning(
            "message moved to the dead-letter queue",
            extra={"cloudevent_id": message_id, "failure_code": code, "failure_reason": reason,
                   "sequence_number": record.sequence_number},
        )
        return True

    def _flush_metrics(self, counts: Counter[str]) -> None:
        """Every metric of the relay for the batch, zeros included (as the consumers do), so the dashboard's lines and
        the alarms always have data."""
        env = self._env()
        metrics = EphemeralMetrics(
            namespace=env.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE,
            service=self.service or env.get("POWERTOOLS_SERVICE_NAME") or "outbox-relay",
        )
        for name in (MESSAGES_RELAYED, MESSAGES_DEAD_LETTERED, MESSAGES_RETRIED):
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=counts[name])
        metrics.flush_metrics()


def stream_event(items: Iterable[OutboxItem], *, first_sequence: int = 100, region: str = "us-east-1",
                 account_id: str = "123456789012") -> dict[str, Any]:
    """The DynamoDB stream event Lambda would hand the relay for ``items`` (INSERT records, ``NEW_IMAGE``), in
    order; for tests and for replaying an outbox by hand."""
    records = []
    for n, item in enumerate(items):
        records.append({
            "eventID": f"{first_sequence + n}",
            "eventName": "INSERT",
            "eventSource": "aws:dynamodb",
            "awsRegion": region,
            "eventSourceARN": f"arn:aws:dynamodb:{region}:{account_id}:table/{item.table}/stream/2026-01-01T00:00:00",
            "dynamodb": {
                "Keys": {"pk": {"S": item.partitionkey}, "sk": {"S": item.sort_key}},
                "NewImage": item.to_item(),
                "SequenceNumber": f"{first_sequence + n:021d}",
                "StreamViewType": "NEW_IMAGE",
            },
        })
    return {"Records": records}
