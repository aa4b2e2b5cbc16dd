"""Typed exceptions of the messaging runtime.

Every failure a consumer can meet is one of two families:

* :class:`PermanentMessageError` - the message itself is wrong (not JSON, not a CloudEvent, unknown type, payload
  fails its model, ``replyto`` not allowed, missing ``partitionkey``). Retrying cannot help: the consumer moves the
  message to the dead-letter queue at once, with :attr:`PermanentMessageError.code` and the message as the reason.
* everything else - transient. The consumer reports the record in ``batchItemFailures`` and SQS retries it.

:class:`CommandRejected` is neither: it is a business outcome ("customer is blocked") that the handler returns as a
failure reply; the message was processed successfully.
"""

from __future__ import annotations

from collections.abc import Sequence


class MessagingError(Exception):
    """Base class of every error raised by the messaging runtime."""


class PermanentMessageError(MessagingError):
    """A message that can never be processed; it goes to the dead-letter queue with :attr:`code` and the reason.

    Example:
        >>> err = UnknownMessageType("orders.Nope")
        >>> (err.code, err.field)
        ('unknown_type', 'type')
    """

    code: str = "permanent_failure"

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class InvalidMessage(PermanentMessageError):  # noqa: N818 - names of the public API
    """The body is not a valid message of the wire contract; :attr:`field` names the offending attribute."""

    code = "invalid_message"


class NotJson(InvalidMessage):
    code = "not_json"


class NotCloudEvent(InvalidMessage):
    code = "not_cloudevent"


class InvalidAttribute(InvalidMessage):
    code = "invalid_attribute"


class UnsupportedSchemaVersion(InvalidMessage):
    code = "unsupported_schema_version"


class InvalidEncoding(InvalidMessage):
    """The body, or a string in it, is not valid UTF-8 (raw bytes, or JSON escapes of lone surrogates)."""

    code = "invalid_encoding"


class MissingPartitionKey(InvalidMessage):
    code = "missing_partitionkey"

    def __init__(self, reason: str = "partitionkey is required on a FIFO channel") -> None:
        super().__init__(reason, field="partitionkey")


class PartitionKeyMismatch(InvalidMessage):
    """The ``partitionkey`` is not the value of the field the message type declares as its shard key.

    Example:
        >>> PartitionKeyMismatch("customer_id").field
        'partitionkey'
    """

    code = "partitionkey_mismatch"

    def __init__(self, shard_key: str) -> None:
        super().__init__(f"partitionkey must equal data.{shard_key}, the declared shard key", field="partitionkey")
        self.shard_key = shard_key


class UnknownMessageType(PermanentMessageError):  # noqa: N818 - names of the public API
    code = "unknown_type"

    def __init__(self, message_type: str, kind: str | None = None) -> None:
        what = f"{kind} {message_type!r}" if kind else repr(message_type)
        super().__init__(f"no handler is registered for {what}", field="type")
        self.message_type = message_type


class PayloadValidationError(PermanentMessageError):
    code = "invalid_payload"


class UnsupportedDataVersion(PermanentMessageError):  # noqa: N818 - names of the public API
    """The message's ``data`` is of a newer major version than this consumer reads (its ``dataschema``), or of an older
    one no upcaster leads from.

    Example:
        >>> UnsupportedDataVersion("orders.OrderCreated 3.0 is newer than 2.1").code
        'unsupported_data_version'
    """

    code = "unsupported_data_version"

    def __init__(self, reason: str) -> None:
        super().__init__(reason, field="dataschema")


class ReplyToNotAllowed(PermanentMessageError):  # noqa: N818 - names of the public API
    code = "replyto_not_allowed"

    def __init__(self, replyto: str) -> None:
        super().__init__(f"replyto {replyto!r} is not on the allowlist", field="replyto")
        self.replyto = replyto


class MessageTooLarge(PermanentMessageError):  # noqa: N818 - names of the public API
    """A message the handler produced (an event, the reply) is larger than its channel takes."""

    code = "message_too_large"


class DataRefUnresolvable(PermanentMessageError):  # noqa: N818 - names of the public API
    """The ``dataref`` of a message (its claim check) does not lead to a readable JSON object."""

    code = "dataref_unresolvable"

    def __init__(self, reason: str) -> None:
        super().__init__(reason, field="dataref")


