"""Runs a Lambda function's handler in-process, the way the Lambda Python runtime would.

The handler named by the function's ``Handler`` (``package.module.function``) is loaded from the function's code
asset as the function's *own* module instance (two functions with the same handler string do not share module
state); the asset directory goes at the end of ``sys.path`` so the virtualenv's packages win over bundled wheels
built for another platform. Each invocation runs in its own thread with the function's environment overlay and a
Lambda context; it fails when it raises or outlives the function timeout.

Each invocation runs in an execution environment of the function (one per concurrent invocation, reused, each with
its own log stream name, as Lambda's are) and its log output is captured by :mod:`.logcapture`: what the
handler writes to stdout/stderr or through ``logging``, framed by the ``START`` / ``END`` / ``REPORT`` lines the
Lambda runtime writes. Listeners added with :meth:`LocalFunction.add_listener` see every result (the CloudWatch
emulation ships logs and counts metrics that way).

Example::

    function = LocalFunction(spec, extra_env={"AWS_REGION": "us-east-1"})
    result = function.invoke({"Records": []})
    result.ok, result.response, result.log
"""

from __future__ import annotations

import importlib.util
import itertools
import logging
import math
import re
import resource
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

from localcloud.awslambda import environ, logcapture
from localcloud.awslambda.logcapture import InvocationLog, LogEvent, lambda_timestamp
from localcloud.clock import CLOCK
from localcloud.cloudformation.deployer import FunctionSpec
from localcloud.errors import LocalCloudError

log = logging.getLogger("localcloud.awslambda.runtime")

_counter = itertools.count(1)
_load_lock = threading.Lock()


class LambdaContext:
    """The context object of the Lambda Python runtime.

    Example::

        ctx = LambdaContext(spec, deadline=time.monotonic() + 3)
        ctx.get_remaining_time_in_millis()  # about 3000
    """

    def __init__(
        self, spec: FunctionSpec, deadline: float, *, request_id: str | None = None, log_stream_name: str | None = None
    ) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = spec.log_group_name
        self.log_stream_name = log_stream_name or log_stream_name_for(CLOCK.now())
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def log_stream_name_for(created: float) -> str:
    """A Lambda log stream name: ``2026/12/01/[$LATEST]`` + 32 hex digits, dated when the environment started."""
    return time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime(created)) + uuid.uuid4().hex


@dataclass(frozen=True)
class InvocationResult:
    """Outcome of one invocation: ``response`` when ``ok``, else ``error`` (exception text or ``"Task timed out"``).

    ``log_events`` (and ``log``, their text) hold what the invocation wrote, between the runtime's ``START`` and
    ``REPORT`` lines; ``log_stream_name`` is the stream of the execution environment that ran it; ``started_at`` is
    local-clock time (epoch seconds); ``concurrency`` counts the function's invocations running when it started,
    itself included.
    """

    ok: bool
    response: Any = None
    error: str | None = None
    timed_out: bool = False
    duration_seconds: float = 0.0
    request_id: str = ""
    log_stream_name: str = ""
    log_events: tuple[LogEvent, ...] = ()
    started_at: float = 0.0
    concurrency: int = 1
    init_duration_seconds: float | None = None
    error_type: str | None = None
    """The exception's class name (Lambda's ``errorType``)."""
    error_message: str | None = None
    """The exception's message (Lambda's ``errorMessage``)."""
    stack_trace: tuple[str, ...] = ()
    """The traceback's frames, formatted (Lambda's ``stackTrace``)."""
    iterator_age_ms: float | None = None
    """For a stream event source: how old the batch's last record was when the batch was read (``IteratorAge``)."""

    @property
    def log(self) -> str:
        """Everything the invocation logged, one event per line (what ``--log-type Tail`` shows the end of)."""
        return "\n".join(event.message for event in self.log_events)


@dataclass
class _Environment:
    """An execution environment: runs one invocation at a time and keeps its log stream."""

    log_stream_name: str
    invocations: int = 0


InvocationListener = Callable[["LocalFunction", InvocationResult], None]


