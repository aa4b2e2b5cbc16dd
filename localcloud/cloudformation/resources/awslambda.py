"""``AWS::Lambda::Function`` and ``AWS::Lambda::EventSourceMapping``.

A function becomes a :class:`~..deployment.FunctionSpec` the local cloud runs in-process (moto gets a mirror
with a placeholder package, for the calls the local cloud passes through to it). A mapping becomes a
:class:`~..deployment.MappingSpec` run by the event-source-mapping emulator, never a moto mapping (moto's
fire inside SendMessage with a fake event).

Example::

    Function().create(ctx)   # FunctionSpec with the handler, environment, timeout and unpacked code
"""

from __future__ import annotations

import contextlib
import io
import logging
import uuid
import zipfile
from typing import Any

from localcloud.cloudformation.deployment import FunctionSpec, MappingSpec
from localcloud.cloudformation.resources.base import ResourceContext, ResourceType, is_true, text
from localcloud.errors import UnsupportedResourceError

log = logging.getLogger("localcloud.cloudformation.resources.lambda")

DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "The local cloud runs this function in-process from its unpacked code.\n")
    return buffer.getvalue()


class Function(ResourceType):
    replace_on = frozenset({"FunctionName", "PackageType"})
    name_property = "FunctionName"

    def create(self, ctx: ResourceContext) -> None:
        spec = self._spec(ctx)
        try:
            ctx.client("lambda").create_function(
                FunctionName=spec.name, Runtime=spec.runtime, Role=spec.role, Handler=spec.handler,
                Code={"ZipFile": _placeholder_zip()}, Timeout=spec.timeout_seconds, MemorySize=spec.memory_mb,
                Environment={"Variables": spec.environment},
            )
        except Exception as exc:  # the function still runs in-process; moto only mirrors it
            log.warning("moto did not accept function %s (%s); it runs in-process only", spec.name, exc)
        self._record(ctx, spec)

    def update(self, ctx: ResourceContext) -> None:
        spec = self._spec(ctx)
        lam = ctx.client("lambda")
        try:
            lam.update_function_configuration(
                FunctionName=spec.name, Runtime=spec.runtime, Role=spec.role, Handler=spec.handler,
                Timeout=spec.timeout_seconds, MemorySize=spec.memory_mb, Environment={"Variables": spec.environment},
            )
        except lam.exceptions.ResourceNotFoundException:
            log.debug("function %s is not mirrored in moto", spec.name)
        self._record(ctx, spec)

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        name = ctx.previous.physical_id
        lam = ctx.client("lambda")
        with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
            lam.delete_function(FunctionName=name)
        ctx.deployment.functions.pop(name, None)

    @staticmethod
    def _spec(ctx: ResourceContext) -> FunctionSpec:
        props = ctx.props
        name = ctx.physical_name("FunctionName", limit=64)
        code = ctx.code.locate(ctx)
        environment = {k: text(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()}
        return FunctionSpec(
            stack=ctx.stack.name,
            logical_id=ctx.logical_id,
            name=name,
            arn=f"arn:aws:lambda:{ctx.region}:{ctx.account_id}:function:{name}",
            handler=props["Handler"],
            runtime=props.get("Runtime", "python3.13"),
            timeout_seconds=int(props.get("Timeout", DEFAULT_TIMEOUT_SECONDS)),
            memory_mb=int(props.get("MemorySize", DEFAULT_MEMORY_MB)),
            environment=environment,
            code_dir=code.directory,
            log_group_name=props.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{name}",
            role=str(props.get("Role", "")),
            architectures=tuple(props.get("Architectures", ["x86_64"])),
            description=str(props.get("Description", "")),
            code_sha256=code.sha256,
            code_size=code.size,
            tracing_mode=props.get("TracingConfig", {}).get("Mode", "PassThrough"),
        )

    @staticmethod
    def _record(ctx: ResourceContext, spec: FunctionSpec) -> None:
        ctx.deployment.functions[spec.name] = spec
        ctx.set(spec.name, Arn=spec.arn)


class EventSourceMapping(ResourceType):
    replace_on = frozenset({"EventSourceArn", "StartingPosition"})

    def create(self, ctx: ResourceContext) -> None:
        props = ctx.props
        source = str(props.get("EventSourceArn", ""))
        stream = source.startswith("arn:aws:dynamodb:") and "/stream/" in source
        if not source.startswith("arn:aws:sqs:") and not stream:
            raise UnsupportedResourceError(
                f"{ctx.stack.name}/{ctx.logical_id}: only SQS and DynamoDB stream event source mappings are emulated "
                f"(got {source})"
            )
        previous = ctx.deployment.mapping(ctx.previous.physical_id) if ctx.previous and not ctx.replacing else None
        spec = MappingSpec(
            uuid=previous.uuid if previous else str(uuid.uuid4()),
            stack=ctx.stack.name,
            logical_id=ctx.logical_id,
            function_name=str(props["FunctionName"]).rsplit(":", 1)[-1],
            event_source_arn=source,
            batch_size=int(props.get("BatchSize", 100 if stream else 10)),
            maximum_batching_window_seconds=int(props.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
            maximum_concurrency=_maximum_concurrency(props),
            enabled=is_true(props.get("Enabled", True)),
            starting_position=str(props.get("StartingPosition", "")),
            maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
            maximum_record_age_seconds=int(props.get("MaximumRecordAgeInSeconds", -1)),
            filter_patterns=tuple(
                str(f["Pattern"]) for f in props.get("FilterCriteria", {}).get("Filters", []) if f.get("Pattern")
            ),
            on_failure_destination=str(
                props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination", "") or ""
            ),
        )
        ctx.deployment.put_mapping(spec)
        ctx.set(spec.uuid, Id=spec.uuid, EventSourceMappingArn=mapping_arn(ctx.region, ctx.account_id, spec.uuid))

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        ctx.deployment.remove_mapping(ctx.previous.physical_id)


def _maximum_concurrency(props: dict[str, Any]) -> int | None:
    value = props.get("ScalingConfig", {}).get("MaximumConcurrency")
    return int(value) if value else None


def mapping_arn(region: str, account_id: str, mapping_uuid: str) -> str:
    """The ARN of an event source mapping."""
    return f"arn:aws:lambda:{region}:{account_id}:event-source-mapping:{mapping_uuid}"

