"""The Lambda API of the local cloud: functions run in-process by the same loader as the triggers, no Docker.

Answered here: ``Invoke`` (``RequestResponse`` with the handler's result, or ``X-Amz-Function-Error: Unhandled`` and
the error document Lambda returns; ``--log-type Tail`` with the last 4 KB of the invocation's log; ``Event`` queued
and run in the background; ``DryRun``), ``ListFunctions``, ``GetFunction``, ``GetFunctionConfiguration``,
``ListEventSourceMappings``, ``GetEventSourceMapping`` and ``UpdateEventSourceMapping`` (``Enabled`` stops and
starts the trigger's polling). ``CreateEventSourceMapping`` and ``DeleteEventSourceMapping`` are refused (mappings
come from templates: moto's own would fire inside SendMessage); every other Lambda call goes to moto, which mirrors
the deployed functions.

Example::

    api = LambdaApi(cloud)
    api.handle(request)   # POST /2015-03-31/functions/orders/invocations -> the handler's result
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import re
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.awslambda.runtime import InvocationResult, LocalFunction
from localcloud.cloud import LocalCloud
from localcloud.cloudformation.deployment import FunctionSpec, MappingSpec
from localcloud.cloudformation.resources.awslambda import mapping_arn

log = logging.getLogger("localcloud.lambda")

TAIL_BYTES = 4096
"""``LogType: Tail`` returns the last 4 KB of the invocation's log."""
ASYNC_WORKERS = 4
FIFO_MAX_BATCH_SIZE = 10
_FUNCTION = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)(?P<rest>/invocations|/configuration)?/?$")
_FUNCTIONS = re.compile(r"^/2015-03-31/functions/?$")
_MAPPINGS = re.compile(r"^/2015-03-31/event-source-mappings/?$")
_MAPPING = re.compile(r"^/2015-03-31/event-source-mappings/(?P<mapping_id>[^/]+)/?$")


class LambdaError(Exception):
    """A Lambda API error: the ``x-amzn-ErrorType`` code, HTTP status and message."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _json(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(document), status=status, content_type="application/json", headers=headers or {})


def _error(error: LambdaError) -> Response:
    return _json({"Type": "User", "message": error.message}, error.status,
                 {"x-amzn-ErrorType": error.code, "x-amzn-RequestId": str(uuid.uuid4())})


def _timestamp(moment: datetime) -> str:
    """Lambda's ``LastModified`` format (``2026-12-01T10:00:00.000+0000``)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def error_document(result: InvocationResult) -> dict[str, Any]:
    """The payload of a failed invocation, as the Lambda Python runtime shapes it.

    Example::

        error_document(result)   # {"errorMessage": "boom", "errorType": "RuntimeError", "requestId": ..., ...}
    """
    if result.timed_out:
        return {"errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after "
                                f"{result.duration_seconds:.2f} seconds"}
    return {
        "errorMessage": result.error_message if result.error_message is not None else (result.error or ""),
        "errorType": result.error_type or "Runtime.Unknown",
        "requestId": result.request_id,
        "stackTrace": list(result.stack_trace),
    }