@dataclass
class _Pool:
    idle: list[_Environment] = field(default_factory=list)
    busy: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _max_memory_used_mb() -> int:
    # Functions share the local cloud's process: its peak resident size is the only figure there is.
    return math.ceil(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


class LocalFunction:
    """One deployed function, loaded lazily from its code asset."""

    def __init__(self, spec: FunctionSpec, extra_env: Mapping[str, str | None]) -> None:
        self.spec = spec
        self.environment: dict[str, str | None] = {
            **spec.environment,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group_name,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            "POWERTOOLS_TRACE_DISABLED": "true",
            **extra_env,
        }
        self._handler: Callable[[Any, Any], Any] | None = None
        self.module: ModuleType | None = None
        self._pool = _Pool()
        self._init_duration: float | None = None
        self._listeners: list[InvocationListener] = []

    def add_listener(self, listener: InvocationListener) -> None:
        """Call ``listener(function, result)`` after every invocation (in the invoking thread; errors are logged)."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    @property
    def running(self) -> int:
        """Invocations running now."""
        return self._pool.busy

    def load(self) -> Callable[[Any, Any], Any]:
        """Import the handler module (once) as this function's own module instance."""
        with _load_lock:
            if self._handler is not None:
                return self._handler
            module_path, _, attribute = self.spec.handler.rpartition(".")
            if not module_path:
                raise LocalCloudError(f"{self.spec.name}: handler {self.spec.handler!r} is not module.function")
            code_dir = str(self.spec.code_dir)
            if code_dir not in sys.path:
                sys.path.append(code_dir)
            relative = module_path.replace(".", "/")
            candidates = [self.spec.code_dir / f"{relative}.py", self.spec.code_dir / relative / "__init__.py"]
            source = next((c for c in candidates if c.is_file()), None)
            if source is None:
                raise LocalCloudError(f"{self.spec.name}: no {relative}.py in {self.spec.code_dir}")
            unique = re.sub(r"\W", "_", f"localcloud_fn_{next(_counter)}_{self.spec.name}_{module_path}")
            spec = importlib.util.spec_from_file_location(unique, source)
            if spec is None or spec.loader is None:
                raise LocalCloudError(f"{self.spec.name}: cannot load {source}")
            module = importlib.util.module_from_spec(spec)
            # Relative imports inside the handler module resolve against its real package.
            module.__package__ = module_path.rpartition(".")[0] if source.name != "__init__.py" else module_path
            sys.modules[unique] = module
            logcapture.install()
            loading = time.monotonic()
            with environ.overlay(self.environment):
                spec.loader.exec_module(module)
            self._init_duration = time.monotonic() - loading
            logcapture.adopt_console_handlers()
            handler: Callable[[Any, Any], Any] | None = getattr(module, attribute, None)
            if not callable(handler):
                raise LocalCloudError(f"{self.spec.name}: {self.spec.handler} is not a callable")
            self.module = module
            self._handler = handler
            return handler

    def invoke(
        self, event: Any, *, timeout: float | None = None, iterator_age_ms: float | None = None
    ) -> InvocationResult:
        """Invoke synchronously; ``timeout`` defaults to the function's Timeout; a stream mapping gives the age of
        the batch's last record (``iterator_age_ms``), which the listeners see on the result."""
        handler = self.load()
        limit = float(self.spec.timeout_seconds if timeout is None else timeout)
        environment, concurrency, init_duration = self._acquire()
        try:
            result = self._run(handler, event, limit, environment, concurrency, init_duration)
        finally:
            self._release(environment)
        if iterator_age_ms is not None:
            result = replace(result, iterator_age_ms=iterator_age_ms)
        for listener in list(self._listeners):
            try:
                listener(self, result)
            except Exception:
                log.exception("invocation listener of %s failed", self.spec.name)
        return result

    def _acquire(self) -> tuple[_Environment, int, float | None]:
        with self._pool.lock:
            environment = self._pool.idle.pop() if self._pool.idle else _Environment(log_stream_name_for(CLOCK.now()))
            self._pool.busy += 1
            environment.invocations += 1
            init_duration, self._init_duration = self._init_duration, None
            return environment, self._pool.busy, init_duration

    def _release(self, environment: _Environment) -> None:
        with self._pool.lock:
            self._pool.busy -= 1
            self._pool.idle.append(environment)

    def _run(  # noqa: PLR0917 - one invocation's parts
        self,
        handler: Callable[[Any, Any], Any],
        event: Any,
        limit: float,
        environment: _Environment,
        concurrency: int,
        init_duration: float | None,
    ) -> InvocationResult:
        request_id = str(uuid.uuid4())
        output = InvocationLog(request_id)
        started_at = CLOCK.now()
        started = time.monotonic()
        context = LambdaContext(self.spec, deadline=started + limit, request_id=request_id,
                                log_stream_name=environment.log_stream_name)
        output.runtime_line(f"START RequestId: {request_id} Version: $LATEST")
        box: dict[str, Any] = {}

        def run() -> None:
            with environ.overlay(self.environment), logcapture.capturing(output):
                try:
                    box["response"] = handler(event, context)
                except BaseException as exc:
                    box["error"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                    box["traceback"] = traceback.format_exc()
                    box["error_type"], box["error_message"] = type(exc).__name__, str(exc)
                    # The frames of the function's code: this runner's own frame is not part of it.
                    frames = traceback.extract_tb(exc.__traceback__)[1:]
                    box["stack_trace"] = tuple(traceback.format_list(frames))

        thread = threading.Thread(target=run, name=f"lambda:{self.spec.name}", daemon=True)
        thread.start()
        thread.join(limit)
        duration = time.monotonic() - started
        timed_out = thread.is_alive()
        if timed_out:
            output.close()  # the thread runs on; what it writes now is not this invocation's (Lambda stops it)
            output.runtime_line(
                f"{lambda_timestamp(int(CLOCK.now_millis()))} {request_id} Task timed out after {limit:.2f} seconds"
            )
        elif "error" in box:
            output.record(f"[ERROR] {box['error']}\n{box['traceback'].rstrip()}")
        output.close()
        output.runtime_line(f"END RequestId: {request_id}")
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration * 1000:.2f} ms"
            f"\tBilled Duration: {max(1, math.ceil(duration * 1000))} ms\tMemory Size: {self.spec.memory_mb} MB"
            f"\tMax Memory Used: {_max_memory_used_mb()} MB"
        )
        if init_duration is not None:
            report += f"\tInit Duration: {init_duration * 1000:.2f} ms"
        output.runtime_line(report)
        common: dict[str, Any] = {
            "duration_seconds": duration,
            "request_id": request_id,
            "log_stream_name": environment.log_stream_name,
            "log_events": output.events,
            "started_at": started_at,
            "concurrency": concurrency,
            "init_duration_seconds": init_duration,
        }
        if timed_out:
            return InvocationResult(ok=False, error="Task timed out", timed_out=True, **common)
        if "error" in box:
            return InvocationResult(ok=False, error=box["error"], error_type=box["error_type"],
                                    error_message=box["error_message"], stack_trace=box["stack_trace"], **common)
        return InvocationResult(ok=True, response=box.get("response"), **common)
