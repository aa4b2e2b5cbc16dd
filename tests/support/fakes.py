"""In-memory fakes of the runtime's ports and boto3 clients, for unit tests and the contract suite."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from messaging.channels import BatchResult, FailedEntry
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope
from messaging.fifo import message_group_id

MAX_SNS_MESSAGE_BYTES = 262_144
codec = CloudEventJsonCodec()


@dataclass
class InMemoryEventPublisher:
    """The EventPublisher port in memory, with the checks SNS makes: a message over 256 KiB is rejected (sender
    fault). ``reject_types`` names further event types to refuse with ``rejection`` (code, message, sender fault);
    ``fail_ids`` names envelopes refused that way once each (then accepted). ``batches`` records each call's ids."""

    published: list[Envelope] = field(default_factory=list)
    reject_types: set[str] = field(default_factory=set)
    rejection: tuple[str, str, bool] = ("InternalError", "the fake is failing", False)
    fail_ids: set[str] = field(default_factory=set)
    batches: list[list[str]] = field(default_factory=list)

    def publish(self, envelope: Envelope) -> str:
        result = self.publish_batch([envelope])
        result.raise_for_failures()
        return f"mem-{envelope.id}"

    def publish_batch(self, envelopes: Sequence[Envelope]) -> BatchResult:
        for envelope in envelopes:
            message_group_id(envelope)  # raises before sending anything, like the real publisher
        result = BatchResult(calls=1)
        self.batches.append([envelope.id for envelope in envelopes])
        for envelope in envelopes:
            if len(codec.encode(envelope)) > MAX_SNS_MESSAGE_BYTES:
                result.failed.append(FailedEntry(envelope.id, "InvalidParameter", "Message too long", True))
            elif envelope.id in self.fail_ids:
                self.fail_ids.discard(envelope.id)
                result.failed.append(FailedEntry(envelope.id, *self.rejection))
            elif envelope.type in self.reject_types:
                result.failed.append(FailedEntry(envelope.id, *self.rejection))
            else:
                self.published.append(envelope)
                result.succeeded.append(envelope.id)
        return result


@dataclass
class RecordingSqsClient:
    """Records ``send_message`` / ``send_message_batch`` calls like a boto3 SQS client; ``fail_urls`` cannot be
    reached (a connection error), ``refuse_urls`` answer ``refusal`` (a botocore ``ClientError``, 400 by default).
    ``batches`` records each ``send_message_batch`` call's queue and entry count."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    fail_urls: set[str] = field(default_factory=set)
    refuse_urls: set[str] = field(default_factory=set)
    refusal: tuple[str, int] = ("InvalidParameterValue", 400)
    batches: list[tuple[str, int]] = field(default_factory=list)

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs["QueueUrl"] in self.fail_urls:
            raise ConnectionError(f"cannot reach {kwargs['QueueUrl']}")
        if kwargs["QueueUrl"] in self.refuse_urls:
            code, status = self.refusal
            error = {"Error": {"Code": code, "Message": "refused by the fake"}}
            raise ClientError({**error, "ResponseMetadata": {"HTTPStatusCode": status}}, "SendMessage")  # type: ignore[arg-type]
        self.sent.append(kwargs)
        return {"MessageId": str(uuid.uuid4())}

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        self.batches.append((kwargs["QueueUrl"], len(kwargs["Entries"])))
        successful = []
        for entry in kwargs["Entries"]:
            self.send_message(QueueUrl=kwargs["QueueUrl"], **{k: v for k, v in entry.items() if k != "Id"})
            successful.append({"Id": entry["Id"], "MessageId": str(uuid.uuid4())})
        return {"Successful": successful, "Failed": []}

    def to(self, queue_url: str) -> list[dict[str, Any]]:
        return [call for call in self.sent if call["QueueUrl"] == queue_url]
