"""Fixes to moto 5.2.5's SQS and SNS models so they behave as AWS documents it.

Installed by :func:`install` and removed by :func:`uninstall` (counted: nested local clouds share them); both
the in-process ``mock_aws`` mode and the server mode go through the patched models.
Each fix names the AWS behaviour it restores:

- :func:`_send_message` - SQS FIFO exactly-once processing: a message whose deduplication id was sent in the last
  5 minutes is accepted but not delivered, *even if the first one was already received and deleted*
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html).
  With ``DeduplicationScope=messageGroup`` the id is scoped to the message group.
- :func:`_send_message` - SequenceNumber: "a large, non-consecutive number that Amazon SQS assigns to each message",
  increasing within a message group
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
- :func:`_topic_publish` - SNS FIFO topic deduplication: a publish repeating a deduplication id (explicit or
  content-based) within 5 minutes is accepted and not delivered again
  (https://docs.aws.amazon.com/sns/latest/dg/fifo-message-dedup.html); the deduplication id SNS used is
  handed to subscribed FIFO queues, so a queue without content-based deduplication accepts the delivery.
- :func:`_backend_publish` - SNS ``Publish`` to a FIFO topic without ``MessageGroupId`` fails with
  ``InvalidParameter`` ("The MessageGroupId parameter is required for FIFO topics"), as SNS answers; moto raised
  SQS's ``MissingParameter`` (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html).
- :func:`_receive_message` - ReceiveMessage long polling returns as soon as a message becomes receivable
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html)
  and FIFO groups with messages in flight stay locked to other receivers
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html);
  moto busy-spins while the only visible messages belong to a locked group and misses the unlock.
- :func:`_release_timed_out` - FIFO order within a message group also holds when in-flight messages of the group
  time out (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html).
- :func:`_locked_dispatch` - the SQS API is safe for concurrent callers; moto's models are not, so every request is
  handled under one process-wide lock (released while a long poll waits).
- :func:`_subscription_publish` - ``RawMessageDelivery`` is the string ``"false"`` when set that way through the API;
  moto treated any non-empty value as raw delivery
  (https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html).
- Timing rules (visibility timeout, delay, retention, dedup window) read :data:`localcloud.clock.CLOCK`, so tests
  can advance time instead of sleeping.

Example::

    from localcloud import motopatches
    motopatches.install()
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any

from moto.core.responses import BaseResponse
from moto.sns import models as sns_models
from moto.sns.exceptions import InvalidParameterValue
from moto.sqs import models as sqs_models
from moto.sqs.models import Message

from localcloud.clock import CLOCK

DEDUPLICATION_WINDOW_SECONDS = 300.0
"""SQS and SNS FIFO deduplication interval (5 minutes)."""

MOTO_LOCK = threading.RLock()
"""Held while moto handles a request; the emulator also takes it to read queue state consistently."""

MOTO_CHANGED = threading.Condition(MOTO_LOCK)
"""Notified whenever queue contents or visibility may have changed (send, delete, visibility, clock advance)."""

_users = 0
_listening = False
_saved: list[tuple[Any, str, Any]] = []
_SEQUENCE_BASE = 18_000_000_000_000_000_000


@dataclass
class _DedupRecord:
    expires_at: float
    message_id: str
    sequence_number: str | None


def notify_changed() -> None:
    """Wake long polls so they re-check their queue."""
    with MOTO_CHANGED:
        MOTO_CHANGED.notify_all()


def _dedup_table(owner: Any) -> dict[str, _DedupRecord]:
    table: dict[str, _DedupRecord] | None = getattr(owner, "_localcloud_dedup", None)
    if table is None:
        table = {}
        owner._localcloud_dedup = table
    return table


def _next_sequence_number(queue: Any) -> str:
    counter: int = getattr(queue, "_localcloud_sequence", 0) + 1
    queue._localcloud_sequence = counter
    return str(_SEQUENCE_BASE + counter * 1_000_003)


def _queue_dedup_key(queue: Any, body: str, deduplication_id: str | None, group_id: str | None) -> str | None:
    if deduplication_id is None:
        if queue.attributes.get("ContentBasedDeduplication") != "true":
            return None
        deduplication_id = hashlib.sha256(body.encode("utf-8")).hexdigest()
    if queue.attributes.get("DeduplicationScope") == "messageGroup":
        return f"{group_id}\x00{deduplication_id}"
    return deduplication_id


def _purge_expired(table: dict[str, _DedupRecord], now: float) -> None:
    for key in [k for k, rec in table.items() if rec.expires_at <= now]:
        del table[key]


def _send_message(original: Any) -> Any:
    """SQS ``SendMessage`` with the 5-minute FIFO deduplication window and per-group sequence numbers."""

    @functools.wraps(original)
    def send_message(self: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        with MOTO_LOCK:
            queue = self.get_queue(queue_name)
            if not queue.fifo_queue:
                message = original(self, queue_name, message_body, *args, **kwargs)
                notify_changed()
                return message
            dedup_id = kwargs.get("deduplication_id")
            group_id = kwargs.get("group_id")
            key = _queue_dedup_key(queue, message_body, dedup_id, group_id)
            table = _dedup_table(queue)
            now = CLOCK.now()
            _purge_expired(table, now)
            if key is not None and key in table:
                # Accepted, not delivered: answer with the first message's identity.
                record = table[key]
                duplicate = Message(record.message_id, message_body)
                duplicate.sequence_number = record.sequence_number
                duplicate.message_attributes = kwargs.get("message_attributes") or {}
                duplicate.deduplication_id = dedup_id
                duplicate.group_id = group_id
                return duplicate
            message = original(self, queue_name, message_body, *args, **kwargs)
            message.sequence_number = _next_sequence_number(queue)
            if key is not None:
                table[key] = _DedupRecord(now + DEDUPLICATION_WINDOW_SECONDS, message.id, message.sequence_number)
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


def _visible_messages_grouped(self: Any) -> list[Any]:
    """Visible messages; on a FIFO queue, grouped by message group (groups by their oldest message, order kept inside).

    AWS: "When receiving messages from a FIFO queue with multiple message group IDs, Amazon SQS first attempts to
    return as many messages with the same message group ID as possible. This allows other consumers to process
    messages with a different message group ID." moto hands out messages in arrival order across groups instead, so
    one batch of an interleaved backlog locks every group and competing consumers find nothing to do.
    """
    visible = [message for message in self._messages if message.visible and not message.delayed]
    if not self.fifo_queue:
        return visible
    rank: dict[Any, int] = {}
    for message in visible:
        rank.setdefault(message.group_id, len(rank))
    return sorted(visible, key=lambda message: rank[message.group_id])


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
                _release_timed_out(self.get_queue(queue_name))
                result = original(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
                remaining = deadline - time.monotonic()
                if result or remaining <= 0:
                    return result
                queue = self.get_queue(queue_name)
                wake = _next_wakeup(queue, CLOCK.now_millis())
                timeout = remaining if wake is None else min(remaining, wake + 0.001)
                MOTO_CHANGED.wait(timeout=max(timeout, 0.001))

    return receive_message


def _with_notify(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with MOTO_LOCK:
            result = original(*args, **kwargs)
        notify_changed()
        return result

    return wrapper


def _topic_publish(original: Any) -> Any:
    """SNS FIFO ``Publish``: topic-level 5-minute deduplication; the used dedup id travels to the subscribed queues."""

    @functools.wraps(original)
    def publish(self: Any, message: str, *args: Any, **kwargs: Any) -> str:
        if not self.fifo_topic:
            result: str = original(self, message, *args, **kwargs)
            return result
        with MOTO_LOCK:
            dedup_id = kwargs.get("deduplication_id")
            if dedup_id is None and self.content_based_deduplication:
                dedup_id = hashlib.sha256(message.encode("utf-8")).hexdigest()
                kwargs["deduplication_id"] = dedup_id
            table = _dedup_table(self)
            now = CLOCK.now()
            _purge_expired(table, now)
            if dedup_id is not None and dedup_id in table:
                return table[dedup_id].message_id
            message_id: str = original(self, message, *args, **kwargs)
            if dedup_id is not None:
                table[dedup_id] = _DedupRecord(now + DEDUPLICATION_WINDOW_SECONDS, message_id, None)
            return message_id

    return publish


def _backend_publish(original: Any) -> Any:
    """SNS ``Publish``: a FIFO topic without ``MessageGroupId`` is an ``InvalidParameter``, as in SNS."""

    @functools.wraps(original)
    def publish(self: Any, message: str, arn: str | None, *args: Any, **kwargs: Any) -> Any:
        if arn and arn.endswith(".fifo") and not kwargs.get("group_id") and arn in self.topics:
            raise InvalidParameterValue("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
        return original(self, message, arn, *args, **kwargs)

    return publish


def _subscription_publish(original: Any) -> Any:
    @functools.wraps(original)
    def publish(self: Any, *args: Any, **kwargs: Any) -> Any:
        raw = self.attributes.get("RawMessageDelivery")
        if isinstance(raw, str):
            self.attributes["RawMessageDelivery"] = raw.lower() == "true"
        return original(self, *args, **kwargs)

    return publish


def _locked_dispatch(original: Any) -> Any:
    """Every moto request runs under :data:`MOTO_LOCK` (moto's models are not thread-safe)."""

    @functools.wraps(original)
    def dispatch(*args: Any, **kwargs: Any) -> Any:
        with MOTO_LOCK:
            return original(*args, **kwargs)

    return dispatch


def _patch(owner: Any, name: str, value: Any) -> None:
    _saved.append((owner, name, vars(owner)[name]))
    setattr(owner, name, value)


def install() -> None:
    """Install every fix; nested calls are counted and only the first patches moto.

    Example::

        motopatches.install()
        ...
        motopatches.uninstall()
    """
    global _users, _listening  # noqa: PLW0603 - one set of patches per process
    _users += 1
    if _users > 1:
        return
    backend = sqs_models.SQSBackend
    _patch(sqs_models, "unix_time", CLOCK.now)
    _patch(sqs_models, "unix_time_millis", CLOCK.now_millis)
    _patch(backend, "send_message", _send_message(backend.send_message))
    _patch(backend, "receive_message", _receive_message(backend.receive_message))
    for name in ("delete_message", "change_message_visibility", "purge_queue", "set_queue_attributes"):
        _patch(backend, name, _with_notify(getattr(backend, name)))
    _patch(sqs_models.Queue, "add_message", _add_message)
    _patch(sqs_models.Queue, "messages", property(_visible_messages_grouped))
    _patch(sns_models.Topic, "publish", _topic_publish(sns_models.Topic.publish))
    _patch(sns_models.SNSBackend, "publish", _backend_publish(sns_models.SNSBackend.publish))
    _patch(sns_models.Subscription, "publish", _subscription_publish(sns_models.Subscription.publish))
    _patch(BaseResponse, "_dispatch", _locked_dispatch(BaseResponse._dispatch))
    if not _listening:
        CLOCK.on_advance(notify_changed)
        _listening = True


def uninstall() -> None:
    """Undo :func:`install` once the last user is gone: moto and the clock are as they were before."""
    global _users  # noqa: PLW0603 - one set of patches per process
    if _users == 0:
        return
    _users -= 1
    if _users > 0:
        return
    while _saved:
        owner, name, original = _saved.pop()
        setattr(owner, name, original)
    CLOCK.reset()
