"""Queue operations of the CLI: status, dead-letter inspection and an order-keeping FIFO redrive.

Design:

* **Oldest message age** comes from CloudWatch (``AWS/SQS`` ``ApproximateAgeOfOldestMessage``, the latest 1-minute
  maximum of the last 15 minutes), one ``GetMetricData`` call for all queues. SQS has no API attribute for it, and
  computing it by receiving the oldest message would bump receive counts (towards ``maxReceiveCount``) and lock its
  FIFO group. When CloudWatch has no datapoint (a queue younger than a minute) the age is reported as ``None``
  (``n/a`` in tables).
* **Peeking a DLQ** (``dlq list``) receives with a short visibility timeout (``peek_visibility`` seconds) until a
  receive comes back empty, then makes every received message visible again at once (``ChangeMessageVisibility`` 0).
  ``VisibilityTimeout=0`` on the receive itself would hand the same head messages back on every call. On a FIFO queue
  a message group stays locked while any of its messages is in flight, so a peek sees what SQS hands out before every
  group is locked: the head of each group (up to 10 messages per receive), not necessarily the whole queue;
  :attr:`DlqListing.truncated` says when the queue holds more than was shown.
  A peek increments ``ApproximateReceiveCount`` of the peeked messages; that is harmless on a DLQ without a redrive
  policy of its own.
* **Redrive** (``dlq redrive``) is receive -> send -> delete, batch by batch, in the order SQS hands the messages out
  (which, on FIFO, is per-group order); each received batch is sent in waves of at most one message per group.
  ``StartMessageMoveTask`` (which AWS supports for FIFO DLQs since late 2023, and the local cloud too) is not used: it
  offers neither control over the deduplication ids nor a way to drop the failure attributes.
  Each message goes back with its body (so its ``source`` and ``id``, the identity consumers deduplicate on: an
  already-applied command is not applied again), its ``MessageGroupId``, its message attributes minus the
  ``failure-*`` / ``source-*`` ones the consumer added, plus ``redrive-run`` = this run's id, and a fresh deduplication
  id derived from the original one and the DLQ message id: the source queue would otherwise drop it as a duplicate of
  the first delivery (5-minute window), while a redrive re-run after a crash between send and delete sends the very
  same id and is deduplicated. If a send fails, the rest of that group in the batch is released untouched (nothing
  overtakes it) and the redrive stops, reporting the failure.
* **A redrive is bounded.** It moves at most the number of messages the DLQ held when it started
  (``ApproximateNumberOfMessages``), or ``limit`` if smaller. A message that fails again comes back to the DLQ
  carrying this run's ``redrive-run`` (the consumer keeps the attributes a message carried, SQS's own move keeps them
  too): the redrive skips it (holds it invisible until the end, then releases it), so a still-invalid message is
  redriven once per run and never in a loop. ``dry_run`` receives the same messages, moves none, and releases them.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cli.endpoints import QueueEndpoint, UnknownName

FAILURE_ATTRIBUTES = ("failure-code", "failure-reason", "failure-field", "source-queue", "source-message-id")
REDRIVE_RUN_ATTRIBUTE = "redrive-run"
"""Marks every message a redrive moves with the run's id (``messaging.failures`` carries it back to the DLQ)."""
REDRIVE_COUNT_ATTRIBUTE = "redrive-count"
"""How many times a message was moved back from its DLQ (``messaging.failures`` carries it back to the DLQ too)."""
_AGE_WINDOW = timedelta(minutes=15)
_BATCH = 10
_MAX_ATTRIBUTES = 10


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """Depths and ages of one service queue and its DLQ (``None`` = unknown or no such queue)."""

    name: str
    visible: int | None
    in_flight: int | None
    delayed: int | None
    dead_letters: int | None
    oldest_age_seconds: float | None
    dead_letter_oldest_age_seconds: float | None
    url: str | None = None
    dead_letter_url: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message found in a dead-letter queue, with the failure details the consumer attached (if any)."""

    message_id: str
    group_id: str | None
    sent_at: datetime | None
    receive_count: int | None
    failure_code: str | None
    failure_reason: str | None
    failure_field: str | None
    source_queue: str | None
    source_message_id: str | None
    body: str
    type: str | None = None
    id: str | None = None
    times_redriven: int = 0


@dataclass(frozen=True, slots=True)
class DlqListing:
    queue: str
    dead_letter_url: str
    messages: list[DeadLetter]
    approximate_depth: int | None
    truncated: bool


@dataclass(frozen=True, slots=True)
class RedriveResult:
    """What a redrive did: ``moved`` (or, with ``dry_run``, would move), ``skipped`` (messages that came back to the
    DLQ during this run, left there), ``failed`` sends, moved messages per group, and its bound (``budget``)."""

    queue: str
    moved: int
    failed: list[dict[str, str]] = field(default_factory=list)
    groups: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    budget: int = 0
    dry_run: bool = False
    run_id: str = ""


RedriveProgress = Callable[[int, int, int, int], None]
"""``progress(moved, skipped, failed, budget)``, called after each batch of a redrive."""


def queue_name_of(url: str) -> str:
    """The queue name at the end of a queue URL."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def status(
    sqs: Any, cloudwatch: Any | None, queues: Sequence[QueueEndpoint], *, now: datetime | None = None
) -> list[QueueStatus]:
    """Depth, in-flight count, DLQ depth and oldest-message age (latest datapoint before ``now``) of each queue."""
    urls = [u for q in queues for u in (q.url, q.dead_letter_url) if u]
    ages = oldest_ages(cloudwatch, [queue_name_of(u) for u in urls], now=now) if cloudwatch is not None else {}
    result = []
    for queue in queues:
        main = _attributes(sqs, queue.url)
        dlq = _attributes(sqs, queue.dead_letter_url)
        result.append(
            QueueStatus(
                name=queue.name,
                visible=_int(main, "ApproximateNumberOfMessages"),
                in_flight=_int(main, "ApproximateNumberOfMessagesNotVisible"),
                delayed=_int(main, "ApproximateNumberOfMessagesDelayed"),
                dead_letters=_int(dlq, "ApproximateNumberOfMessages"),
                oldest_age_seconds=ages.get(queue_name_of(queue.url)) if queue.url else None,
                dead_letter_oldest_age_seconds=(
                    ages.get(queue_name_of(queue.dead_letter_url)) if queue.dead_letter_url else None
                ),
                url=queue.url,
                dead_letter_url=queue.dead_letter_url,
            )
        )
    return result


