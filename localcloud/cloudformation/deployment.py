"""What a deployment produced: stacks with their resources, outputs and events, and the functions and triggers to run.

The deployer writes it; the CloudFormation API reads it (``DescribeStacks``, ``DescribeStackEvents``, ...); the
runtime side of the local cloud (functions, event source mappings) is reconciled against it after every change.

Example::

    deployment.stacks["Orders"].outputs["OrdersCommandQueueUrl"]
    deployment.functions["orders"].handler       # "orders.handler.lambda_handler"
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_EVENT_STEP = timedelta(milliseconds=1)


def utcnow() -> datetime:
    """The current time (timezone-aware UTC), as CloudFormation timestamps are."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function as the emulator runs it."""

    stack: str
    logical_id: str
    name: str
    arn: str
    handler: str
    runtime: str
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str]
    code_dir: Path
    log_group_name: str
    role: str = ""
    architectures: tuple[str, ...] = ("x86_64",)
    description: str = ""
    code_sha256: str = ""
    code_size: int = 0
    tracing_mode: str = "PassThrough"


@dataclass(frozen=True)
class MappingSpec:
    """An event source mapping (kept out of moto): SQS, run by :mod:`localcloud.awslambda.esm`; a DynamoDB stream, run
    by :mod:`localcloud.streams`."""

    uuid: str
    stack: str
    logical_id: str
    function_name: str
    event_source_arn: str
    batch_size: int
    maximum_batching_window_seconds: int
    report_batch_item_failures: bool
    maximum_concurrency: int | None
    enabled: bool
    starting_position: str = ""
    """Stream mappings (DynamoDB Streams, run by :mod:`localcloud.streams`): ``TRIM_HORIZON`` or ``LATEST``."""
    maximum_retry_attempts: int = -1
    maximum_record_age_seconds: int = -1
    on_failure_destination: str = ""
    filter_patterns: tuple[str, ...] = ()
    """``FilterCriteria`` patterns (JSON): a stream record matching none of them is skipped, as Lambda does."""


@dataclass
class ResourceState:
    """One resource of a deployed stack: its physical id, attributes and the resolved properties it was made from."""

    logical_id: str
    type: str
    physical_id: Any
    attrs: dict[str, Any] = field(default_factory=dict)
    props: dict[str, Any] = field(default_factory=dict)
    status: str = "CREATE_COMPLETE"
    updated: datetime = field(default_factory=utcnow)
    skipped: str | None = None
    """Why the resource was not created (not emulated, or its condition is false); None when it was."""
    deletion_policy: str = "Delete"
    update_replace_policy: str = "Delete"
    name: str = ""
    """The physical name, when the local cloud generated or chose it (kept across in-place updates)."""


@dataclass(frozen=True)
class StackEvent:
    """One entry of ``DescribeStackEvents``."""

    logical_id: str
    physical_id: str
    resource_type: str
    status: str
    reason: str = ""
    timestamp: datetime = field(default_factory=utcnow)
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class Output:
    """A stack output as ``DescribeStacks`` reports it."""

    key: str
    value: Any
    description: str = ""
    export_name: str | None = None


@dataclass
class DeployedStack:
    """Physical ids, outputs and history of one deployed stack."""

    name: str
    template: dict[str, Any] = field(default_factory=dict)
    template_body: str = ""
    """The template text as it was submitted (``GetTemplate`` returns it unchanged)."""
    stack_id: str = ""
    status: str = "CREATE_IN_PROGRESS"
    status_reason: str = ""
    description: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    """Parameter values as given (or defaulted); SSM parameter types keep the parameter name here."""
    resolved_parameters: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    capabilities: tuple[str, ...] = ()
    created: datetime = field(default_factory=utcnow)
    updated: datetime | None = None
    resources: dict[str, ResourceState] = field(default_factory=dict)
    output_details: dict[str, Output] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)
    """Export names this stack's template imports (a stack exporting them cannot be deleted meanwhile)."""
    events: list[StackEvent] = field(default_factory=list)
    refs: dict[str, Any] = field(default_factory=dict)
    attrs: dict[tuple[str, str], Any] = field(default_factory=dict)

    @property
    def outputs(self) -> dict[str, Any]:
        """Output key -> value."""
        return {key: output.value for key, output in self.output_details.items()}

    @property
    def types(self) -> dict[str, str]:
        """Logical id -> resource type."""
        return {lid: state.type for lid, state in self.resources.items()}

    @property
    def skipped(self) -> dict[str, str]:
        """Logical id -> reason, for resources not created (not emulated or condition false)."""
        return {lid: state.skipped for lid, state in self.resources.items() if state.skipped is not None}

    @property
    def exports(self) -> dict[str, Any]:
        """Export name -> value of this stack's exported outputs."""
        return {o.export_name: o.value for o in self.output_details.values() if o.export_name}

    def add_resource(self, state: ResourceState) -> None:
        """Record ``state`` and make its physical id and attributes available to ``Ref`` / ``Fn::GetAtt``."""
        self.resources[state.logical_id] = state
        self.refs[state.logical_id] = state.physical_id
        for name, value in state.attrs.items():
            self.attrs[(state.logical_id, name)] = value

    def event(
        self, logical_id: str, resource_type: str, status: str, *, physical_id: Any = "", reason: str = ""
    ) -> None:
        """Append a stack event (``DescribeStackEvents`` lists them newest first)."""
        text = physical_id if isinstance(physical_id, str) else json.dumps(physical_id)
        timestamp = utcnow()
        if self.events and timestamp - self.events[-1].timestamp < _EVENT_STEP:
            # Distinct at the API's millisecond precision, so clients sorting by time keep the order.
            timestamp = self.events[-1].timestamp + _EVENT_STEP
        self.events.append(StackEvent(logical_id, text, resource_type, status, reason, timestamp))


@dataclass
class Deployment:
    """Everything deployed so far, across stacks."""

    stacks: dict[str, DeployedStack] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    """Function name -> spec."""
    mappings: list[MappingSpec] = field(default_factory=list)
    queues: dict[str, str] = field(default_factory=dict)
    """Queue ARN -> queue URL."""
    deleted_stacks: list[DeployedStack] = field(default_factory=list)
    """Stacks deleted so far (``ListStacks`` reports them as ``DELETE_COMPLETE``)."""

    @property
    def exports(self) -> dict[str, Any]:
        """Export name -> value, over every stack."""
        exports: dict[str, Any] = {}
        for stack in self.stacks.values():
            exports.update(stack.exports)
        return exports

    @property
    def outputs(self) -> dict[str, Any]:
        """Every stack output, flat (output logical id -> value)."""
        flat: dict[str, Any] = {}
        for stack in self.stacks.values():
            flat.update(stack.outputs)
        return flat

    def mapping(self, mapping_uuid: str) -> MappingSpec | None:
        """The event source mapping with this UUID, if deployed."""
        return next((m for m in self.mappings if m.uuid == mapping_uuid), None)

    def put_mapping(self, spec: MappingSpec) -> None:
        """Add ``spec``, or replace the mapping with the same UUID (keeping its place)."""
        for index, existing in enumerate(self.mappings):
            if existing.uuid == spec.uuid:
                self.mappings[index] = spec
                return
        self.mappings.append(spec)

    def remove_mapping(self, mapping_uuid: str) -> None:
        """Forget the mapping with this UUID."""
        self.mappings[:] = [m for m in self.mappings if m.uuid != mapping_uuid]
