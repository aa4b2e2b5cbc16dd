"""Failure policy of a consumer: what happens to a message that can never be processed, and what the sender hears.

A :class:`~messaging.errors.PermanentMessageError` moves the record to the queue's dead-letter queue at once, its body
unchanged, with the reason in message attributes (``failure-code``, ``failure-reason``, ``failure-field``,
``source-queue``, ``source-message-id``, plus the attributes the message carried, such as a redrive's
``redrive-run``), and the record counts as handled, so its message group moves on. A command whose ``replyto`` is on
the allowlist also gets a failure reply carrying the same code and a fixed message that is safe to show
(:func:`failure_outcome`); the detail stays in the log and the DLQ attributes. That holds for a message that did not
even decode, as long as its header names an ``id``, a ``source``, ``kind: command`` and an allowed ``replyto``
(:func:`salvage_request`). A send or publish that SNS/SQS refuse as the sender's fault (a message too large, an
invalid parameter, access denied) is permanent too (:func:`rejection_of`); throttling and server errors stay
transient: the record is reported in ``batchItemFailures`` and SQS retries it.

:data:`CODES` is the catalogue of every failure code, with what happens to the message (the table in
docs/failure-codes.md).

Example:
    >>> from messaging.errors import UnknownMessageType
    >>> failure_attributes(UnknownMessageType("orders.Nope"), source_queue="arn:q", source_message_id="m-1")
    {'failure-code': 'unknown_type', 'failure-reason': "no handler is registered for 'orders.Nope'", \
'source-queue': 'arn:q', 'source-message-id': 'm-1', 'failure-field': 'type'}
    >>> failure_outcome(UnknownMessageType("orders.Nope")).to_data()["error"]
    {'code': 'unknown_type', 'message': 'no handler is registered for this message type (field: type)'}
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from messaging.claim_check import CHANNEL_LIMIT_BYTES, message_size
from messaging.codec import CONTROL_CHARACTERS, MAX_LENGTHS
from messaging.envelope import Envelope, Kind, ReplyOutcome
from messaging.errors import (
    ConfigurationError,
    DeliveryRejected,
    PermanentMessageError,
    PublishFailed,
    ReplyToNotAllowed,
)
from messaging.fifo import dedup_id_of

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from mypy_boto3_sqs.client import SQSClient

MAX_ATTRIBUTE_CHARS = 1024
"""Failure reasons are cut to this length in the message attributes (the full reason goes to the log)."""
MAX_MESSAGE_ATTRIBUTES = 10
"""SQS takes at most 10 message attributes per message: the failure attributes come first, carried ones after."""
FALLBACK_GROUP_ID = "dead-letter"
REDRIVE_RUN_ATTRIBUTE = "redrive-run"
"""Set by ``cli dlq redrive`` on every message it moves; carried back to the DLQ so the redrive recognises it."""
REDRIVE_COUNT_ATTRIBUTE = "redrive-count"
"""How many times ``cli dlq redrive`` / ``dlq retry`` moved the message back (carried back to the DLQ with it, logged
by the consumer as ``redrive_count``), so a second dead letter says it came back."""
FAILURE_ATTRIBUTES = ("failure-code", "failure-reason", "failure-field", "source-queue", "source-message-id")

# Error codes of throttling (botocore's standard retry list, plus the SNS, KMS and SQS spellings SNS/SQS return).
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "Throttled",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "SlowDown",
        "KMSThrottlingException",
        "KMS.ThrottlingException",
        "KMS.KMSThrottlingException",
        "AWS.SimpleQueueService.RequestThrottled",
    }
)
# 4xx codes that a later attempt can get past: expired credentials or request signatures, request timeouts.
_TRANSIENT_CLIENT_CODES = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "RequestTimeout", "RequestTimeoutException"}
)
_SAFE_FIELD = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class Disposition(StrEnum):
    """What happens to a message that fails with a code."""

    DEAD_LETTERED = "dead-lettered at once"
    RETRIED = "retried by SQS"
    ANSWERED = "answered, not dead-lettered"


@dataclass(frozen=True, slots=True)
class FailureCode:
    """One failure code: what happens, whether a command with an allowed ``replyto`` is answered, what it hears."""

    code: str
    disposition: Disposition
    answered: bool
    message: str
    """The failure reply's ``message``: fixed, safe to show (never exception text)."""


def _code(code: str, message: str, *, answered: bool = True) -> tuple[str, FailureCode]:
    return code, FailureCode(code, Disposition.DEAD_LETTERED, answered, message)


