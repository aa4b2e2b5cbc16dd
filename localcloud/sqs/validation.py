"""SQS request validation with the error codes and messages SQS returns, where moto 5.2.5 accepts the request.

- FIFO ``MessageDeduplicationId`` and ``MessageGroupId``: 1-128 alphanumeric and punctuation characters, else
  ``InvalidParameterValue`` (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
- A ``MessageDeduplicationId`` on a standard queue is ``InvalidParameterValue`` ("not valid for this queue type");
  ``MessageGroupId`` is allowed there (fair queues).
- FIFO-only queue attributes on a standard queue: ``ContentBasedDeduplication`` and ``FifoQueue`` are
  ``InvalidAttributeName`` ("Unknown Attribute"); ``DeduplicationScope`` and ``FifoThroughputLimit`` are
  ``InvalidAttributeName`` ("only when FifoQueue is set to true")
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html).
- ``DeleteMessageBatch`` and ``ChangeMessageVisibilityBatch``: more than 10 entries is
  ``TooManyEntriesInBatchRequest``, a repeated entry ``Id`` is ``BatchEntryIdsNotDistinct``, an ``Id`` that is not
  1-80 alphanumerics, hyphens and underscores is ``InvalidBatchEntryId``, as for ``SendMessageBatch``
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessageBatch.html).
- A queue named ``*.fifo`` without ``FifoQueue=true`` is ``InvalidParameterValue``; ``FifoQueue`` given to a
  standard queue, even ``false``, is ``InvalidAttributeName``; ``SetQueueAttributes`` of ``FifoQueue=false`` on a
  FIFO queue is ``InvalidAttributeValue`` ("Modifying queue type is not supported"); creating an existing queue
  with another value of an attribute names that attribute (``QueueAlreadyExists``).
- An empty ``MessageBody`` is ``MissingParameter``; ``WaitTimeSeconds`` outside 0-20 is ``InvalidParameterValue``
  with SQS's message.
- Receipt handles: one that SQS never issued is ``ReceiptHandleIsInvalid`` naming the handle; changing the
  visibility of a deleted message is ``InvalidParameterValue`` ("Message does not exist or is not available for
  visibility timeout change").

Where the API reference gives no message, the messages are the ones AWS answered in LocalStack's recordings
(``tests/aws/services/sqs/test_sqs.snapshot.json``; the conformance suite names the entry of each).
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from moto.sqs import models as sqs_models
from moto.sqs.exceptions import (
    BatchEntryIdsNotDistinct,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidBatchEntryId,
    InvalidParameterValue,
    MissingParameter,
    QueueAlreadyExists,
    ReceiptHandleIsInvalid,
    TooManyEntriesInBatchRequest,
)
from moto.sqs.responses import SQSResponse

from localcloud.motopatches.core import Patch

FIFO_ID = re.compile(r"^[0-9A-Za-z!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
"""Alphanumeric and punctuation characters, 1 to 128 of them."""
MAX_BATCH_ENTRIES = 10
BATCH_ENTRY_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
MAX_WAIT_TIME_SECONDS = 20
UNKNOWN_ON_STANDARD = ("FifoQueue", "ContentBasedDeduplication")
FIFO_ONLY = ("DeduplicationScope", "FifoThroughputLimit")


def check_fifo_id(value: str | None, parameter: str) -> None:
    """Raise ``InvalidParameterValue`` unless ``value`` is absent or a valid FIFO id."""
    if value is not None and not FIFO_ID.match(value):
        raise InvalidParameterValue(
            f"Value {value} for parameter {parameter} is invalid. Reason: {parameter} can only include alphanumeric "
            "and punctuation characters. 1 to 128 in length."
        )


def check_standard_queue_attributes(attributes: Mapping[str, Any]) -> None:
    """Raise ``InvalidAttributeName`` for a FIFO-only attribute given to a standard queue."""
    for name in attributes:
        if name in UNKNOWN_ON_STANDARD:
            raise InvalidAttributeName(name)
        if name in FIFO_ONLY:
            error = InvalidAttributeName(name)
            error.message = f"You can specify the {name} only when FifoQueue is set to true."
            raise error


def check_batch_entries(entries: list[dict[str, Any]]) -> None:
    """Raise ``TooManyEntriesInBatchRequest`` or ``BatchEntryIdsNotDistinct`` for a batch SQS refuses."""
    if len(entries) > MAX_BATCH_ENTRIES:
        raise TooManyEntriesInBatchRequest(len(entries))
    seen: set[str] = set()
    for entry in entries:
        if not BATCH_ENTRY_ID.match(str(entry.get("Id", ""))):
            raise InvalidBatchEntryId
        if entry.get("Id") in seen:
            raise BatchEntryIdsNotDistinct(entry["Id"])
        seen.add(entry.get("Id", ""))


def _validate_message(original: Any) -> Any:
    @functools.wraps(original)
    def validate_message(self: Any, queue: Any, message_body: str, delay_seconds: int,  # noqa: PLR0917
                         deduplication_id: str | None = None, group_id: str | None = None,
                         *args: Any, **kwargs: Any) -> Any:
        if not message_body:
            raise MissingParameter("MessageBody")
        if queue.fifo_queue:
            check_fifo_id(deduplication_id, "MessageDeduplicationId")
            check_fifo_id(group_id, "MessageGroupId")
        elif deduplication_id is not None:
            raise InvalidParameterValue(
                f"Value {deduplication_id} for parameter MessageDeduplicationId is invalid. Reason: The request "
                "includes a parameter that is not valid for this queue type."
            )
        elif group_id is not None:
            check_fifo_id(group_id, "MessageGroupId")
        return original(self, queue, message_body, delay_seconds, deduplication_id, group_id, *args, **kwargs)

    return validate_message


def invalid_receipt_handle(handle: str) -> ReceiptHandleIsInvalid:
    """``ReceiptHandleIsInvalid`` with SQS's message, which names the handle."""
    error = ReceiptHandleIsInvalid()
    error.message = f'The input receipt handle "{handle}" is not a valid receipt handle.'
    return error