def oldest_ages(cloudwatch: Any, queue_names: Sequence[str], *, now: datetime | None = None) -> dict[str, float]:
    """The latest ``ApproximateAgeOfOldestMessage`` (seconds) per queue name; queues without data are absent."""
    if not queue_names:
        return {}
    end = now or datetime.now(UTC)
    queries = [
        {
            "Id": f"q{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SQS",
                    "MetricName": "ApproximateAgeOfOldestMessage",
                    "Dimensions": [{"Name": "QueueName", "Value": name}],
                },
                "Period": 60,
                "Stat": "Maximum",
            },
            "ReturnData": True,
        }
        for i, name in enumerate(queue_names)
    ]
    ages: dict[str, float] = {}
    for start in range(0, len(queries), 500):
        chunk = queries[start : start + 500]
        response = cloudwatch.get_metric_data(
            MetricDataQueries=chunk, StartTime=end - _AGE_WINDOW, EndTime=end, ScanBy="TimestampDescending"
        )
        for data in response.get("MetricDataResults", []):
            values = data.get("Values") or []
            if values:
                ages[queue_names[int(data["Id"][1:])]] = float(values[0])
    return ages


def peek(sqs: Any, queue_url: str, *, limit: int = 100, peek_visibility: int = 20) -> list[dict[str, Any]]:
    """Up to ``limit`` messages of a queue, left in place (see the module notes on FIFO)."""
    received: list[dict[str, Any]] = []
    try:
        while len(received) < limit:
            batch = _receive(sqs, queue_url, min(_BATCH, limit - len(received)), peek_visibility)
            if not batch:
                break
            received.extend(batch)
    finally:
        _release(sqs, queue_url, [m["ReceiptHandle"] for m in received])
    return received


def list_dead_letters(sqs: Any, queue: QueueEndpoint, *, limit: int = 100, peek_visibility: int = 20) -> DlqListing:
    """The messages of ``queue``'s DLQ with their failure attributes, without consuming them."""
    if not queue.dead_letter_url:
        raise UnknownName(f"queue {queue.name} has no dead-letter queue output")
    depth = _int(_attributes(sqs, queue.dead_letter_url), "ApproximateNumberOfMessages")
    raw = peek(sqs, queue.dead_letter_url, limit=limit, peek_visibility=peek_visibility)
    messages = [_dead_letter(m) for m in raw]
    return DlqListing(
        queue=queue.name,
        dead_letter_url=queue.dead_letter_url,
        messages=messages,
        approximate_depth=depth,
        truncated=depth is not None and depth > len(messages),
    )


