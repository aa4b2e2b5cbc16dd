"""SQS dead-letter queue redrive: ``StartMessageMoveTask``, ``ListMessageMoveTasks``, ``CancelMessageMoveTask``
(the console's "Start DLQ redrive"), which moto 5.2.5 lacks
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html).

A task moves the messages of a dead-letter queue, oldest first (on FIFO, each group in order, a group stopping at its
first message in flight), to ``DestinationArn`` or, without one, back to the queue each message came from
(``DeadLetterQueueSourceArn``). The moved message keeps its id, body, attributes and group, and is new to the
destination (receive count 0, a new sequence number; no deduplication check). At most
``MaxNumberOfMessagesPerSecond`` messages per second of the local clock. One active task per source queue. A task
runs in a thread of its own; it ends ``COMPLETED`` when the queue holds no more movable messages, ``CANCELLED``
after ``CancelMessageMoveTask``, or ``FAILED`` (``FailureReason``) when a message has nowhere to go.

Example::

    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"]   # "RUNNING", then "COMPLETED"
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.sqs.exceptions import InvalidParameterValue, SQSException
from moto.sqs.models import sqs_backends
from moto.sqs.responses import SQSResponse

from localcloud.clock import CLOCK
from localcloud.motopatches.core import MOTO_CHANGED, Patch, notify_changed
from localcloud.sqs.metrics import ENQUEUED_AT
from localcloud.sqs.patches import DLQ_SOURCE, _next_sequence_number, receivable

log = logging.getLogger("localcloud.sqs")

TASKS = "_localcloud_move_tasks"
TASKS_KEPT = 100
"""Finished tasks a backend remembers per source queue (ListMessageMoveTasks shows at most 10)."""
MAX_RATE = 500


class ResourceNotFound(SQSException):
    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


@dataclass
class MoveTask:
    """One message move task and its progress."""

    source_arn: str
    destination_arn: str | None
    rate: int | None
    to_move: int
    task_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "RUNNING"
    moved: int = 0
    started: float = field(default_factory=CLOCK.now)
    failure_reason: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def handle(self) -> str:
        raw = json.dumps({"taskId": self.task_id, "sourceArn": self.source_arn}).encode()
        return base64.urlsafe_b64encode(raw).decode()

    def entry(self) -> dict[str, Any]:
        """The task as ``ListMessageMoveTasks`` reports it."""
        result: dict[str, Any] = {
            "Status": self.status,
            "SourceArn": self.source_arn,
            "ApproximateNumberOfMessagesMoved": self.moved,
            "ApproximateNumberOfMessagesToMove": self.to_move,
            "StartedTimestamp": int(self.started * 1000),
        }
        if self.status == "RUNNING":
            result["TaskHandle"] = self.handle
        if self.destination_arn:
            result["DestinationArn"] = self.destination_arn
        if self.rate is not None:
            result["MaxNumberOfMessagesPerSecond"] = self.rate
        if self.failure_reason:
            result["FailureReason"] = self.failure_reason
        return result


def _tasks(backend: Any) -> list[MoveTask]:
    tasks: list[MoveTask] | None = getattr(backend, TASKS, None)
    if tasks is None:
        tasks = []
        setattr(backend, TASKS, tasks)
    return tasks


def _queue_by_arn(backend: Any, arn: str, parameter: str) -> Any:
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) != 6 or parts[2] != "sqs":
        raise InvalidParameterValue(
            f"You must use this format to specify the {parameter}: "
            "arn:<partition>:<service>:<region>:<account-id>:<resource-id>"
        )
    queue = sqs_backends[parts[4]][parts[3]].queues.get(parts[5])
    if queue is None:
        raise ResourceNotFound(f"The resource that you specified for the {parameter} parameter doesn't exist.")
    return queue


def _start(self: Any) -> ActionResult:
    source_arn = self._get_param("SourceArn")
    destination_arn = self._get_param("DestinationArn")
    rate = self._get_param("MaxNumberOfMessagesPerSecond")
    backend = self.sqs_backend
    source = _queue_by_arn(backend, source_arn, "SourceArn")
    if not any(q.redrive_policy and q.redrive_policy.get("deadLetterTargetArn") == source_arn
               for q in backend.queues.values()):
        raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
    if destination_arn:
        _queue_by_arn(backend, destination_arn, "DestinationArn")
    if rate is not None and not 1 <= int(rate) <= MAX_RATE:
        raise InvalidParameterValue(
            f"Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: must be between 1 and 500."
        )
    tasks = _tasks(backend)
    if any(t.source_arn == source_arn and t.status == "RUNNING" for t in tasks):
        raise InvalidParameterValue(
            "There is already a task running. Only one active task is allowed for a source queue arn at a given time."
        )
    task = MoveTask(source_arn, destination_arn or None, int(rate) if rate is not None else None,
                    to_move=len(source._messages))
    tasks.append(task)
    same_source = [t for t in tasks if t.source_arn == source_arn]
    for stale in same_source[:-TASKS_KEPT]:
        tasks.remove(stale)
    threading.Thread(target=_run, args=(backend, task), name=f"move:{source.name}", daemon=True).start()
    return ActionResult({"TaskHandle": task.handle})


def _list(self: Any) -> ActionResult:
    source_arn = self._get_param("SourceArn")
    limit = int(self._get_param("MaxResults") or 1)
    if not 1 <= limit <= 10:
        raise InvalidParameterValue(f"Value {limit} for parameter MaxResults is invalid. Reason: must be 1 to 10.")
    _queue_by_arn(self.sqs_backend, source_arn, "SourceArn")
    tasks = sorted((t for t in _tasks(self.sqs_backend) if t.source_arn == source_arn),
                   key=lambda t: t.started, reverse=True)
    return ActionResult({"Results": [t.entry() for t in tasks[:limit]]})


def _cancel(self: Any) -> ActionResult:
    handle = self._get_param("TaskHandle") or ""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(handle.encode()))
        task_id, source_arn = decoded["taskId"], decoded["sourceArn"]
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidParameterValue("Value for parameter TaskHandle is invalid.") from error
    _queue_by_arn(self.sqs_backend, source_arn, "SourceArn")
    task = next((t for t in _tasks(self.sqs_backend) if t.task_id == task_id), None)
    if task is None:
        raise ResourceNotFound("Task does not exist.")
    if task.status != "RUNNING":
        raise InvalidParameterValue("Only active tasks can be cancelled.")
    task.status = "CANCELLING"
    task.cancel.set()
    notify_changed()
    return ActionResult({"ApproximateNumberOfMessagesMoved": task.moved})


def _move_one(backend: Any, source: Any, task: MoveTask) -> bool:
    """Move the next movable message; False when there is none (or the task failed)."""
    candidates = receivable(source)
    if not candidates:
        return False
    message = candidates[0]
    target_arn = task.destination_arn or getattr(message, DLQ_SOURCE, None)
    if target_arn is None:
        task.status = "FAILED"
        task.failure_reason = (f"Message {message.id} has no DeadLetterQueueSourceArn "
                               "(it was not moved here by SQS); give a DestinationArn.")
        return False
    try:
        target = _queue_by_arn(backend, target_arn, "DestinationArn")
    except SQSException as error:
        task.status = "FAILED"
        task.failure_reason = error.message
        return False
    source._messages.remove(message)
    source.pending_messages.discard(message)
    message.approximate_receive_count = 0
    message.visible_at = 0
    message.receipt_handle = None
    message._old_receipt_handles = []
    if hasattr(message, DLQ_SOURCE):
        delattr(message, DLQ_SOURCE)
    if target.fifo_queue:
        message.sequence_number = _next_sequence_number(target)
        setattr(message, ENQUEUED_AT, CLOCK.now())
    target.add_message(message)
    task.moved += 1
    return True


def _run(backend: Any, task: MoveTask) -> None:
    try:
        with MOTO_CHANGED:
            source = _queue_by_arn(backend, task.source_arn, "SourceArn")
            while not task.cancel.is_set():
                if task.rate is not None:
                    due = task.started + task.moved / task.rate
                    if CLOCK.now() < due:
                        MOTO_CHANGED.wait(timeout=min(1.0, due - CLOCK.now()))
                        continue
                if not _move_one(backend, source, task):
                    break
            if task.status == "CANCELLING":
                task.status = "CANCELLED"
            elif task.status == "RUNNING":
                task.status = "COMPLETED"
    except Exception as error:  # a task fails, the local cloud goes on
        log.exception("message move task %s failed", task.task_id)
        task.status = "FAILED"
        task.failure_reason = str(error)
    notify_changed()


def patches() -> Iterator[Patch]:
    """The patches of this module: three SQS actions moto lacks."""
    yield SQSResponse, "start_message_move_task", _start
    yield SQSResponse, "list_message_move_tasks", _list
    yield SQSResponse, "cancel_message_move_task", _cancel
