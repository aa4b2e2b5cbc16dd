"""Creates, updates and deletes stacks in moto with plain API calls, resource by resource, as CloudFormation does.

moto's own CloudFormation is not used: it skips subscriptions, queue policies, alarms and TTL, and creates event
source mappings that fire inside SendMessage. Every resource type of a template is either handled by a type of
:mod:`.resources` (:data:`EMULATED`) or listed in :data:`NOT_EMULATED` with the reason; any other type is an
error. An update compares each resource's resolved properties with the deployed ones: unchanged resources are kept,
changed ones updated in place or replaced (their type says which properties need a new resource), removed ones
deleted after the rest succeeded; a failure rolls back what the operation did.

Example::

    deployer = Deployer(client_factory, region="us-east-1", account_id="123456789012")
    deployment = deployer.deploy(CloudAssembly.load(Path("cdk.out")))
    deployment.outputs["OrdersCommandQueueUrl"]
    deployer.apply(StackRequest("Orders", template, code=deployer.s3_code))   # update in place
"""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.assembly import CloudAssembly, StackArtifact
from localcloud.awslambda.code import AssemblyCode, S3Code
from localcloud.cloudformation.changeplan import ResourceChange, resource_changes
from localcloud.cloudformation.deployment import (
    DeployedStack,
    Deployment,
    FunctionSpec,
    MappingSpec,
    Output,
    ResourceState,
    utcnow,
)
from localcloud.cloudformation.intrinsics import Resolver, StackContext
from localcloud.cloudformation.resources import EMULATED, NOT_EMULATED, CodeSource, ResourceContext, not_emulated_reason
from localcloud.cloudformation.resources.base import ClientFactory
from localcloud.cloudformation.templates import Parameters, check_rules, resolve_parameters, resource_order
from localcloud.errors import StackNotFoundError, StackValidationError, TemplateError, UnsupportedResourceError

log = logging.getLogger("localcloud.cloudformation.deployer")

STACK_TYPE = "AWS::CloudFormation::Stack"
REVIEW_IN_PROGRESS = "REVIEW_IN_PROGRESS"
_NOT_UPDATABLE = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "CREATE_FAILED"})
_RETAINED = frozenset({"Retain", "RetainExceptOnCreate"})

__all__ = [
    "NOT_EMULATED",
    "DeployedStack",
    "Deployer",
    "Deployment",
    "FunctionSpec",
    "MappingSpec",
    "ResourceChange",
    "StackRequest",
]


