"""In-memory fakes of the runtime's ports and boto3 clients, for unit tests and the contract suite."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS, DataRecord

from messaging.channels import BatchResult, FailedEntry
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope
from messaging.fifo import message_group_id

MAX_SNS_MESSAGE_BYTES = 262_144
codec = CloudEventJsonCodec()


@dataclass
class InMemoryEventPublisher:
    """The EventPublisher port in memory, with the checks SNS makes: a message over 256 KiB is rejected (sender
    fault). ``reject_types`` names further event types to refuse."""

    published: list[Envelope] = field(default_factory=list)
    reject_types: set[str] = field(default_factory=set)

    def publish(self, envelope: Envelope) -> str:
        result = self.publish_batch([envelope])
        result.raise_for_failures()
        return f"mem-{envelope.id}"

    def publish_batch(self, envelopes: Sequence[Envelope]) -> BatchResult:
        for envelope in envelopes:
            message_group_id(envelope)  # raises before sending anything, like the real publisher
        result = BatchResult()
        for envelope in envelopes:
            if len(codec.encode(envelope)) > MAX_SNS_MESSAGE_BYTES:
                result.failed.append(FailedEntry(envelope.id, "InvalidParameter", "Message too long", True))
            elif envelope.type in self.reject_types:
                result.failed.append(FailedEntry(envelope.id, "InvalidParameter", "rejected by the fake", True))
            else:
                self.published.append(envelope)
                result.succeeded.append(envelope.id)
        return result


@dataclass
class RecordingSqsClient:
    """Records ``send_message`` / ``send_message_batch`` calls like a boto3 SQS client; ``fail_urls`` raise."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    fail_urls: set[str] = field(default_factory=set)

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs["QueueUrl"] in self.fail_urls:
            raise ConnectionError(f"cannot reach {kwargs['QueueUrl']}")
        self.sent.append(kwargs)
        return {"MessageId": str(uuid.uuid4())}

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        successful = []
        for entry in kwargs["Entries"]:
            self.send_message(QueueUrl=kwargs["QueueUrl"], **{k: v for k, v in entry.items() if k != "Id"})
            successful.append({"Id": entry["Id"], "MessageId": str(uuid.uuid4())})
        return {"Successful": successful, "Failed": []}

    def to(self, queue_url: str) -> list[dict[str, Any]]:
        return [call for call in self.sent if call["QueueUrl"] == queue_url]


class InMemoryPersistenceLayer(BasePersistenceLayer):
    """Powertools idempotency persistence in a dict, with the conditional-put semantics of the DynamoDB layer."""

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, DataRecord] = {}
        self._lock = threading.Lock()

    def _get_record(self, idempotency_key: str) -> DataRecord:
        with self._lock:
            record = self.records.get(idempotency_key)
        if record is None:
            raise IdempotencyItemNotFoundError
        return record

    def _put_record(self, data_record: DataRecord) -> None:
        now = dt.datetime.now()
        with self._lock:
            existing = self.records.get(data_record.idempotency_key)
            if existing is not None:
                expired = existing.expiry_timestamp is not None and existing.expiry_timestamp < int(now.timestamp())
                in_progress_expired = (
                    existing.status == STATUS_CONSTANTS["INPROGRESS"]
                    and existing.in_progress_expiry_timestamp is not None
                    and existing.in_progress_expiry_timestamp < int(now.timestamp() * 1000)
                )
                if not (expired or in_progress_expired):
                    self._validate_payload(data_payload=data_record, stored_data_record=existing)
                    raise IdempotencyItemAlreadyExistsError(old_data_record=existing)
            self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        with self._lock:
            existing = self.records.get(data_record.idempotency_key)
            in_progress_expiry = existing.in_progress_expiry_timestamp if existing else None
            self.records[data_record.idempotency_key] = DataRecord(
                idempotency_key=data_record.idempotency_key,
                status=data_record.status,
                expiry_timestamp=data_record.expiry_timestamp,
                in_progress_expiry_timestamp=in_progress_expiry,
                response_data=data_record.response_data,
                payload_hash=data_record.payload_hash,
            )

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self.records.pop(data_record.idempotency_key, None)