CODES: dict[str, FailureCode] = dict(
    [
        _code("not_json", "the message body is not JSON", answered=False),
        _code("invalid_encoding", "the message holds text that is not valid UTF-8"),
        _code("not_cloudevent", "the message is not a CloudEvent (specversion, id, source and type are required)"),
        _code("invalid_attribute", "an attribute of the message is invalid"),
        _code("unsupported_schema_version", "this consumer does not read the message's schemaversion"),
        _code("missing_partitionkey", "the message has no partitionkey"),
        _code("partitionkey_mismatch", "partitionkey must equal the shard-key field this message type declares"),
        _code("unknown_type", "no handler is registered for this message type"),
        _code("invalid_payload", "data does not match the schema of this message type"),
        _code("unsupported_data_version", "this consumer does not read this version of the message's data"),
        _code("dataref_unresolvable", "the data the message's dataref points to cannot be read"),
        _code("replyto_not_allowed", "replyto is not an allowed reply address", answered=False),
        _code("message_id_conflict", "source and id were already used by a message with different content"),
        _code("state_conflict", "the request conflicts with existing state"),
        _code("message_too_large", "a message this request produced is over the 256 KiB channel limit"),
        _code(
            "delivery_rejected",
            "the request was processed, but the broker refused a message it produced; it is held for an operator",
        ),
    ]
)
"""Every code a consumer dead-letters with; ``answered`` says if a command with an allowed ``replyto`` hears it."""

UNKNOWN_CODE = FailureCode("permanent_failure", Disposition.DEAD_LETTERED, True, "the message cannot be processed")


def code_of(error: PermanentMessageError) -> FailureCode:
    """The catalogue entry of ``error``'s code (a generic one for codes of other modules)."""
    return CODES.get(error.code, UNKNOWN_CODE)


def failure_outcome(error: PermanentMessageError) -> ReplyOutcome:
    """The failure reply's outcome: the code and its fixed message, plus the field when it is a plain name."""
    message = code_of(error).message
    if error.field and _SAFE_FIELD.match(error.field):
        message = f"{message} (field: {error.field})"
    return ReplyOutcome.failure(error.code, message)


def failure_attributes(error: PermanentMessageError, *, source_queue: str, source_message_id: str) -> dict[str, str]:
    """The message attributes a dead-lettered message carries."""
    attributes = {
        "failure-code": error.code,
        "failure-reason": error.reason[:MAX_ATTRIBUTE_CHARS] or error.code,
        "source-queue": source_queue,
        "source-message-id": source_message_id,
    }
    if error.field:
        attributes["failure-field"] = error.field[:MAX_ATTRIBUTE_CHARS]
    return attributes


