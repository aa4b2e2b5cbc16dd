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
  ``TooManyEntriesInBatchRequest``, a repeated entry ``Id`` is ``BatchEntryIdsNotDistinct``, as for
  ``SendMessageBatch`` (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessageBatch.html).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from moto.sqs import models as sqs_models
from moto.sqs.exceptions import (
    BatchEntryIdsNotDistinct,
    InvalidAttributeName,
    InvalidParameterValue,
    TooManyEntriesInBatchRequest,
)
from moto.sqs.responses import SQSResponse

from localcloud.motopatches.core import Patch

FIFO_ID = re.compile(r"^[0-9A-Za-z!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
"""Alphanumeric and punctuation characters, 1 to 128 of them."""
MAX_BATCH_ENTRIES = 10
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
        if entry.get("Id") in seen:
            raise BatchEntryIdsNotDistinct(entry["Id"])
        seen.add(entry.get("Id", ""))


def _validate_message(original: Any) -> Any:
    @functools.wraps(original)
    def validate_message(self: Any, queue: Any, message_body: str, delay_seconds: int,  # noqa: PLR0917
                         deduplication_id: str | None = None, group_id: str | None = None,
                         *args: Any, **kwargs: Any) -> Any:
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


def _create_queue(original: Any) -> Any:
    @functools.wraps(original)
    def create_queue(self: Any, name: str, tags: dict[str, str] | None = None, **kwargs: Any) -> Any:
        if not name.endswith(".fifo") and str(kwargs.get("FifoQueue", "false")).lower() != "true":
            check_standard_queue_attributes({k: v for k, v in kwargs.items() if k != "FifoQueue"})
        return original(self, name, tags, **kwargs)

    return create_queue


def _set_queue_attributes(original: Any) -> Any:
    @functools.wraps(original)
    def set_queue_attributes(self: Any, queue_name: str, attributes: dict[str, Any]) -> Any:
        queue = self.get_queue(queue_name)
        if not queue.fifo_queue:
            check_standard_queue_attributes(attributes)
        elif "FifoQueue" in attributes and str(attributes["FifoQueue"]).lower() != "true":
            raise InvalidAttributeName("FifoQueue")
        return original(self, queue_name, attributes)

    return set_queue_attributes


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
    yield SQSResponse, "delete_message_batch", _batch_response(SQSResponse.delete_message_batch)
    yield SQSResponse, "change_message_visibility_batch", _batch_response(SQSResponse.change_message_visibility_batch)