class DeliveryRejected(PermanentMessageError):  # noqa: N818 - names of the public API
    """SNS or SQS refused, as the sender's fault, a message the handler produced; retrying cannot help."""

    code = "delivery_rejected"


class CommandRejected(MessagingError):  # noqa: N818 - names of the public API
    """Raised by a command handler to answer with a failure reply (a business outcome, not a fault).

    Example:
        >>> raise CommandRejected("order_not_found", "order o-1 does not exist")
        Traceback (most recent call last):
        ...
        messaging.errors.CommandRejected: order_not_found: order o-1 does not exist
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class MessageIdConflict(PermanentMessageError):  # noqa: N818 - names of the public API
    """A message reuses the (``source``, ``id``) of an earlier message but carries a different ``type`` or ``data``."""

    code = "message_id_conflict"

    def __init__(self, reason: str = "source and id were already used by a message with different content") -> None:
        super().__init__(reason, field="id")


class TransientMessagingError(MessagingError):
    """A failure that a retry may cure: the consumer reports the record in ``batchItemFailures``."""


class ConfigurationError(TransientMessagingError):
    """A setting the runtime needs (for example ``DEAD_LETTER_QUEUE_URL``) is missing.

    Transient on purpose: the record is retried, and SQS moves it to the dead-letter queue after ``maxReceiveCount``,
    so a deployment mistake loses nothing.
    """


class PublishFailed(TransientMessagingError):  # noqa: N818 - names of the public API
    """SNS or SQS did not accept one or more messages; :attr:`failed` lists ``(envelope id, code, message)`` and
    :attr:`sender_faults` whether the service blamed the sender for each (the failure policy reads it).

    Example:
        >>> err = PublishFailed([("m-1", "InvalidParameter", "Message too long")])
        >>> str(err)
        '1 message(s) not accepted: m-1: InvalidParameter (Message too long)'
    """

    def __init__(self, failed: list[tuple[str, str, str]], sender_faults: Sequence[bool] = ()) -> None:
        details = "; ".join(f"{msg_id}: {code} ({message})" for msg_id, code, message in failed)
        super().__init__(f"{len(failed)} message(s) not accepted: {details}")
        self.failed = failed
        self.sender_faults = tuple(sender_faults) or (False,) * len(failed)


class InvalidRequest(MessagingError, ValueError):  # noqa: N818 - names of the public API
    """A client call was refused before anything was sent: a bad partition key, data that is not a JSON object, a
    partition key that contradicts the type's declared shard key.

    Example:
        >>> raise InvalidRequest("partitionkey: 1-128 letters, digits and ASCII punctuation")
        Traceback (most recent call last):
        ...
        messaging.errors.InvalidRequest: partitionkey: 1-128 letters, digits and ASCII punctuation
    """


class PayloadTooLarge(InvalidRequest):
    """``data`` is larger than the client sends (the claim-check maximum, or the channel limit without a bucket)."""


class ReplyTimeout(MessagingError):  # noqa: N818 - names of the public API
    """No reply arrived for a request within the timeout.

    Example:
        >>> err = ReplyTimeout("c-1", 2.0)
        >>> (err.correlation_id, err.timeout)
        ('c-1', 2.0)
    """

    def __init__(self, correlation_id: str, timeout: float) -> None:
        super().__init__(f"no reply to request {correlation_id!r} within {timeout:g} s")
        self.correlation_id = correlation_id
        self.timeout = timeout


class StateConflict(PermanentMessageError):  # noqa: N818 - names of the public API
    """A message would create an item whose key another message already took: retrying cannot help.

    Example:
        >>> StateConflict("orders item (pk=CUSTOMER#c-1) already exists").code
        'state_conflict'
    """

    code = "state_conflict"


class ConcurrentWriteConflict(TransientMessagingError):  # noqa: N818 - names of the public API
    """The state a handler read changed before its commit (or the transaction met another): the record is retried,
    and the handler runs again on the new state."""


class DeadlinePassed(TransientMessagingError):  # noqa: N818 - names of the public API
    """The invocation's time ran out before the commit: Lambda has already given up on this run and SQS will deliver
    the message again, so this run must not apply it (a late commit could land after later messages of its group)."""
