"""Failure policy of a consumer: what happens to a message that can never be processed.

A :class:`~messaging.errors.PermanentMessageError` moves the record to the queue's dead-letter queue at once, its body
unchanged, with the reason in message attributes (``failure-code``, ``failure-reason``, ``failure-field``,
``source-queue``, ``source-message-id``), and the record counts as handled, so its message group moves on. A command
whose ``replyto`` is on the allowlist also gets a failure reply carrying the same code (:func:`answers_with_failure`).
Anything else is transient: the record is reported in ``batchItemFailures`` and SQS retries it.

Example:
    >>> from messaging.errors import UnknownMessageType
    >>> failure_attributes(UnknownMessageType("orders.Nope"), source_queue="arn:q", source_message_id="m-1")
    {'failure-code': 'unknown_type', 'failure-reason': "no handler is registered for 'orders.Nope'", \
'source-queue': 'arn:q', 'source-message-id': 'm-1', 'failure-field': 'type'}
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from messaging.envelope import Envelope, Kind
from messaging.errors import ConfigurationError, PermanentMessageError, ReplyToNotAllowed
from messaging.fifo import dedup_id_of

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from mypy_boto3_sqs.client import SQSClient

MAX_ATTRIBUTE_CHARS = 1024
"""Failure reasons are cut to this length in the message attributes (the full reason goes to the log)."""
FALLBACK_GROUP_ID = "dead-letter"


def failure_attributes(error: PermanentMessageError, *, source_queue: str, source_message_id: str) -> dict[str, str]:
    """The message attributes a dead-lettered message carries."""
    attributes = {
        "failure-code": error.code,
        "failure-reason": error.reason[:MAX_ATTRIBUTE_CHARS] or error.code,
        "source-queue": source_queue,
        "source-message-id": source_message_id,
    }
    if error.field:
        attributes["failure-field"] = error.field
    return attributes


def dead_letter(
    sqs: SQSClient, dead_letter_queue_url: str | None, record: SQSRecord, error: PermanentMessageError
) -> None:
    """Send ``record`` unchanged to the dead-letter queue with the failure attributes (same group and dedup id on a
    FIFO queue, so a retried dead-lettering is dropped by SQS)."""
    if not dead_letter_queue_url:
        raise ConfigurationError("DEAD_LETTER_QUEUE_URL is not set: cannot dead-letter the message") from error
    attributes = failure_attributes(
        error, source_queue=record.event_source_arn or "unknown", source_message_id=record.message_id
    )
    params: dict[str, Any] = {
        "QueueUrl": dead_letter_queue_url,
        "MessageBody": record.body,
        "MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    }
    if dead_letter_queue_url.endswith(".fifo"):
        params["MessageGroupId"] = record.attributes.message_group_id or FALLBACK_GROUP_ID
        params["MessageDeduplicationId"] = record.attributes.message_deduplication_id or dedup_id_of(
            record.event_source_arn or "", record.message_id
        )
    sqs.send_message(**params)


def answers_with_failure(envelope: Envelope | None, error: PermanentMessageError, allowlist: Collection[str]) -> bool:
    """True if the failure is answered with a failure reply: a decoded command whose ``replyto`` is allowed."""
    return (
        envelope is not None
        and envelope.kind is Kind.COMMAND
        and envelope.replyto is not None
        and not isinstance(error, ReplyToNotAllowed)
        and envelope.replyto in allowlist
    )