def source_queue_url(queue: QueueEndpoint, action: str) -> str:
    """The URL of the queue ``queue``'s dead letters go back to; :class:`UnknownName` for a DLQ with no queue behind
    it (an event source's on-failure destination, as the outbox relay's), whose messages are listed and deleted."""
    if not queue.url:
        raise UnknownName(f"{queue.name} has no queue to {action} to (no {queue.name}QueueUrl output): its dead-letter "
                          "queue holds what an event source could not deliver; list and delete its messages")
    return queue.url


def redrive(
    sqs: Any,
    queue: QueueEndpoint,
    *,
    destination_url: str | None = None,
    limit: int | None = None,
    visibility: int = 60,
    dry_run: bool = False,
    progress: RedriveProgress | None = None,
    run_id: str | None = None,
) -> RedriveResult:
    """Move the messages of ``queue``'s DLQ back to the queue (or ``destination_url``), keeping per-group order;
    at most the messages present at the start (or ``limit``), each at most once (see the module notes)."""
    if not queue.dead_letter_url:
        raise UnknownName(f"queue {queue.name} has no dead-letter queue output")
    target = destination_url or source_queue_url(queue, "redrive")
    dlq = queue.dead_letter_url
    present = _int(_attributes(sqs, dlq), "ApproximateNumberOfMessages") or 0
    budget = present if limit is None else min(present, limit)
    run = run_id or uuid.uuid4().hex
    moved, skipped = 0, 0
    failed: list[dict[str, str]] = []
    groups: dict[str, int] = {}
    held: list[str] = []  # receipt handles released at the end: messages skipped, or all of a dry run
    received = 0
    try:
        # Each receive hands out messages not yet seen in this run (the others are held invisible), so the loop
        # ends: by the budget, by an empty receive, or - should held messages reappear - by the receive cap.
        while moved + len(failed) < budget and received < 2 * budget + _BATCH:
            batch = _receive(sqs, dlq, min(_BATCH, budget - moved - len(failed)), visibility)
            if not batch:
                break
            received += len(batch)
            returned = [m for m in batch if _attribute(m, REDRIVE_RUN_ATTRIBUTE) == run]
            fresh = [m for m in batch if m not in returned]
            skipped += len(returned)
            held.extend(m["ReceiptHandle"] for m in returned)
            if dry_run:
                held.extend(m["ReceiptHandle"] for m in fresh)
                sent: set[str] = {m["MessageId"] for m in fresh}
                errors: dict[str, str] = {}
            else:
                sent, errors = _send_in_waves(sqs, target, fresh, run)
                _delete(sqs, dlq, [m for m in fresh if m["MessageId"] in sent])
                _release(sqs, dlq, [m["ReceiptHandle"] for m in fresh if m["MessageId"] not in sent])
            for message in fresh:
                if message["MessageId"] in sent:
                    moved += 1
                    groups[_group(message) or ""] = groups.get(_group(message) or "", 0) + 1
            failed.extend({"message_id": mid, "error": err} for mid, err in errors.items())
            if progress is not None:
                progress(moved, skipped, len(failed), budget)
            if errors:
                break
    finally:
        _release(sqs, dlq, held)
    return RedriveResult(
        queue=queue.name,
        moved=moved,
        failed=failed,
        groups=groups,
        skipped=skipped,
        budget=budget,
        dry_run=dry_run,
        run_id=run,
    )


def _send_in_waves(sqs: Any, url: str, batch: Sequence[dict[str, Any]], run: str) -> tuple[set[str], dict[str, str]]:
    """Send ``batch`` in waves holding at most one message per group (the k-th of each group in wave k), so a failed
    send can never be overtaken by a later message of its group; a group stops at its first failure."""
    queues: dict[str | None, list[dict[str, Any]]] = {}
    for message in batch:
        queues.setdefault(_group(message), []).append(message)
    sent: set[str] = set()
    errors: dict[str, str] = {}
    while queues:
        wave = [pending[0] for pending in queues.values()]
        wave_sent, wave_errors = _send_back(sqs, url, wave, run)
        sent |= wave_sent
        errors.update(wave_errors)
        for group in list(queues):
            head = queues[group].pop(0)
            if head["MessageId"] in wave_errors or not queues[group]:
                del queues[group]
    return sent, errors


def redrive_deduplication_id(original: str | None, dlq_message_id: str) -> str:
    """Deduplication id of a redriven message: new (the source queue saw the original), stable across re-runs."""
    return hashlib.sha256(f"redrive\n{original or ''}\n{dlq_message_id}".encode()).hexdigest()


