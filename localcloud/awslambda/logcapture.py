"""What a function writes during one invocation, captured per thread: stdout, stderr and ``logging``.

Lambda sends everything a function writes to stdout and stderr, and every record of the runtime's root logging
handler, to the function's log stream. In the local cloud many functions run in threads of one process, so the
capture is routed by thread, never by swapping ``sys.stdout`` around an invocation:

- :func:`install` puts a routing proxy on ``sys.stdout`` and ``sys.stderr`` (writes from a capturing thread go to
  its :class:`InvocationLog`, every other write to the stream underneath), points the stream handlers that loggers
  already hold on the console streams (Powertools' ``StreamHandler(sys.stdout)``) at the proxies, and adds to the
  root logger a handler that writes records of capturing threads in the Lambda runtime's format
  (``[LEVEL]\\t<time>Z\\t<request id>\\t<message>``), as the Lambda Python runtime's own root handler does;
- :func:`capturing` makes an :class:`InvocationLog` the current thread's destination.

Records of a logger configured by Powertools are not written twice: Powertools suppresses its loggers on the root
handlers, and the routing handler skips them too.

Example::

    log = InvocationLog(request_id="6f1c...")
    with capturing(log):
        print("hello")
        logging.getLogger("app").warning("careful")
    log.text  # 'hello\\n[WARNING]\\t2026-12-01T10:00:00.000Z\\t6f1c...\\tcareful'
"""

from __future__ import annotations

import io
import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from localcloud.clock import CLOCK

DEFAULT_LIMIT_BYTES = 1024 * 1024
"""Log output kept per invocation; what a function writes beyond it is dropped and counted."""

_local = threading.local()
_install_lock = threading.Lock()


@dataclass(frozen=True)
class LogEvent:
    """One CloudWatch Logs event: milliseconds since the epoch (local clock) and the message."""

    timestamp: int
    message: str


def _now_millis() -> int:
    return int(CLOCK.now_millis())


def lambda_timestamp(millis: int) -> str:
    """The ISO 8601 UTC time the Lambda runtime prints (``2026-12-01T10:00:00.123Z``)."""
    seconds, ms = divmod(millis, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"


class InvocationLog:
    """The log events of one invocation, at most ``limit_bytes`` of function output.

    Lines written to stdout/stderr become one event each (a partial line waits for its newline or :meth:`close`);
    a logging record is one event even when it spans lines; :meth:`runtime_line` adds the runtime's own lines
    (START, END, REPORT), which are never dropped.

    Example::

        log = InvocationLog(request_id="r-1")
        log.write("a\\nb")
        log.close()
        [e.message for e in log.events]  # ['a', 'b']
    """

    def __init__(self, request_id: str = "", *, limit_bytes: int = DEFAULT_LIMIT_BYTES) -> None:
        self.request_id = request_id
        self.limit_bytes = limit_bytes
        self.dropped_bytes = 0
        self._size = 0
        self._pending = ""
        self._pending_at = 0
        self._events: list[LogEvent] = []
        self._closed = False
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        """Stream output (stdout/stderr): complete lines become events."""
        with self._lock:
            if self._closed or not text:
                return len(text)
            if not self._pending:
                self._pending_at = _now_millis()
            self._pending += text
            *lines, self._pending = self._pending.split("\n")
            for line in lines:
                self._append(line, self._pending_at)
                self._pending_at = _now_millis()
            if len(self._pending) > self.limit_bytes:
                self._append(self._pending, self._pending_at)
                self._pending = ""
        return len(text)

    def record(self, message: str) -> None:
        """One event from a logging record (multi-line messages stay one event)."""
        with self._lock:
            if not self._closed:
                self._flush_pending()
                self._append(message, _now_millis())

    def runtime_line(self, message: str) -> None:
        """A line the Lambda runtime writes (START, END, REPORT, timeouts); never dropped."""
        with self._lock:
            self._flush_pending()
            self._events.append(LogEvent(_now_millis(), message))

    def close(self) -> None:
        """Flush a partial line and note dropped output; later writes (e.g. of a timed-out thread) are ignored."""
        with self._lock:
            if self._closed:
                return
            self._flush_pending()
            if self.dropped_bytes:
                self._events.append(
                    LogEvent(_now_millis(), f"{self.dropped_bytes} bytes of log output dropped "
                                            f"(the local cloud keeps {self.limit_bytes} bytes per invocation)")
                )
            self._closed = True

    @property
    def events(self) -> tuple[LogEvent, ...]:
        """The events so far, oldest first."""
        with self._lock:
            return tuple(self._events)

    @property
    def text(self) -> str:
        """The events' messages, one per line."""
        return "\n".join(event.message for event in self.events)

    def _flush_pending(self) -> None:
        if self._pending:
            self._append(self._pending, self._pending_at)
            self._pending = ""

    def _append(self, message: str, timestamp: int) -> None:
        size = len(message.encode("utf-8", "replace")) + 1
        if self._size + size > self.limit_bytes:
            self.dropped_bytes += size
            return
        self._size += size
        self._events.append(LogEvent(timestamp, message))


def current() -> InvocationLog | None:
    """The log the current thread writes to, if it is running an invocation."""
    log: InvocationLog | None = getattr(_local, "log", None)
    return log


@contextmanager
def capturing(log: InvocationLog) -> Iterator[InvocationLog]:
    """Send the current thread's stdout, stderr and logging output to ``log``."""
    install()
    previous = current()
    _local.log = log
    try:
        yield log
    finally:
        _local.log = previous


class RoutedStream(io.TextIOBase):
    """``sys.stdout`` / ``sys.stderr`` replacement: a capturing thread's writes go to its log, others pass through."""

    def __init__(self, name: str, underlying: TextIO) -> None:
        super().__init__()
        self._name = name
        self._underlying: TextIO = underlying

    @property
    def underlying(self) -> TextIO:
        """The stream this proxy replaced."""
        return self._underlying

    def _target(self) -> TextIO:
        active: TextIO = getattr(sys, self._name)
        # Someone (a test runner's capture) may have replaced the proxy since: pass through to what is there now.
        return self._underlying if id(active) == id(self) else active

    def write(self, text: str) -> int:
        log = current()
        if log is not None:
            return log.write(text)
        return self._target().write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if current() is None:
            self._target().flush()

    def isatty(self) -> bool:
        return current() is None and self._target().isatty()

    def fileno(self) -> int:
        return self._target().fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._target(), "encoding", "utf-8") or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._target(), "errors", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)