def _string_attributes(attributes: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    return {name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()}


def carried_attributes(record: SQSRecord) -> dict[str, dict[str, Any]]:
    """The message attributes of ``record`` in ``SendMessage`` form (the Lambda event spells them in lower camel
    case and base64-encodes binary values), without earlier failure attributes, ``redrive-run`` first."""
    raw: Mapping[str, Any] = record.raw_event.get("messageAttributes") or {}
    carried: dict[str, dict[str, Any]] = {}
    for name in sorted(raw, key=lambda n: (n not in (REDRIVE_RUN_ATTRIBUTE, REDRIVE_COUNT_ATTRIBUTE), n)):
        value = raw[name] or {}
        if name in FAILURE_ATTRIBUTES or not isinstance(value, Mapping):
            continue
        data_type = str(value.get("dataType") or "String")
        if value.get("stringValue") is not None:
            carried[name] = {"DataType": data_type, "StringValue": str(value["stringValue"])}
        elif value.get("binaryValue") is not None:
            try:
                carried[name] = {"DataType": data_type, "BinaryValue": base64.b64decode(value["binaryValue"])}
            except (ValueError, TypeError):
                continue
    return carried


def dead_letter(
    sqs: SQSClient, dead_letter_queue_url: str | None, record: SQSRecord, error: PermanentMessageError
) -> None:
    """Send ``record`` unchanged to the dead-letter queue with the failure attributes and, as room allows (10
    attributes, 256 KiB), the attributes it carried (same group and dedup id on a FIFO queue, so a retried
    dead-lettering is dropped by SQS)."""
    if not dead_letter_queue_url:
        raise ConfigurationError("DEAD_LETTER_QUEUE_URL is not set: cannot dead-letter the message") from error
    failure = failure_attributes(
        error, source_queue=record.event_source_arn or "unknown", source_message_id=record.message_id
    )
    attributes = _string_attributes(failure)
    for name, value in carried_attributes(record).items():
        candidate = {**attributes, name: value}
        if len(candidate) <= MAX_MESSAGE_ATTRIBUTES and message_size(record.body, candidate) <= CHANNEL_LIMIT_BYTES:
            attributes = candidate
    reason = failure["failure-reason"]
    while message_size(record.body, attributes) > CHANNEL_LIMIT_BYTES and len(reason) > 1:
        reason = reason[: len(reason) // 2]
        attributes["failure-reason"] = {"DataType": "String", "StringValue": reason}
    params: dict[str, Any] = {
        "QueueUrl": dead_letter_queue_url,
        "MessageBody": record.body,
        "MessageAttributes": attributes,
    }
    if dead_letter_queue_url.endswith(".fifo"):
        params["MessageGroupId"] = record.attributes.message_group_id or FALLBACK_GROUP_ID
        params["MessageDeduplicationId"] = record.attributes.message_deduplication_id or dedup_id_of(
            record.event_source_arn or "", record.message_id
        )
    sqs.send_message(**params)


def answers_with_failure(envelope: Envelope | None, error: PermanentMessageError, allowlist: Collection[str]) -> bool:
    """True if the failure is answered with a failure reply: a command whose ``replyto`` is allowed, for a code
    that is answered (never a ``replyto`` outside the allowlist, never a reply)."""
    return (
        envelope is not None
        and envelope.kind is Kind.COMMAND
        and envelope.replyto is not None
        and not isinstance(error, ReplyToNotAllowed)
        and code_of(error).answered
        and envelope.replyto in allowlist
    )


def salvage_request(body: str) -> Envelope | None:
    """The header of a message that did not decode, if a failure reply can be addressed and correlated with it:
    a JSON object with ``kind: command`` and string ``id``, ``source`` and ``replyto`` (within the contract's
    lengths, valid UTF-8, no control characters). Its ``type`` is kept if it is a plain string, else ``invalid``.
    Whether ``replyto`` is allowed is :func:`answers_with_failure`'s to decide.

    Example:
        >>> salvage_request('{"kind": "command", "id": "m-1", "source": "/web", "replyto": "https://q/r.fifo"}').id
        'm-1'
        >>> salvage_request('{"kind": "event", "id": "m-1", "source": "/web", "replyto": "https://q/r.fifo"}') is None
        True
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("kind") != Kind.COMMAND.value:
        return None

    def text(name: str) -> str | None:
        value = document.get(name)
        if not isinstance(value, str) or not value or len(value) > MAX_LENGTHS.get(name, 128):
            return None
        if CONTROL_CHARACTERS.search(value):
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return None
        return value

    message_id, source, replyto = text("id"), text("source"), text("replyto")
    if message_id is None or source is None or replyto is None:
        return None
    partitionkey = document.get("partitionkey")
    return Envelope(
        type=text("type") or "invalid",
        source=source,
        kind=Kind.COMMAND,
        id=message_id,
        replyto=replyto,
        partitionkey=partitionkey if isinstance(partitionkey, str) and len(partitionkey) <= 128 else None,
    )


def is_sender_fault(code: str, *, status: int | None = None, sender_fault: bool | None = None) -> bool:
    """True if SNS/SQS refused a request for good: the sender's fault (a 4xx, or ``SenderFault`` of a batch entry)
    and neither throttling nor an expired credential or request."""
    if code in THROTTLING_CODES or code in _TRANSIENT_CLIENT_CODES:
        return False
    if sender_fault is not None:
        return sender_fault
    return status is not None and 400 <= status < 500 and status != 429


def rejection_of(exc: BaseException) -> DeliveryRejected | None:
    """The permanent failure a delivery error amounts to, or ``None`` if it is transient (SQS retries the record).

    Example:
        >>> rejection_of(PublishFailed([("e-1", "InvalidParameter", "Message too long")], [True])).code
        'delivery_rejected'
        >>> rejection_of(PublishFailed([("e-1", "Throttling", "Rate exceeded")], [True])) is None
        True
    """
    if isinstance(exc, PublishFailed):
        entries = list(zip(exc.failed, exc.sender_faults, strict=False))
        if entries and all(is_sender_fault(code, sender_fault=fault) for (_, code, _), fault in entries):
            details = "; ".join(f"{code}: {message}" for _, code, message in exc.failed)
            return DeliveryRejected(f"the broker refused {len(exc.failed)} message(s) for good: {details}")
        return None
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping) and isinstance(response.get("Error"), Mapping):
        code = str(response["Error"].get("Code", ""))
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if is_sender_fault(code, status=int(status) if status else None):
            message = str(response["Error"].get("Message", ""))
            return DeliveryRejected(f"the broker refused a message for good: {code}: {message}")
    return None