def _send_back(sqs: Any, url: str, messages: Sequence[dict[str, Any]], run: str) -> tuple[set[str], dict[str, str]]:
    fifo = url.endswith(".fifo")
    entries = []
    for index, message in enumerate(messages):
        entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
        attributes = {
            REDRIVE_RUN_ATTRIBUTE: {"DataType": "String", "StringValue": run},
            REDRIVE_COUNT_ATTRIBUTE: {"DataType": "Number", "StringValue": str(redrive_count(message) + 1)},
        }
        for name, value in sorted((message.get("MessageAttributes") or {}).items()):
            if name not in (*FAILURE_ATTRIBUTES, *attributes) and len(attributes) < _MAX_ATTRIBUTES:
                attributes[name] = _clean_attribute(value)
        entry["MessageAttributes"] = attributes
        if fifo:
            system = message.get("Attributes") or {}
            entry["MessageGroupId"] = system.get("MessageGroupId") or "redrive"
            entry["MessageDeduplicationId"] = redrive_deduplication_id(
                system.get("MessageDeduplicationId"), message["MessageId"]
            )
        entries.append(entry)
    response = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    sent = {messages[int(e["Id"])]["MessageId"] for e in response.get("Successful", [])}
    errors = {
        messages[int(e["Id"])]["MessageId"]: f"{e.get('Code', '')}: {e.get('Message', '')}".strip(": ")
        for e in response.get("Failed", [])
    }
    return sent, errors


def redrive_count(message: dict[str, Any]) -> int:
    """How many times ``message`` (as ``ReceiveMessage`` returns it) was redriven before (0: never)."""
    value = _attribute(message, REDRIVE_COUNT_ATTRIBUTE) or ""
    return int(value) if value.isdigit() else 0


def _clean_attribute(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}


def _receive(sqs: Any, url: str, count: int, visibility: int) -> list[dict[str, Any]]:
    response = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=count,
        VisibilityTimeout=visibility,
        WaitTimeSeconds=0,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


def _release(sqs: Any, url: str, receipt_handles: Iterable[str]) -> None:
    handles = list(receipt_handles)
    for start in range(0, len(handles), _BATCH):
        entries = [
            {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
            for i, handle in enumerate(handles[start : start + _BATCH])
        ]
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)


def _delete(sqs: Any, url: str, messages: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(messages), _BATCH):
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages[start : start + _BATCH])
        ]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)


def _attributes(sqs: Any, url: str | None) -> dict[str, str]:
    if not url:
        return {}
    attributes: dict[str, str] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return attributes


def _int(attributes: dict[str, str], name: str) -> int | None:
    value = attributes.get(name)
    return int(value) if value is not None else None


def _attribute(message: dict[str, Any], name: str) -> str | None:
    value: str | None = ((message.get("MessageAttributes") or {}).get(name) or {}).get("StringValue")
    return value


def _group(message: dict[str, Any]) -> str | None:
    group: str | None = (message.get("Attributes") or {}).get("MessageGroupId")
    return group


def _dead_letter(message: dict[str, Any]) -> DeadLetter:
    system = message.get("Attributes") or {}
    attributes = message.get("MessageAttributes") or {}

    def attribute(name: str) -> str | None:
        value: str | None = (attributes.get(name) or {}).get("StringValue")
        return value

    sent = system.get("SentTimestamp")
    count = system.get("ApproximateReceiveCount")
    body: str = message.get("Body", "")
    message_type, message_id = cloud_event_identity(body)
    return DeadLetter(
        message_id=message["MessageId"],
        group_id=system.get("MessageGroupId"),
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        receive_count=int(count) if count else None,
        failure_code=attribute("failure-code"),
        failure_reason=attribute("failure-reason"),
        failure_field=attribute("failure-field"),
        source_queue=attribute("source-queue"),
        source_message_id=attribute("source-message-id"),
        body=body,
        type=message_type,
        id=message_id,
        times_redriven=redrive_count(message),
    )


def cloud_event_identity(body: str) -> tuple[str | None, str | None]:
    """``type`` and ``id`` of a CloudEvent body, if it is one (DLQ bodies may be anything)."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # a hostile body nested deeper than the parser goes
        return None, None
    if not isinstance(document, dict):
        return None, None
    message_type, message_id = document.get("type"), document.get("id")
    return (
        message_type if isinstance(message_type, str) else None,
        message_id if isinstance(message_id, str) else None,
    )
