"""SQS: FIFO deduplication window, sequence numbers, group-wise receive up to a group's first in-flight message,
long polls that wake, order after timeouts, expired FIFO receipt handles, purge forgetting deduplication."""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Iterator
from typing import Any

from moto.sqs import models as sqs_models
from moto.sqs.exceptions import InvalidParameterValue, SQSException
from moto.sqs.models import Message
from moto.sqs.responses import SQSResponse

from localcloud.clock import CLOCK
from localcloud.motopatches.core import (
    DEDUPLICATION_WINDOW_SECONDS,
    MOTO_CHANGED,
    MOTO_LOCK,
    DedupRecord,
    Patch,
    dedup_table,
    handed_out,
    notify_changed,
    purge_expired,
    with_notify,
)
from localcloud.sqs.metrics import ACTIVITY, ENQUEUED_AT, QueueRef

_SEQUENCE_BASE = 18_000_000_000_000_000_000


def _next_sequence_number(queue: Any) -> str:
    counter: int = getattr(queue, "_localcloud_sequence", 0) + 1
    queue._localcloud_sequence = counter
    return str(_SEQUENCE_BASE + counter * 1_000_003)


ATTRIBUTE_PROPAGATION_SECONDS = 60.0
"""How long a changed ``DeduplicationScope`` takes to apply: "the change can take up to 60 seconds for most of the
attributes to propagate" (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html);
recorded: a queue switched to ``messageGroup`` right before still deduplicates queue-wide (LocalStack
``tests/aws/services/sqs/test_sqs.snapshot.json``, ``test_fifo_change_to_high_throughput_after_creation[sqs]``)."""


def deduplication_scope(queue: Any) -> str:
    """The deduplication scope in force: a new one set less than a minute ago is not yet."""
    change = getattr(queue, "_localcloud_scope_change", None)
    if change is not None and CLOCK.now() < change[1]:
        return str(change[0])
    return str(queue.attributes.get("DeduplicationScope") or "queue")


def _queue_dedup_key(queue: Any, body: str, deduplication_id: str | None, group_id: str | None) -> str | None:
    if deduplication_id is None:
        if queue.attributes.get("ContentBasedDeduplication") != "true":
            return None
        deduplication_id = hashlib.sha256(body.encode("utf-8")).hexdigest()
    if deduplication_scope(queue) == "messageGroup":
        return f"{group_id}\x00{deduplication_id}"
    return deduplication_id


def _ref(backend: Any, queue: Any) -> QueueRef:
    return backend.account_id, backend.region_name, queue.name