def _create_queue(original: Any) -> Any:
    @functools.wraps(original)
    def create_queue(self: Any, name: str, tags: dict[str, str] | None = None, **kwargs: Any) -> Any:
        fifo = str(kwargs.get("FifoQueue", "false")).lower() == "true"
        if not fifo:
            check_standard_queue_attributes(kwargs)
            if name.endswith(".fifo"):
                raise InvalidParameterValue(
                    "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
                )
        existing = self.queues.get(name)
        if existing is not None:
            fresh = sqs_models.Queue(name, region=self.region_name, account_id=self.account_id,  # type: ignore[abstract]
                                     **kwargs)
            for key in kwargs:
                if existing.attributes.get(key) != fresh.attributes.get(key):
                    raise QueueAlreadyExists(
                        f"A queue already exists with the same name and a different value for attribute {key}"
                    )
        return original(self, name, tags, **kwargs)

    return create_queue


def _set_queue_attributes(original: Any) -> Any:
    @functools.wraps(original)
    def set_queue_attributes(self: Any, queue_name: str, attributes: dict[str, Any]) -> Any:
        queue = self.get_queue(queue_name)
        if not queue.fifo_queue:
            check_standard_queue_attributes(attributes)
        elif "FifoQueue" in attributes and str(attributes["FifoQueue"]).lower() != "true":
            error = InvalidAttributeValue("FifoQueue")
            error.message = "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported."
            raise error
        return original(self, queue_name, attributes)

    return set_queue_attributes


def _change_message_visibility(original: Any) -> Any:
    @functools.wraps(original)
    def change_message_visibility(self: Any, queue_name: str, receipt_handle: str, visibility_timeout: int) -> Any:
        try:
            return original(self, queue_name, receipt_handle, visibility_timeout)
        except ReceiptHandleIsInvalid:
            if receipt_handle in self.get_queue(queue_name).deleted_messages:
                raise InvalidParameterValue(
                    f"Value {receipt_handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist "
                    "or is not available for visibility timeout change."
                ) from None
            raise invalid_receipt_handle(receipt_handle) from None

    return change_message_visibility


