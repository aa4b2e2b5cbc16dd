"""What CloudWatch does on its own in AWS, done for the local cloud, on the local clock:

- ``AWS/Lambda`` metrics of every invocation (``Invocations``, ``Errors``, ``Duration``, ``Throttles``,
  ``ConcurrentExecutions``; dimension ``FunctionName``)
  (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html);
- ``AWS/SQS`` metrics of every queue, published for each minute once it is over (:mod:`localcloud.sqs.metrics`);
- metrics from embedded-metric-format log lines, as CloudWatch Logs extracts them (:mod:`localcloud.logs.emf`);
- alarm evaluation after each published minute (:mod:`.alarms`).

A thread publishes each minute of :data:`localcloud.clock.CLOCK` as it ends and flushes the gathered metrics every
``flush_interval`` seconds; ``CLOCK.advance(s)`` publishes the minutes it skips (at most :data:`BACKFILL_MINUTES`)
and evaluates the alarms before it returns, so tests never wait for a minute to pass.

Example::

    cloudwatch = CloudWatch(cloud.client, account_id="123456789012", region="us-east-1")
    cloudwatch.attach(function)
    cloudwatch.start()
    CLOCK.advance(60)   # the last minute's AWS/SQS data is published and the alarms evaluated
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from moto.sqs.models import sqs_backends

from localcloud.awslambda.logcapture import LogEvent
from localcloud.awslambda.runtime import InvocationResult, LocalFunction
from localcloud.clock import CLOCK, Clock
from localcloud.cloudwatch.aggregate import MetricAggregator, minute_of
from localcloud.cloudwatch.alarms import AlarmEvaluator
from localcloud.logs import emf
from localcloud.motopatches import MOTO_LOCK
from localcloud.periodic import PeriodicWorker
from localcloud.sqs import metrics as sqs_metrics

log = logging.getLogger("localcloud.cloudwatch")

BACKFILL_MINUTES = 15
"""Minutes published after the clock jumped (enough for alarms of up to 3 periods of 5 minutes)."""
LAMBDA = "AWS/Lambda"


class CloudWatch:
    """Metrics and alarms of one account and region of the local cloud."""

    def __init__(
        self,
        client: Callable[[str], Any],
        *,
        account_id: str,
        region: str,
        clock: Clock = CLOCK,
        flush_interval: float = 10.0,
    ) -> None:
        self._client = client
        self.account_id = account_id
        self.region = region
        self._clock = clock
        self.flush_interval = flush_interval
        self.metrics = MetricAggregator()
        self.alarms = AlarmEvaluator(client)
        self._published: int | None = None
        """Start of the last minute whose AWS/SQS data was published."""
        self._tick_lock = threading.Lock()
        self._worker = PeriodicWorker("cloudwatch", self.tick, self._until_next_tick, log=log,
                                      failure="publishing CloudWatch metrics failed")

    # ------------------------------------------------------------------------------------------------ sources
    def attach(self, function: LocalFunction) -> None:
        """Count the ``AWS/Lambda`` metrics of ``function``'s invocations."""
        function.add_listener(self._on_invocation)

    def _on_invocation(self, function: LocalFunction, result: InvocationResult) -> None:
        dimensions = {"FunctionName": function.spec.name}
        stamp = result.started_at or self._clock.now()
        add = self.metrics.add
        add(LAMBDA, "Invocations", dimensions, 1, unit="Count", timestamp=stamp)
        add(LAMBDA, "Errors", dimensions, 0 if result.ok else 1, unit="Count", timestamp=stamp)
        add(LAMBDA, "Duration", dimensions, result.duration_seconds * 1000, unit="Milliseconds", timestamp=stamp)
        add(LAMBDA, "Throttles", dimensions, 0, unit="Count", timestamp=stamp)
        add(LAMBDA, "ConcurrentExecutions", dimensions, result.concurrency, unit="Count", timestamp=stamp)
        if result.iterator_age_ms is not None:  # a stream event source's batch
            add(LAMBDA, "IteratorAge", dimensions, result.iterator_age_ms, unit="Milliseconds", timestamp=stamp)

    def on_log_event(self, group: str, event: LogEvent) -> None:
        """Extract the metrics of an embedded-metric-format log event (a :class:`~localcloud.logs.LogShipper` hook).

        Functions stamp their lines with the process's wall clock; the local clock runs ``offset`` seconds ahead
        of it, so the metrics land in the local-clock minute the function ran in.
        """
        for datum in emf.extract(event.message):
            for value in datum.values:
                self.metrics.add(datum.namespace, datum.name, datum.dimensions, value, unit=datum.unit,
                                 timestamp=datum.timestamp + self._clock.offset)

    # ---------------------------------------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Publish from now on: each minute as it ends, on every clock advance, and a flush every few seconds."""
        if self._published is None:
            self._published = minute_of(self._clock.now()) - 60
        if self._worker.start():
            self._clock.on_advance(self._on_clock_advance)

    def stop(self) -> None:
        """Stop the thread (what was gathered is flushed)."""
        self._worker.stop()
        self._clock.remove_listener(self._on_clock_advance)
        self.flush()

    @property
    def running(self) -> bool:
        return self._worker.running

    def _on_clock_advance(self) -> None:
        if self.running:
            self.tick()

    def _until_next_tick(self) -> float:
        """The next flush, or the end of the current minute if that comes first."""
        return min(self.flush_interval, 60 - (self._clock.now() % 60) + 0.05)

    # ------------------------------------------------------------------------------------------------ publishing
    def flush(self) -> int:
        """Write the gathered metrics now; returns how many data were written."""
        try:
            return self.metrics.flush(self._client("cloudwatch"))
        except Exception:
            log.exception("writing metrics failed")
            return 0

    def tick(self) -> bool:
        """Publish every minute that has ended, flush, and evaluate the alarms if a minute was published."""
        with self._tick_lock:
            now = self._clock.now()
            current = minute_of(now)
            if self._published is None:
                self._published = current - 60
            due = list(range(max(self._published + 60, current - 60 * BACKFILL_MINUTES), current, 60))
            if due:
                self._publish_sqs(due, now)
                self._published = due[-1]
            self.flush()
            if due:
                self.alarms.evaluate(now=now)
            return bool(due)

    def _publish_sqs(self, minutes: list[int], now: float) -> None:
        counted = sqs_metrics.ACTIVITY.take(self.account_id, self.region, before_minute=minutes[-1] + 60)
        with MOTO_LOCK:
            queues = dict(sqs_backends[self.account_id][self.region].queues)
            for minute in minutes:
                sqs_metrics.add_minute(self.metrics, queues, counted.get(minute, {}), minute=minute,
                                       now=min(now, minute + 60))
