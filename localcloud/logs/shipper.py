"""Ships every invocation's log to CloudWatch Logs, as Lambda does: the function's log group, one stream per
execution environment, written through the Logs API (so ``aws logs tail``, ``filter-log-events`` and
``get-log-events`` read them, in-process and against a server).

Lambda sends logs asynchronously; so does the shipper: invocations hand their events over (never waiting for the
Logs API) and one thread writes them with ``PutLogEvents`` in batches. What waits is bounded
(``max_pending_events``; the oldest batches are dropped and counted beyond it). Each shipped event is also offered
to the ``on_event`` hook (the embedded metric format extraction).

Example::

    shipper = LogShipper(cloud.client)
    shipper.attach(function)
    shipper.start()
    function.invoke(event)
    shipper.flush()
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from localcloud.awslambda.logcapture import LogEvent
from localcloud.awslambda.runtime import InvocationResult, LocalFunction

log = logging.getLogger("localcloud.logs")

MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
"""PutLogEvents quotas: events and bytes per call, each event counting its UTF-8 size plus 26 bytes."""
MAX_EVENT_BYTES = 256 * 1024 - EVENT_OVERHEAD_BYTES
"""Longer messages are cut to this size, as Lambda cuts log lines longer than 256 KB."""

EventHook = Callable[[str, LogEvent], None]
"""Called with (log group name, event) for every shipped event."""


@dataclass(frozen=True)
class _Batch:
    group: str
    stream: str
    events: tuple[LogEvent, ...]


class LogShipper:
    """Writes invocation logs to CloudWatch Logs from a background thread."""

    def __init__(
        self,
        client: Callable[[str], Any],
        *,
        max_pending_events: int = 50_000,
        on_event: EventHook | None = None,
    ) -> None:
        self._client = client
        self.max_pending_events = max_pending_events
        self._on_event = on_event
        self._pending: deque[_Batch] = deque()
        self._pending_events = 0
        self._shipping = False
        self._known_groups: set[str] = set()
        self._known_streams: set[tuple[str, str]] = set()
        self._state = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self.dropped_events = 0
        """Events dropped because more than ``max_pending_events`` waited."""
        self.shipped_events = 0

    def attach(self, function: LocalFunction) -> None:
        """Ship the log of every invocation of ``function`` from now on."""
        function.add_listener(self._on_invocation)

    def _on_invocation(self, function: LocalFunction, result: InvocationResult) -> None:
        if not result.log_events:
            return
        self.submit(function.spec.log_group_name, result.log_stream_name, result.log_events)

    def submit(self, group: str, stream: str, events: Sequence[LogEvent]) -> None:
        """Queue ``events`` for ``stream`` of ``group``."""
        with self._state:
            self._pending.append(_Batch(group, stream, tuple(events)))
            self._pending_events += len(events)
            while self._pending_events > self.max_pending_events and len(self._pending) > 1:
                dropped = self._pending.popleft()
                self._pending_events -= len(dropped.events)
                self.dropped_events += len(dropped.events)
            self._state.notify_all()

    # ------------------------------------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the shipping thread (idempotent)."""
        with self._state:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop = False
            self._thread = threading.Thread(target=self._run, name="logs-shipper", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ship what is pending, then stop."""
        self.flush(timeout)
        with self._state:
            self._stop = True
            self._state.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self._thread = None

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything submitted so far is shipped; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._state:
            if self._thread is None:
                return not self._pending
            while self._pending or self._shipping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._state.wait(remaining)
        return True

    # ------------------------------------------------------------------------------------------------- shipping
    def _run(self) -> None:
        while True:
            with self._state:
                while not self._pending and not self._stop:
                    self._state.wait()
                if self._stop and not self._pending:
                    return
                batches = list(self._pending)
                self._pending.clear()
                self._pending_events = 0
                self._shipping = True
            try:
                self._ship(batches)
            except Exception:
                log.exception("shipping %d log batch(es) failed", len(batches))
            finally:
                with self._state:
                    self._shipping = False
                    self._state.notify_all()

    def _ship(self, batches: list[_Batch]) -> None:
        by_stream: dict[tuple[str, str], list[LogEvent]] = {}
        for batch in batches:
            by_stream.setdefault((batch.group, batch.stream), []).extend(batch.events)
        logs = self._client("logs")
        for (group, stream), events in by_stream.items():
            self._ensure_stream(logs, group, stream)
            ordered = sorted(events, key=lambda event: event.timestamp)
            for chunk in _chunks(ordered):
                response = logs.put_log_events(
                    logGroupName=group,
                    logStreamName=stream,
                    logEvents=[{"timestamp": e.timestamp, "message": _cut(e.message)} for e in chunk],
                )
                rejected = response.get("rejectedLogEventsInfo")
                if rejected:
                    log.warning("CloudWatch Logs rejected events of %s/%s: %s", group, stream, rejected)
                self.shipped_events += len(chunk)
            if self._on_event is not None:
                for event in ordered:
                    self._on_event(group, event)

    def _ensure_stream(self, logs: Any, group: str, stream: str) -> None:
        if (group, stream) in self._known_streams:
            return
        if group not in self._known_groups:
            _create_ignoring_existing(logs.create_log_group, logGroupName=group)
            self._known_groups.add(group)
        _create_ignoring_existing(logs.create_log_stream, logGroupName=group, logStreamName=stream)
        self._known_streams.add((group, stream))


def _create_ignoring_existing(create: Callable[..., Any], **kwargs: Any) -> None:
    try:
        create(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
            raise


def _cut(message: str) -> str:
    encoded = message.encode("utf-8", "replace")
    return message if len(encoded) <= MAX_EVENT_BYTES else encoded[:MAX_EVENT_BYTES].decode("utf-8", "ignore")


def _chunks(events: list[LogEvent]) -> list[list[LogEvent]]:
    chunks: list[list[LogEvent]] = []
    current: list[LogEvent] = []
    size = 0
    for event in events:
        event_size = min(len(event.message.encode("utf-8", "replace")), MAX_EVENT_BYTES) + EVENT_OVERHEAD_BYTES
        if current and (len(current) >= MAX_BATCH_EVENTS or size + event_size > MAX_BATCH_BYTES):
            chunks.append(current)
            current, size = [], 0
        current.append(event)
        size += event_size
    if current:
        chunks.append(current)
    return chunks