def _queue_delete_message(original: Any) -> Any:
    @functools.wraps(original)
    def delete_message(self: Any, receipt_handle: str) -> Any:
        try:
            return original(self, receipt_handle)
        except ReceiptHandleIsInvalid:
            raise invalid_receipt_handle(receipt_handle) from None

    return delete_message


def _receive_message(original: Any) -> Any:
    @functools.wraps(original)
    def receive_message(self: Any) -> Any:
        wait = self._get_param("WaitTimeSeconds")
        if wait is not None and not 0 <= int(wait) <= MAX_WAIT_TIME_SECONDS:
            raise InvalidParameterValue(
                f"Value {wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
            )
        return original(self)

    return receive_message


def check_message_size(queue: Any, body: str, attributes: Mapping[str, Any]) -> None:
    """Raise ``InvalidParameterValue`` when body and message attributes (each name, type and value) together exceed
    the queue's ``MaximumMessageSize``
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html)."""
    size = len(body.encode("utf-8"))
    for name, attribute in attributes.items():
        value = attribute.get("StringValue", attribute.get("BinaryValue", "")) if isinstance(attribute, dict) else ""
        value_size = len(value) if isinstance(value, bytes) else len(str(value).encode("utf-8"))
        size += len(name.encode("utf-8")) + len(str(attribute.get("DataType", "")).encode("utf-8")) + value_size
    limit = int(queue.maximum_message_size)
    if size > limit:
        raise InvalidParameterValue(
            f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes."
        )


def _send_message(original: Any) -> Any:
    """FIFO ``DelaySeconds=0`` is accepted and means the queue's delay (recorded: LocalStack
    ``test_fifo_queue_send_message_with_zero_delay_defaults_to_queue_delay[sqs]``); any other per-message delay
    on a FIFO queue is refused (``InvalidParameterValue``)."""

    @functools.wraps(original)
    def send_message(self: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        if self.get_queue(queue_name).fifo_queue and kwargs.get("delay_seconds") is not None \
                and int(kwargs["delay_seconds"]) == 0:
            kwargs["delay_seconds"] = None
        check_message_size(self.get_queue(queue_name), message_body, kwargs.get("message_attributes") or {})
        for attribute in (kwargs.get("message_attributes") or {}).values():
            # SNS raw delivery hands binary attributes over base64-encoded; SQS keeps (and hashes) bytes.
            if isinstance(attribute, dict) and isinstance(attribute.get("BinaryValue"), str):
                attribute["BinaryValue"] = base64.b64decode(attribute["BinaryValue"])
        return original(self, queue_name, message_body, *args, **kwargs)

    return send_message


def _batch_response(original: Any) -> Any:
    @functools.wraps(original)
    def batch(self: Any) -> Any:
        check_batch_entries(self._get_param("Entries", []))
        return original(self)

    return batch


def patches() -> Iterator[Patch]:
    """The patches of this module (``set_queue_attributes`` is wrapped by :mod:`.patches` too: this one goes first)."""
    backend = sqs_models.SQSBackend
    yield backend, "_validate_message", _validate_message(backend._validate_message)
    yield backend, "create_queue", _create_queue(backend.create_queue)
    yield backend, "set_queue_attributes", _set_queue_attributes(backend.set_queue_attributes)
    yield backend, "send_message", _send_message(backend.send_message)
    yield backend, "change_message_visibility", _change_message_visibility(backend.change_message_visibility)
    yield sqs_models.Queue, "delete_message", _queue_delete_message(sqs_models.Queue.delete_message)
    yield SQSResponse, "receive_message", _receive_message(SQSResponse.receive_message)
    yield SQSResponse, "delete_message_batch", _batch_response(SQSResponse.delete_message_batch)
    yield SQSResponse, "change_message_visibility_batch", _batch_response(SQSResponse.change_message_visibility_batch)
