"""The ``AWS/SQS`` metrics, per queue (dimension ``QueueName``), as SQS publishes them each minute
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html).

- Counters, counted by the patched SQS API as requests happen (:data:`ACTIVITY`), in the minute of the local clock
  they happen in: ``NumberOfMessagesSent`` (also SNS deliveries; not moves to a dead-letter queue),
  ``NumberOfMessagesReceived``, ``NumberOfMessagesDeleted``, ``NumberOfEmptyReceives``, ``SentMessageSize`` (bytes)
  and, on FIFO queues, ``NumberOfDeduplicatedSentMessages``.
- Gauges, sampled from the queues when a minute is published: ``ApproximateNumberOfMessagesVisible``,
  ``ApproximateNumberOfMessagesNotVisible``, ``ApproximateNumberOfMessagesDelayed`` and
  ``ApproximateAgeOfOldestMessage`` (seconds since the oldest non-deleted message was enqueued; 0 when empty).

Example::

    ACTIVITY.sent(("123456789012", "us-east-1", "orders.fifo"), size=120)
    gauges(queue, now=CLOCK.now())["ApproximateNumberOfMessagesVisible"]
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from localcloud.clock import CLOCK
from localcloud.cloudwatch.aggregate import MetricAggregator, minute_of

NAMESPACE = "AWS/SQS"
QueueRef = tuple[str, str, str]
"""(account id, region, queue name)."""

ENQUEUED_AT = "_localcloud_enqueued_at"
"""Message attribute (epoch seconds) overriding ``SentTimestamp`` as the enqueue time (a FIFO move to a DLQ)."""


@dataclass
class _Counters:
    sent: int = 0
    sent_sizes: list[int] = field(default_factory=list)
    deduplicated: int = 0
    received: int = 0
    deleted: int = 0
    empty_receives: int = 0


class QueueActivity:
    """Per-queue, per-minute counters of SQS requests; thread-safe."""

    MAX_SIZES_PER_MINUTE = 10_000
    """Message sizes kept per queue and minute (further sizes still count in the sum and count)."""
    KEEP_MINUTES = 60
    """Minutes of counters kept when nobody takes them (a local cloud that publishes no metrics stays bounded)."""

    def __init__(self) -> None:
        self._minutes: dict[int, dict[QueueRef, _Counters]] = defaultdict(dict)
        self._lock = threading.Lock()

    def _counters(self, queue: QueueRef) -> _Counters:
        minute = minute_of(CLOCK.now())
        if minute not in self._minutes:
            for old in [m for m in self._minutes if m < minute - 60 * self.KEEP_MINUTES]:
                del self._minutes[old]
        return self._minutes[minute].setdefault(queue, _Counters())

    def sent(self, queue: QueueRef, size: int) -> None:
        with self._lock:
            counters = self._counters(queue)
            counters.sent += 1
            if len(counters.sent_sizes) < self.MAX_SIZES_PER_MINUTE:
                counters.sent_sizes.append(size)

    def deduplicated(self, queue: QueueRef) -> None:
        with self._lock:
            self._counters(queue).deduplicated += 1

    def received(self, queue: QueueRef, count: int) -> None:
        with self._lock:
            counters = self._counters(queue)
            if count:
                counters.received += count
            else:
                counters.empty_receives += 1

    def deleted(self, queue: QueueRef) -> None:
        with self._lock:
            self._counters(queue).deleted += 1

    def take(self, account_id: str, region: str, *, before_minute: int) -> dict[int, dict[QueueRef, _Counters]]:
        """The counters of the queues of ``account_id`` and ``region`` for every minute before ``before_minute``
        (and forget them)."""
        taken: dict[int, dict[QueueRef, _Counters]] = {}
        with self._lock:
            for minute in [m for m in self._minutes if m < before_minute]:
                queues = self._minutes[minute]
                for ref in [r for r in queues if r[0] == account_id and r[1] == region]:
                    taken.setdefault(minute, {})[ref] = queues.pop(ref)
                if not queues:
                    del self._minutes[minute]
        return taken


ACTIVITY = QueueActivity()
"""The counters the patched SQS API feeds (one per process, as the patches are)."""


def _add_counters(metrics: MetricAggregator, name: str, counters: _Counters, minute: int) -> None:
    dimensions = {"QueueName": name}
    for metric, value in (
        ("NumberOfMessagesSent", counters.sent),
        ("NumberOfMessagesReceived", counters.received),
        ("NumberOfMessagesDeleted", counters.deleted),
        ("NumberOfEmptyReceives", counters.empty_receives),
    ):
        metrics.add(NAMESPACE, metric, dimensions, value, unit="Count", timestamp=minute)
    if counters.deduplicated:
        metrics.add(NAMESPACE, "NumberOfDeduplicatedSentMessages", dimensions, counters.deduplicated,
                    unit="Count", timestamp=minute)
    for size in counters.sent_sizes:
        metrics.add(NAMESPACE, "SentMessageSize", dimensions, size, unit="Bytes", timestamp=minute)


def enqueued_at(message: Any) -> float:
    """When ``message`` was enqueued (epoch seconds)."""
    override: float | None = getattr(message, ENQUEUED_AT, None)
    return override if override is not None else float(message.sent_timestamp or 0) / 1000.0


def gauges(queue: Any, *, now: float) -> dict[str, float]:
    """The gauges of one moto queue at local-clock time ``now`` (epoch seconds)."""
    now_ms = now * 1000.0
    visible = not_visible = delayed = 0
    oldest: float | None = None
    for message in queue._messages:
        if message.delayed_until > now_ms:
            delayed += 1
        elif message.visible_at > now_ms:
            not_visible += 1
        else:
            visible += 1
        enqueued = enqueued_at(message)
        oldest = enqueued if oldest is None else min(oldest, enqueued)
    return {
        "ApproximateNumberOfMessagesVisible": visible,
        "ApproximateNumberOfMessagesNotVisible": not_visible,
        "ApproximateNumberOfMessagesDelayed": delayed,
        "ApproximateAgeOfOldestMessage": max(0.0, round(now - oldest)) if oldest is not None else 0.0,
    }


def add_minute(
    metrics: MetricAggregator,
    queues: dict[str, Any],
    counted: dict[QueueRef, _Counters],
    *,
    minute: int,
    now: float,
) -> None:
    """The data of ``minute`` for every queue: its gauges sampled at ``now`` and its counters (zeros when idle)."""
    counters_by_name = {name: counters for (_, _, name), counters in counted.items()}
    for name, queue in queues.items():
        dimensions = {"QueueName": name}
        for metric, value in gauges(queue, now=now).items():
            unit = "Seconds" if metric == "ApproximateAgeOfOldestMessage" else "Count"
            metrics.add(NAMESPACE, metric, dimensions, value, unit=unit, timestamp=minute)
        _add_counters(metrics, name, counters_by_name.get(name) or _Counters(), minute)