class _LambdaRootHandler(logging.Handler):
    """The Lambda Python runtime's root handler, for capturing threads only."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        log = current()
        if log is None or _configured_by_powertools(record.name):
            return
        try:
            message = self.format(record)
        except Exception:  # a bad format string is the function's bug: Lambda prints what it can
            message = str(record.msg)
        created = lambda_timestamp(int((record.created + CLOCK.offset) * 1000))
        log.record(f"[{record.levelname}]\t{created}\t{log.request_id}\t{message}")


def _configured_by_powertools(name: str) -> bool:
    logger: logging.Logger | None = logging.getLogger(name)
    while logger is not None and logger is not logging.root:
        if getattr(logger, "powertools_handler", None) is not None:
            return True
        logger = logger.parent
    return False


_root_handler = _LambdaRootHandler()


def install() -> None:
    """Route stdout, stderr and root logging by thread (idempotent; cheap when nothing changed)."""
    with _install_lock:
        replaced = False
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if not isinstance(stream, RoutedStream):
                setattr(sys, name, RoutedStream(name, stream))
                replaced = True
        if _root_handler not in logging.root.handlers:
            logging.root.addHandler(_root_handler)
            replaced = True
        if replaced:
            adopt_console_handlers()


def adopt_console_handlers() -> None:
    """Point stream handlers of named loggers that write to a console stream at the routing proxies.

    Called after a handler module is imported: a logger it configured before the proxies existed (Powertools holds
    the ``sys.stdout`` of the moment it was created) would otherwise write past the capture.
    """
    proxies: dict[int, RoutedStream] = {}
    for name in ("stdout", "stderr"):
        proxy = getattr(sys, name)
        if isinstance(proxy, RoutedStream):
            proxies[id(proxy.underlying)] = proxy
            original = getattr(sys, f"__{name}__", None)
            if original is not None:
                proxies.setdefault(id(original), proxy)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger):
            continue
        for handler in list(logger.handlers):
            if type(handler) is logging.StreamHandler and id(handler.stream) in proxies:
                handler.setStream(proxies[id(handler.stream)])