class LambdaApi:
    """Answers Lambda requests for the functions and mappings of a :class:`~localcloud.cloud.LocalCloud`."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self._background = ThreadPoolExecutor(max_workers=ASYNC_WORKERS, thread_name_prefix="lambda-event")

    def handle(self, request: Request) -> Response | None:
        """The response to a function or mapping call, or None to let moto answer."""
        path, method = request.path, request.method
        routes: list[tuple[re.Pattern[str], str, Callable[..., Response]]] = [
            (_FUNCTIONS, "GET", self.list_functions),
            (_MAPPINGS, "GET", self.list_event_source_mappings),
            (_MAPPINGS, "POST", self.refuse_mapping_change),
            (_MAPPING, "GET", self.get_event_source_mapping),
            (_MAPPING, "PUT", self.update_event_source_mapping),
            (_MAPPING, "DELETE", self.refuse_mapping_change),
        ]
        try:
            for pattern, verb, action in routes:
                match = pattern.match(path)
                if match and method == verb:
                    return action(request, **match.groupdict())
            match = _FUNCTION.match(path)
            if match and method in ("GET", "POST"):
                return self._function_call(request, match["name"], match["rest"] or "", method)
        except LambdaError as exc:
            return _error(exc)
        return None

    def _function_call(self, request: Request, name: str, rest: str, method: str) -> Response | None:
        if rest == "/invocations" and method == "POST":
            return self.invoke(request, name)
        if method == "GET" and rest in ("", "/configuration"):
            function = self._function(name, request.args.get("Qualifier"))
            configuration = self._configuration(function.spec)
            if rest == "/configuration":
                return _json(configuration)
            return _json({"Configuration": configuration, "Code": {"RepositoryType": "S3"}, "Tags": {}})
        return None

    # ------------------------------------------------------------------------------------------------- functions
    def _function(self, name_or_arn: str, qualifier: str | None = None) -> LocalFunction:
        name = name_or_arn
        if name.startswith("arn:"):
            parts = name.split(":")
            name, qualifier = parts[6] if len(parts) > 6 else "", parts[7] if len(parts) > 7 else qualifier
        elif ":" in name:
            name, qualifier = name.split(":", 1)
        function = self.cloud.functions.get(name)
        arn = f"arn:aws:lambda:{self.cloud.region}:{self.cloud.account_id}:function:{name}"
        if function is None:
            raise LambdaError("ResourceNotFoundException", f"Function not found: {arn}", 404)
        if qualifier not in (None, "", "$LATEST"):
            raise LambdaError("ResourceNotFoundException", f"Function not found: {arn}:{qualifier}", 404)
        return function

    def _configuration(self, spec: FunctionSpec) -> dict[str, Any]:
        stack = self.cloud.deployment.stacks.get(spec.stack)
        state = stack.resources.get(spec.logical_id) if stack else None
        return {
            "FunctionName": spec.name,
            "FunctionArn": spec.arn,
            "Runtime": spec.runtime,
            "Role": spec.role,
            "Handler": spec.handler,
            "CodeSize": spec.code_size,
            "Description": spec.description,
            "Timeout": spec.timeout_seconds,
            "MemorySize": spec.memory_mb,
            "LastModified": _timestamp(state.updated) if state else None,
            "CodeSha256": spec.code_sha256,
            "Version": "$LATEST",
            "Environment": {"Variables": dict(spec.environment)},
            "TracingConfig": {"Mode": spec.tracing_mode},
            "RevisionId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{spec.arn}/{spec.code_sha256}/{spec.environment}")),
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": list(spec.architectures),
            "EphemeralStorage": {"Size": 512},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": spec.log_group_name},
        }

    def list_functions(self, request: Request) -> Response:
        specs = sorted((f.spec for f in self.cloud.functions.values()), key=lambda s: s.name)
        start = int(request.args.get("Marker") or 0)
        size = int(request.args.get("MaxItems") or 50)
        page = specs[start : start + size]
        document: dict[str, Any] = {"Functions": [self._configuration(spec) for spec in page]}
        if start + size < len(specs):
            document["NextMarker"] = str(start + size)
        return _json(document)

    def invoke(self, request: Request, name: str) -> Response:
        function = self._function(name, request.args.get("Qualifier"))
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        raw = request.get_data()
        try:
            event = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise LambdaError("InvalidRequestContentException", f"Could not parse request body into json: {exc}") \
                from exc
        request_id = str(uuid.uuid4())
        if invocation_type == "DryRun":
            return Response(status=204, headers={"x-amzn-RequestId": request_id})
        if invocation_type == "Event":
            self._background.submit(self._run_in_background, function, event)
            return Response(status=202, headers={"x-amzn-RequestId": request_id})
        if invocation_type != "RequestResponse":
            raise LambdaError("InvalidParameterValueException", f"Unsupported InvocationType {invocation_type}")
        result = function.invoke(event)
        headers = {"X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": result.request_id or request_id}
        if request.headers.get("X-Amz-Log-Type") == "Tail":
            headers["X-Amz-Log-Result"] = base64.b64encode(result.log.encode()[-TAIL_BYTES:]).decode()
        if not result.ok:
            headers["X-Amz-Function-Error"] = "Unhandled"
            return _json(error_document(result), headers=headers)
        try:
            payload = json.dumps(result.response)
        except (TypeError, ValueError) as exc:
            headers["X-Amz-Function-Error"] = "Unhandled"
            return _json({"errorMessage": f"Unable to marshal response: {exc}", "errorType": "Runtime.MarshalError",
                          "requestId": result.request_id, "stackTrace": []}, headers=headers)
        return Response(payload, status=200, content_type="application/json", headers=headers)

    @staticmethod
    def _run_in_background(function: LocalFunction, event: Any) -> None:
        result = function.invoke(event)
        if not result.ok:
            log.warning("asynchronous invocation of %s failed: %s", function.spec.name, result.error)

    # -------------------------------------------------------------------------------------- event source mappings
    def _mapping_configuration(self, spec: MappingSpec) -> dict[str, Any]:
        stack = self.cloud.deployment.stacks.get(spec.stack)
        state = stack.resources.get(spec.logical_id) if stack else None
        configuration: dict[str, Any] = {
            "UUID": spec.uuid,
            "BatchSize": spec.batch_size,
            "MaximumBatchingWindowInSeconds": spec.maximum_batching_window_seconds,
            "EventSourceArn": spec.event_source_arn,
            "FunctionArn": f"arn:aws:lambda:{self.cloud.region}:{self.cloud.account_id}:function:{spec.function_name}",
            "LastModified": state.updated.timestamp() if state else None,
            "State": "Enabled" if spec.enabled else "Disabled",
            "StateTransitionReason": "USER_INITIATED",
            "FunctionResponseTypes": ["ReportBatchItemFailures"] if spec.report_batch_item_failures else [],
            "EventSourceMappingArn": mapping_arn(self.cloud.region, self.cloud.account_id, spec.uuid),
        }
        if spec.maximum_concurrency is not None:
            configuration["ScalingConfig"] = {"MaximumConcurrency": spec.maximum_concurrency}
        return configuration

    def _mapping(self, mapping_uuid: str) -> MappingSpec:
        spec = self.cloud.deployment.mapping(mapping_uuid)
        if spec is None:
            raise LambdaError("ResourceNotFoundException",
                              f"The resource you requested does not exist. (Service: Lambda, UUID: {mapping_uuid})",
                              404)
        return spec

    def list_event_source_mappings(self, request: Request) -> Response:
        function = request.args.get("FunctionName")
        source = request.args.get("EventSourceArn")
        wanted = self._function(function).spec.name if function else None
        mappings = [m for m in self.cloud.deployment.mappings if (wanted is None or m.function_name == wanted)
                    and (source is None or m.event_source_arn == source)]
        return _json({"EventSourceMappings": [self._mapping_configuration(m) for m in mappings]})

    def get_event_source_mapping(self, request: Request, mapping_id: str) -> Response:
        return _json(self._mapping_configuration(self._mapping(mapping_id)))

    def update_event_source_mapping(self, request: Request, mapping_id: str) -> Response:
        spec = self._mapping(mapping_id)
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError as exc:
            raise LambdaError("InvalidRequestContentException", f"Could not parse request body into json: {exc}") \
                from exc
        changes: dict[str, Any] = {}
        if "Enabled" in body:
            changes["enabled"] = bool(body["Enabled"])
        if "BatchSize" in body:
            size = int(body["BatchSize"])
            if not 1 <= size <= FIFO_MAX_BATCH_SIZE and spec.event_source_arn.endswith(".fifo"):
                raise LambdaError("InvalidParameterValueException",
                                  f"BatchSize must be between 1 and {FIFO_MAX_BATCH_SIZE} for FIFO queues")
            changes["batch_size"] = size
        if "MaximumBatchingWindowInSeconds" in body:
            changes["maximum_batching_window_seconds"] = int(body["MaximumBatchingWindowInSeconds"])
        if "FunctionResponseTypes" in body:
            changes["report_batch_item_failures"] = "ReportBatchItemFailures" in body["FunctionResponseTypes"]
        if "ScalingConfig" in body:
            concurrency = body["ScalingConfig"].get("MaximumConcurrency")
            if concurrency is not None and not 2 <= int(concurrency) <= 1000:
                raise LambdaError("InvalidParameterValueException", "MaximumConcurrency must be between 2 and 1000")
            changes["maximum_concurrency"] = int(concurrency) if concurrency is not None else None
        if "FunctionName" in body:
            changes["function_name"] = self._function(body["FunctionName"]).spec.name
        updated = self.cloud.update_mapping(dataclasses.replace(spec, **changes))
        return _json(self._mapping_configuration(updated), status=202)

    def refuse_mapping_change(self, request: Request, mapping_id: str = "") -> Response:
        raise LambdaError(
            "InvalidParameterValueException",
            "the local cloud runs the event source mappings of its stacks only: add or remove a mapping in the CDK "
            "app and deploy it",
        )