@dataclass(frozen=True)
class StackRequest:
    """A stack to create or update: its template, parameter values and where its functions' code comes from."""

    name: str
    template: dict[str, Any]
    code: CodeSource
    template_body: str = ""
    parameters: Mapping[str, str | None] = field(default_factory=dict)
    """Given values; ``None`` keeps the previous value (``UsePreviousValue``)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    capabilities: tuple[str, ...] = ()
    ssm_required: bool = True
    """SSM parameter types must name an existing parameter (False: a missing one keeps its name as value)."""


@dataclass
class _Journal:
    """What an operation did so far, to clean up after success or roll back after a failure."""

    created: list[ResourceState] = field(default_factory=list)
    updated: list[tuple[ResourceState, ResourceState]] = field(default_factory=list)
    obsolete: list[ResourceState] = field(default_factory=list)
    runtime: tuple[dict[str, FunctionSpec], list[MappingSpec], dict[str, str]] = ({}, [], {})
    """Functions, mappings and queues before the operation (restored by a rollback)."""


@dataclass(frozen=True)
class _Policies:
    deletion: str
    update_replace: str


class _Imports(Mapping[str, Any]):
    """The exports of the other stacks, recording which ones a template imports."""

    def __init__(self, deployment: Deployment, stack: DeployedStack) -> None:
        self._exports = {
            name: value for other in deployment.stacks.values() if other.name != stack.name
            for name, value in other.exports.items()
        }
        self._stack = stack

    def __getitem__(self, name: str) -> Any:
        value = self._exports[name]
        self._stack.imports.add(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._exports)

    def __len__(self) -> int:
        return len(self._exports)


class Deployer:
    """Deploys stacks through boto3 clients (moto in-process or a moto server) into a :class:`Deployment`."""

    def __init__(
        self,
        client: ClientFactory,
        *,
        region: str,
        account_id: str,
        deployment: Deployment | None = None,
        code_cache: Path | None = None,
        before_queue_delete: Callable[[], None] | None = None,
    ) -> None:
        self.client = client
        self.before_queue_delete = before_queue_delete
        """Called before a queue is deleted, with the deployment's mappings already up to date (the local cloud
        stops the triggers polling it, as deleting the mapping first does on AWS)."""
        self.region = region
        self.account_id = account_id
        self.deployment = deployment if deployment is not None else Deployment()
        self.s3_code = S3Code(client, code_cache)

    # --------------------------------------------------------------------------------------------- cloud assembly
    def deploy(self, assembly: CloudAssembly) -> Deployment:
        """Deploy every stack of ``assembly`` (dependencies first) and return the accumulated deployment."""
        for stack in assembly.stacks:
            self.deploy_stack(assembly, stack)
        return self.deployment

    def deploy_stack(self, assembly: CloudAssembly, stack: StackArtifact) -> DeployedStack:
        """Create or update one stack of a cloud assembly, its functions' code taken from the assembly's assets."""
        code = AssemblyCode(assembly.directory, stack.asset_paths, self.s3_code)
        return self.apply(StackRequest(stack.name, stack.template, code, template_body=stack.template_body,
                                       ssm_required=False))

    # ------------------------------------------------------------------------------------------------- operations
    def apply(self, request: StackRequest) -> DeployedStack:
        """Create the stack, or update it in place; on failure roll back and raise :class:`TemplateError`."""
        old = self.deployment.stacks.get(request.name)
        updating = old is not None and old.status != REVIEW_IN_PROGRESS
        if old is not None and updating and old.status in _NOT_UPDATABLE:
            raise StackValidationError(f"Stack:{old.stack_id} is in {old.status} state and can not be updated.")
        previous = old if updating else None
        parameters = self.parameters(request, previous)
        stack = DeployedStack(
            name=request.name,
            template=request.template,
            template_body=request.template_body or json.dumps(request.template, indent=1),
            stack_id=old.stack_id if old else self.stack_id(request.name),
            status="UPDATE_IN_PROGRESS" if updating else "CREATE_IN_PROGRESS",
            description=str(request.template.get("Description", "")),
            parameters=parameters.declared,
            resolved_parameters=parameters.resolved,
            tags=dict(request.tags),
            capabilities=request.capabilities,
            created=old.created if old else utcnow(),
            updated=utcnow() if updating else None,
            events=old.events if old else [],
        )
        resolver = self._resolver(stack)
        check_rules(request.template, resolver.truth)
        stack.event(stack.name, STACK_TYPE, stack.status, physical_id=stack.stack_id, reason="User Initiated")
        self.deployment.stacks[stack.name] = stack
        journal = _Journal(runtime=(dict(self.deployment.functions), list(self.deployment.mappings),
                                    dict(self.deployment.queues)))
        try:
            self._apply_resources(stack, previous, request.code, resolver, journal)
            self._apply_outputs(stack, previous, resolver)
        except Exception as exc:
            self._roll_back(stack, previous, journal, exc)
            if isinstance(exc, TemplateError):
                raise
            raise TemplateError(f"{stack.name}: {exc}") from exc
        if updating:
            stack.status = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
            stack.event(stack.name, STACK_TYPE, stack.status, physical_id=stack.stack_id)
        for state in sorted(journal.obsolete, key=_order_key(previous), reverse=True):
            self._delete_resource(stack, state, replaced=state.logical_id in stack.resources)
        stack.status = "UPDATE_COMPLETE" if updating else "CREATE_COMPLETE"
        stack.event(stack.name, STACK_TYPE, stack.status, physical_id=stack.stack_id)
        log.info("%s stack %s: %d resources", "updated" if updating else "created", stack.name, len(stack.resources))
        return stack

    def delete(self, name: str) -> DeployedStack:
        """Delete the stack and its resources (``DeletionPolicy: Retain`` ones are kept)."""
        stack = self.stack(name)
        users = self._importers(stack, set(stack.exports))
        stack.status = "DELETE_IN_PROGRESS"
        stack.event(stack.name, STACK_TYPE, stack.status, physical_id=stack.stack_id, reason="User Initiated")
        if users:
            export, importer = users[0]
            stack.status = "DELETE_FAILED"
            stack.status_reason = f"Export {export} cannot be deleted as it is in use by {importer}"
            stack.event(stack.name, STACK_TYPE, stack.status, physical_id=stack.stack_id, reason=stack.status_reason)
            raise StackValidationError(stack.status_reason)
        order = resource_order(stack.template.get("Resources", {}))
        for logical_id in reversed(order):
            state = stack.resources.get(logical_id)
            if state is not None:
                self._delete_resource(stack, state, replaced=False)
        stack.status = "DELETE_COMPLETE"
        stack.event(stack.name, STACK_TYPE, stack.status, physical_id=stack.stack_id)
        del self.deployment.stacks[stack.name]
        self.deployment.deleted_stacks.append(stack)
        log.info("deleted stack %s", stack.name)
        return stack

    def plan(self, request: StackRequest) -> list[ResourceChange]:
        """The resource changes applying ``request`` would make (a change set's ``Changes``)."""
        old = self.deployment.stacks.get(request.name)
        old_stack = old if old is not None and old.status != REVIEW_IN_PROGRESS else None
        declared = self.parameters(request, old_stack).declared
        changed = {k for k, v in declared.items() if old_stack is None or old_stack.parameters.get(k) != v}
        return resource_changes(old_stack, request.template, changed)

    def has_changes(self, request: StackRequest) -> bool:
        """False when ``request`` would deploy exactly what is deployed (CloudFormation's "no changes")."""
        old = self.deployment.stacks.get(request.name)
        if old is None or old.status == REVIEW_IN_PROGRESS or old.status in _NOT_UPDATABLE:
            return True
        return (old.template != request.template or old.parameters != self.parameters(request, old).declared
                or old.tags != dict(request.tags))

    # ---------------------------------------------------------------------------------------------------- helpers
    def stack(self, name_or_id: str) -> DeployedStack:
        """The deployed stack called ``name_or_id`` (or with that stack id)."""
        for stack in self.deployment.stacks.values():
            if name_or_id in (stack.name, stack.stack_id):
                return stack
        raise StackNotFoundError(f"Stack with id {name_or_id} does not exist")

    def stack_id(self, name: str) -> str:
        """A new stack id (ARN) for ``name``."""
        return f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{name}/{uuid.uuid4()}"

    def parameters(self, request: StackRequest, previous: DeployedStack | None) -> Parameters:
        """The parameter values ``request`` deploys with."""
        return resolve_parameters(request.template, request.parameters,
                                  previous=previous.parameters if previous else {},
                                  ssm=self._ssm_value if request.ssm_required else self._ssm_value_or_name)

    def _ssm_value(self, name: str) -> str:
        ssm = self.client("ssm")
        try:
            value: str = ssm.get_parameter(Name=name)["Parameter"]["Value"]
        except ssm.exceptions.ParameterNotFound as exc:
            raise StackValidationError(
                f"Unable to fetch parameters [{name}] from parameter store for this account."
            ) from exc
        return value

    def _ssm_value_or_name(self, name: str) -> str:
        try:
            return self._ssm_value(name)
        except StackValidationError:
            return name

    def _resolver(self, stack: DeployedStack) -> Resolver:
        context = StackContext(
            stack_name=stack.name,
            region=self.region,
            account_id=self.account_id,
            exports=_Imports(self.deployment, stack),
            parameters=stack.resolved_parameters,
            conditions=dict(stack.template.get("Conditions", {})),
            stack_id=stack.stack_id,
        )
        return Resolver(context, stack.refs, stack.attrs)

    def _context(self, stack: DeployedStack, logical_id: str, *, state: ResourceState | None, props: dict[str, Any],
                 resource: dict[str, Any], code: CodeSource | None = None) -> ResourceContext:
        """The context of one resource operation; ``state`` is the resource as deployed (None on create)."""
        resource_type = str(resource.get("Type") or (state.type if state is not None else ""))
        return ResourceContext(self.client, self.region, self.account_id, self.deployment, stack, logical_id,
                               resource_type, resource, props, code or self.s3_code, previous=state)

    def _apply_resources(self, stack: DeployedStack, previous: DeployedStack | None, code: CodeSource,
                         resolver: Resolver, journal: _Journal) -> None:
        resources: dict[str, Any] = stack.template.get("Resources", {})
        for logical_id in resource_order(resources):
            resource = resources[logical_id]
            rtype: str = resource["Type"]
            before = previous.resources.get(logical_id) if previous else None
            if before is not None and (before.type != rtype or before.skipped is not None):
                if before.skipped is None:
                    journal.obsolete.append(before)
                before = None
            if "Condition" in resource and not resolver.condition(resource["Condition"]):
                if before is not None:
                    journal.obsolete.append(before)
                stack.add_resource(ResourceState(logical_id, rtype, None,
                                                 skipped=f"condition {resource['Condition']} is false"))
                continue
            if rtype not in EMULATED:
                reason = not_emulated_reason(rtype)
                if reason is None:
                    raise UnsupportedResourceError(
                        f"{stack.name}/{logical_id}: resource type {rtype} is neither emulated nor listed in "
                        "localcloud.cloudformation.resources.NOT_EMULATED"
                    )
                stack.add_resource(ResourceState(logical_id, rtype, f"{stack.name}-{logical_id}-not-emulated",
                                                 skipped=reason))
                continue
            props = resolver.resolve(resource.get("Properties", {}))
            policies = _Policies(resource.get("DeletionPolicy", "Delete"),
                                 resource.get("UpdateReplacePolicy", "Delete"))
            if before is not None and before.props == props:
                stack.add_resource(dataclasses.replace(before, deletion_policy=policies.deletion,
                                                       update_replace_policy=policies.update_replace))
                continue
            ctx = self._context(stack, logical_id, state=before, props=props, resource=resource, code=code)
            self._apply_resource(ctx, journal, policies)
        if previous is not None:
            journal.obsolete.extend(state for lid, state in previous.resources.items()
                                    if lid not in resources and state.skipped is None)

    @staticmethod
    def _apply_resource(ctx: ResourceContext, journal: _Journal, policies: _Policies) -> None:
        """Create, update in place or replace the resource of ``ctx``, whose properties changed."""
        stack, before, props = ctx.stack, ctx.previous, ctx.props
        logical_id, rtype, kind = ctx.logical_id, ctx.resource_type, EMULATED[ctx.resource_type]
        ctx.replacing = before is not None and kind.needs_replacement(before.props, props)
        name_property = kind.name_property
        if ctx.replacing and before is not None and name_property and props.get(name_property) and \
                props.get(name_property) == before.props.get(name_property):
            raise TemplateError(
                f"{stack.name}/{logical_id}: CloudFormation cannot update a stack when a custom-named resource "
                f"requires replacing. Rename {props[name_property]} and update the stack again."
            )
        action = "UPDATE" if before is not None else "CREATE"
        stack.event(logical_id, rtype, f"{action}_IN_PROGRESS", physical_id=before.physical_id if before else "",
                    reason="Requested update requires the creation of a new physical resource; hence creating "
                    "one." if ctx.replacing else "")
        try:
            if before is None or ctx.replacing:
                kind.create(ctx)
            else:
                kind.update(ctx)
        except Exception as exc:
            stack.event(logical_id, rtype, f"{action}_FAILED", reason=str(exc))
            raise TemplateError(f"{stack.name}/{logical_id} ({rtype}): {exc}") from exc
        state = ResourceState(logical_id, rtype, ctx.physical_id, ctx.attrs, props, status=f"{action}_COMPLETE",
                              name=ctx.name, deletion_policy=policies.deletion,
                              update_replace_policy=policies.update_replace)
        stack.add_resource(state)
        stack.event(logical_id, rtype, state.status, physical_id=ctx.physical_id)
        if before is None or ctx.replacing:
            journal.created.append(state)
            if before is not None:
                journal.obsolete.append(before)
        else:
            journal.updated.append((before, state))

    def _apply_outputs(self, stack: DeployedStack, previous: DeployedStack | None, resolver: Resolver) -> None:
        exported_elsewhere = {name: other.name for other in self.deployment.stacks.values()
                              if other.name != stack.name for name in other.exports}
        for output_id, output in stack.template.get("Outputs", {}).items():
            if "Condition" in output and not resolver.condition(output["Condition"]):
                continue
            export = resolver.resolve(output["Export"]["Name"]) if "Export" in output else None
            if export is not None and export in exported_elsewhere:
                raise StackValidationError(f"Export with name {export} is already exported by stack "
                                           f"{exported_elsewhere[export]}")
            stack.output_details[output_id] = Output(output_id, resolver.resolve(output["Value"]),
                                                     str(output.get("Description", "")), export)
        if previous is not None:
            old, new = previous.exports, stack.exports
            for export, importer in self._importers(previous, set(old)):
                if export not in new:
                    raise StackValidationError(f"Cannot delete export {export} as it is in use by {importer}.")
                if new[export] != old[export]:
                    raise StackValidationError(f"Cannot update export {export} as it is in use by {importer}.")

    def _importers(self, stack: DeployedStack, exports: set[str]) -> list[tuple[str, str]]:
        return [(export, other.name) for other in self.deployment.stacks.values() if other.name != stack.name
                for export in sorted(exports & other.imports)]

    def _delete_resource(self, stack: DeployedStack, state: ResourceState, *, replaced: bool) -> None:
        policy = state.update_replace_policy if replaced else state.deletion_policy
        if state.skipped is not None or policy in _RETAINED:
            stack.event(state.logical_id, state.type, "DELETE_SKIPPED", physical_id=state.physical_id or "")
            return
        stack.event(state.logical_id, state.type, "DELETE_IN_PROGRESS", physical_id=state.physical_id)
        if state.type == "AWS::SQS::Queue" and self.before_queue_delete is not None:
            self.before_queue_delete()
        ctx = self._context(stack, state.logical_id, state=state, props=state.props, resource={"Type": state.type})
        try:
            EMULATED[state.type].delete(ctx)
        except Exception as exc:  # CloudFormation reports a failed cleanup and goes on
            log.warning("%s/%s: delete failed: %s", stack.name, state.logical_id, exc)
            stack.event(state.logical_id, state.type, "DELETE_FAILED", physical_id=state.physical_id, reason=str(exc))
            return
        stack.event(state.logical_id, state.type, "DELETE_COMPLETE", physical_id=state.physical_id)

    def _roll_back(self, stack: DeployedStack, previous: DeployedStack | None, journal: _Journal,
                   error: Exception) -> None:
        """Undo what the failed operation did: delete what it created, restore what it updated."""
        updating = previous is not None
        stack.status_reason = str(error)
        stack.status = "UPDATE_ROLLBACK_IN_PROGRESS" if updating else "ROLLBACK_IN_PROGRESS"
        stack.event(stack.name, STACK_TYPE, stack.status, physical_id=stack.stack_id, reason=str(error))
        for old, new in reversed(journal.updated):
            ctx = self._context(stack, old.logical_id, state=new, props=old.props, resource={"Type": old.type})
            try:
                EMULATED[old.type].update(ctx)
            except Exception as exc:  # best effort, as CloudFormation's UPDATE_ROLLBACK_FAILED
                log.warning("%s/%s: rollback of the update failed: %s", stack.name, old.logical_id, exc)
        for state in reversed(journal.created):
            self._delete_resource(stack, dataclasses.replace(state, deletion_policy="Delete"), replaced=False)
        functions, mappings, queues = journal.runtime
        self.deployment.functions.clear()
        self.deployment.functions.update(functions)
        self.deployment.mappings[:] = mappings
        self.deployment.queues.clear()
        self.deployment.queues.update(queues)
        if previous is not None:
            previous.status = "UPDATE_ROLLBACK_COMPLETE"
            previous.status_reason = str(error)
            self.deployment.stacks[stack.name] = previous
            previous.event(stack.name, STACK_TYPE, previous.status, physical_id=stack.stack_id)
        else:
            stack.status = "ROLLBACK_COMPLETE"
            stack.output_details.clear()
            stack.event(stack.name, STACK_TYPE, stack.status, physical_id=stack.stack_id)


def _order_key(previous: DeployedStack | None) -> Any:
    order = {lid: i for i, lid in enumerate(resource_order(previous.template.get("Resources", {})))} if previous \
        else {}
    return lambda state: order.get(state.logical_id, -1)