def _send_message(original: Any) -> Any:
    """SQS ``SendMessage`` with the 5-minute FIFO deduplication window and per-group sequence numbers."""

    @functools.wraps(original)
    def send_message(self: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        with MOTO_LOCK:
            queue = self.get_queue(queue_name)
            if not queue.fifo_queue:
                message = original(self, queue_name, message_body, *args, **kwargs)
                ACTIVITY.sent(_ref(self, queue), len(message_body.encode("utf-8")))
                notify_changed()
                return message
            dedup_id = kwargs.get("deduplication_id")
            group_id = kwargs.get("group_id")
            key = _queue_dedup_key(queue, message_body, dedup_id, group_id)
            table = dedup_table(queue)
            now = CLOCK.now()
            purge_expired(table, now)
            if key is not None and key in table:
                # Accepted, not delivered: answer with the first message's identity.
                record = table[key]
                duplicate = Message(record.message_id, message_body)
                duplicate.sequence_number = record.sequence_number
                duplicate.message_attributes = kwargs.get("message_attributes") or {}
                duplicate.deduplication_id = dedup_id
                duplicate.group_id = group_id
                ACTIVITY.deduplicated(_ref(self, queue))
                return duplicate
            message = original(self, queue_name, message_body, *args, **kwargs)
            ACTIVITY.sent(_ref(self, queue), len(message_body.encode("utf-8")))
            message.sequence_number = _next_sequence_number(queue)
            if key is not None:
                table[key] = DedupRecord(now + DEDUPLICATION_WINDOW_SECONDS, message.id, message.sequence_number)
            notify_changed()
            return message

    return send_message


def _add_message(self: Any, message: Any) -> None:
    """Append a message (deduplication happens at send time; moto's own event source mappings never run here)."""
    with self._messages_lock:
        self._messages.append(message)
        self._messages_lock.notify_all()
    notify_changed()


def _next_wakeup(queue: Any, now_ms: float) -> float | None:
    """Seconds until the next in-flight or delayed message of ``queue`` becomes visible."""
    future = [m.visible_at for m in queue._messages if m.visible_at > now_ms]
    future += [m.delayed_until for m in queue._messages if m.delayed_until > now_ms]
    if not future:
        return None
    return max(0.0, (float(min(future)) - now_ms) / 1000.0)


def _release_timed_out(queue: Any) -> None:
    """Messages whose visibility timeout expired are no longer in flight (before moto computes locked groups).

    moto releases them one by one while scanning, so a later message of a group could be handed out before an
    earlier one that timed out a millisecond before it: order within the group would break.
    """
    for message in [m for m in queue.pending_messages if m.visible]:
        queue.pending_messages.discard(message)


def receivable(queue: Any) -> list[Any]:
    """The messages a receive may return now, in the order it returns them.

    Standard queue: the visible messages. FIFO queue: per message group, its visible messages up to the first one
    still in flight (or delayed); the messages behind an in-flight one wait, so order within the group holds, while a
    message made visible again before it (``ChangeMessageVisibility`` 0, an expired timeout) is returned again
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html).
    Groups come in the order SQS keeps them: by their first message, and a group a receive served goes behind the
    others (recorded: LocalStack's AWS-validated ``test_fifo_receive_message_with_zero_visibility_timeout`` and
    ``test_fifo_message_group_visibility_after_terminate_visibility_timeout``), each group's messages together:
    "Amazon SQS first attempts to return as many messages with the same message group ID as possible. This allows
    other consumers to process messages with a different message group ID." (moto returns messages in arrival order
    across groups, so one batch of an interleaved backlog would lock every group, and it locks a whole group while
    any of its messages is in flight.)
    """
    if not queue.fifo_queue:
        return [message for message in queue._messages if message.visible and not message.delayed]
    blocked: set[Any] = set()
    order = _group_order(queue)
    found = []
    for message in queue._messages:
        group = message.group_id
        if group not in order:
            order[group] = _next_turn(queue)
        if group in blocked:
            continue
        if not message.visible or message.delayed:
            blocked.add(group)
            continue
        found.append(message)
    return sorted(found, key=lambda message: order[message.group_id])


def _group_order(queue: Any) -> dict[Any, int]:
    order: dict[Any, int] | None = getattr(queue, "_localcloud_group_order", None)
    if order is None:
        order = queue._localcloud_group_order = {}
    return order


def _next_turn(queue: Any) -> int:
    turn: int = getattr(queue, "_localcloud_turn", 0) + 1
    queue._localcloud_turn = turn
    return turn


def served(queue: Any, messages: list[Any]) -> None:
    """The groups of the messages a receive returned go behind the others, in the order they were served."""
    if not queue.fifo_queue:
        return
    order = _group_order(queue)
    for group in dict.fromkeys(message.group_id for message in messages):
        order[group] = _next_turn(queue)
    present = {message.group_id for message in queue._messages}
    for group in [g for g in order if g not in present]:
        del order[group]


def _pending_message_groups(self: Any) -> set[str]:
    """No group is locked as a whole: :func:`receivable` stops each group at its first message in flight."""
    return set()


def _approximate_number_of_messages(self: Any) -> int:
    """``ApproximateNumberOfMessages``: every visible message, whether or not its group is waiting on another."""
    return sum(1 for message in self._messages if message.visible and not message.delayed)


DLQ_SOURCE = "_localcloud_dead_letter_source_arn"
"""Message attribute: the ARN of the queue SQS moved the message from (``DeadLetterQueueSourceArn``)."""


def _at_max_receive_count(queue: Any) -> list[Any]:
    """The messages the coming receive will move to the dead-letter queue (moto moves them as it meets them)."""
    if queue.dead_letter_queue is None or not queue.redrive_policy:
        return []
    limit = queue.redrive_policy["maxReceiveCount"]
    return [m for m in queue._messages if m.approximate_receive_count >= limit]


def _mark_dead_lettered(queue: Any, candidates: list[Any]) -> None:
    """Messages moved to the DLQ carry the source queue's ARN; on a FIFO DLQ their enqueue time is the move's
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html)."""
    if not candidates:
        return
    remaining = set(map(id, queue._messages))
    for message in candidates:
        if id(message) not in remaining:
            setattr(message, DLQ_SOURCE, queue.queue_arn)
            if queue.dead_letter_queue.fifo_queue:
                setattr(message, ENQUEUED_AT, CLOCK.now())


def _receive_response(original: Any) -> Any:
    """ReceiveMessage's response includes ``DeadLetterQueueSourceArn`` when asked for (or ``All``)."""

    @functools.wraps(original)
    def receive_message(self: Any) -> Any:
        response = original(self)
        names = set(self._get_param("AttributeNames", [])) | set(self._get_param("MessageSystemAttributeNames", []))
        messages = response.result.get("Messages") if isinstance(response.result, dict) else None
        if not messages or not names & {"All", "DeadLetterQueueSourceArn"}:
            return response
        with MOTO_LOCK:
            queue = self.sqs_backend.get_queue(self._get_queue_name())
            sources = {m.id: getattr(m, DLQ_SOURCE) for m in queue._messages if hasattr(m, DLQ_SOURCE)}
        for message in messages:
            if message["MessageId"] in sources:
                message.setdefault("Attributes", {})["DeadLetterQueueSourceArn"] = sources[message["MessageId"]]
        return response

    return receive_message


def _receive_message(original: Any) -> Any:
    """SQS ``ReceiveMessage``: one non-blocking attempt at a time under the lock; long polls wait on a condition."""

    @functools.wraps(original)
    def receive_message(  # noqa: PLR0917 - moto's signature
        self: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> Any:
        deadline = time.monotonic() + float(wait_seconds_timeout or 0)
        with MOTO_CHANGED:
            while True:
                queue = self.get_queue(queue_name)
                _release_timed_out(queue)
                leaving = _at_max_receive_count(queue)
                result = original(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
                _mark_dead_lettered(queue, leaving)
                served(queue, result)
                remaining = deadline - time.monotonic()
                if result or remaining <= 0:
                    ACTIVITY.received(_ref(self, queue), len(result))
                    if result:
                        handed_out()
                    return result
                wake = _next_wakeup(queue, CLOCK.now_millis())
                timeout = remaining if wake is None else min(remaining, wake + 0.001)
                MOTO_CHANGED.wait(timeout=max(timeout, 0.001))

    return receive_message


DELETED_HANDLES_KEPT = 10_000
"""Receipt handles of deleted messages a queue remembers (so deleting again succeeds); moto keeps every one."""


class _RecentHandles(dict[str, None]):
    """The set moto keeps of deleted receipt handles, holding only the newest :data:`DELETED_HANDLES_KEPT`."""

    def update(self, handles: Any = (), /, **_: Any) -> None:
        for handle in handles:
            self[handle] = None
        for stale in list(self)[: max(0, len(self) - DELETED_HANDLES_KEPT)]:
            del self[stale]


def _check_not_expired(queue: Any, receipt_handle: str) -> None:
    """FIFO: a receipt handle whose message became visible again, or was received again since, has expired and
    deletes nothing (recorded: LocalStack ``test_fifo_delete_after_visibility_timeout[sqs]``).

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html
    """
    if not queue.fifo_queue or receipt_handle in queue.deleted_messages:
        return
    for message in queue._messages:
        if message.had_receipt_handle(receipt_handle):
            if message.visible or message.receipt_handle != receipt_handle:
                raise InvalidParameterValue(
                    f"Value {receipt_handle} for parameter ReceiptHandle is invalid. "
                    "Reason: The receipt handle has expired."
                )
            return


def _delete_message(original: Any) -> Any:
    """SQS ``DeleteMessage`` (also each entry of ``DeleteMessageBatch``): on FIFO an expired receipt handle is an
    ``InvalidParameterValue``; counted for ``NumberOfMessagesDeleted``; the deleted handles remembered are bounded."""

    @functools.wraps(original)
    def delete_message(self: Any, queue_name: str, receipt_handle: str) -> Any:
        with MOTO_LOCK:
            queue = self.get_queue(queue_name)
            if not isinstance(queue.deleted_messages, _RecentHandles):
                recent = _RecentHandles()
                recent.update(queue.deleted_messages)
                queue.deleted_messages = recent
            _check_not_expired(queue, receipt_handle)
            result = original(self, queue_name, receipt_handle)
            ACTIVITY.deleted(_ref(self, queue))
        notify_changed()
        return result

    return delete_message


def _delete_message_batch(self: Any, queue_name: str, receipts: list[dict[str, Any]]) -> Any:
    """SQS ``DeleteMessageBatch``: each entry succeeds or fails on its own, with the error ``DeleteMessage`` gives.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessageBatch.html
    """
    success: list[str] = []
    errors: list[dict[str, Any]] = []
    for entry in receipts:
        try:
            self.delete_message(queue_name, entry["ReceiptHandle"])
            success.append(entry["Id"])
        except SQSException as error:
            errors.append({"Id": entry["Id"], "SenderFault": True, "Code": error.code, "Message": error.message})
    return success, errors


def _set_queue_attributes(original: Any) -> Any:
    """A new ``DeduplicationScope`` applies after :data:`ATTRIBUTE_PROPAGATION_SECONDS`."""

    @functools.wraps(original)
    def set_queue_attributes(self: Any, queue_name: str, attributes: dict[str, Any]) -> Any:
        queue = self.get_queue(queue_name)
        before = deduplication_scope(queue)
        result = original(self, queue_name, attributes)
        if queue.fifo_queue and "DeduplicationScope" in attributes and attributes["DeduplicationScope"] != before:
            queue._localcloud_scope_change = (before, CLOCK.now() + ATTRIBUTE_PROPAGATION_SECONDS)
        return result

    return set_queue_attributes


def _purge_queue(original: Any) -> Any:
    """SQS ``PurgeQueue``: also forgets the queue's deduplication history, as SQS does (a purged message's
    deduplication id can be sent again at once)."""

    @functools.wraps(original)
    def purge_queue(self: Any, queue_name: str) -> Any:
        with MOTO_LOCK:
            result = original(self, queue_name)
            dedup_table(self.get_queue(queue_name)).clear()
        notify_changed()
        return result

    return purge_queue


def patches() -> Iterator[Patch]:
    """The patches of this module."""
    backend = sqs_models.SQSBackend
    yield sqs_models, "unix_time", CLOCK.now
    yield sqs_models, "unix_time_millis", CLOCK.now_millis
    yield backend, "send_message", _send_message(backend.send_message)
    yield backend, "receive_message", _receive_message(backend.receive_message)
    yield SQSResponse, "receive_message", _receive_response(SQSResponse.receive_message)
    yield backend, "delete_message", _delete_message(backend.delete_message)
    yield backend, "delete_message_batch", _delete_message_batch
    yield backend, "purge_queue", _purge_queue(backend.purge_queue)
    yield backend, "change_message_visibility", with_notify(backend.change_message_visibility)
    yield backend, "set_queue_attributes", with_notify(_set_queue_attributes(backend.set_queue_attributes))
    yield sqs_models.Queue, "add_message", _add_message
    yield sqs_models.Queue, "messages", property(receivable)
    yield sqs_models.Queue, "pending_message_groups", property(_pending_message_groups)
    yield sqs_models.Queue, "approximate_number_of_messages", property(_approximate_number_of_messages)
