"""Runs a Lambda function's handler in-process, the way the Lambda Python runtime would.

The handler named by the function's ``Handler`` (``package.module.function``) is loaded from the function's code
asset as the function's *own* module instance (two functions with the same handler string do not share module
state); the asset directory goes at the end of ``sys.path`` so the virtualenv's packages win over bundled wheels
built for another platform. Each invocation runs in its own thread with the function's environment overlay and a
Lambda context; it fails when it raises or outlives the function timeout.

Example::

    function = LocalFunction(spec, extra_env={"AWS_REGION": "us-east-1"})
    result = function.invoke({"Records": []})
    result.ok, result.response
"""

from __future__ import annotations

import importlib.util
import itertools
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from localcloud import environ
from localcloud.deployer import FunctionSpec
from localcloud.errors import LocalCloudError

_counter = itertools.count(1)
_load_lock = threading.Lock()


class LambdaContext:
    """The context object of the Lambda Python runtime.

    Example::

        ctx = LambdaContext(spec, deadline=time.monotonic() + 3)
        ctx.get_remaining_time_in_millis()  # about 3000
    """

    def __init__(self, spec: FunctionSpec, deadline: float) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = spec.log_group_name
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class InvocationResult:
    """Outcome of one invocation: ``response`` when ``ok``, else ``error`` (exception text or ``"Task timed out"``)."""

    ok: bool
    response: Any = None
    error: str | None = None
    timed_out: bool = False
    duration_seconds: float = 0.0


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
            with environ.overlay(self.environment):
                spec.loader.exec_module(module)
            handler: Callable[[Any, Any], Any] | None = getattr(module, attribute, None)
            if not callable(handler):
                raise LocalCloudError(f"{self.spec.name}: {self.spec.handler} is not a callable")
            self.module = module
            self._handler = handler
            return handler

    def invoke(self, event: Any, *, timeout: float | None = None) -> InvocationResult:
        """Invoke synchronously; ``timeout`` defaults to the function's Timeout."""
        handler = self.load()
        limit = float(self.spec.timeout_seconds if timeout is None else timeout)
        started = time.monotonic()
        context = LambdaContext(self.spec, deadline=started + limit)
        box: dict[str, Any] = {}

        def run() -> None:
            with environ.overlay(self.environment):
                try:
                    box["response"] = handler(event, context)
                except BaseException as exc:
                    box["error"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                    box["traceback"] = traceback.format_exc()

        thread = threading.Thread(target=run, name=f"lambda:{self.spec.name}", daemon=True)
        thread.start()
        thread.join(limit)
        duration = time.monotonic() - started
        if thread.is_alive():
            return InvocationResult(ok=False, error="Task timed out", timed_out=True, duration_seconds=duration)
        if "error" in box:
            return InvocationResult(ok=False, error=box["error"], duration_seconds=duration)
        return InvocationResult(ok=True, response=box.get("response"), duration_seconds=duration)
