"""The CloudFormation API of the local cloud, answered by its own deployer (never by moto's CloudFormation).

What ``cdk bootstrap``, ``cdk deploy``, ``cdk diff`` and ``cdk destroy`` call: change sets (create, describe,
execute, delete, list), ``CreateStack`` / ``UpdateStack`` / ``DeleteStack``, ``DescribeStacks`` (with outputs),
``ListStacks``, ``ListExports``, ``DescribeStackEvents``, ``DescribeStackResources`` / ``ListStackResources``,
``GetTemplate``, ``GetTemplateSummary`` and ``ValidateTemplate``. Templates come inline or by S3 URL (the bootstrap
bucket); operations run synchronously, so a stack is complete (or rolled back) when ``ExecuteChangeSet`` returns.

Example::

    api = CloudFormationApi(cloud)
    response = api.handle(werkzeug_request)   # the query-protocol XML response
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlparse

from werkzeug.wrappers import Request, Response

from localcloud.cloud import LocalCloud
from localcloud.cloudformation.changesets import NO_CHANGES, ChangeSet
from localcloud.cloudformation.deployer import REVIEW_IN_PROGRESS, StackRequest
from localcloud.cloudformation.deployment import DeployedStack
from localcloud.cloudformation.protocol import QueryError, members, xml_error, xml_response
from localcloud.cloudformation.templates import parse_template, template_summary
from localcloud.errors import StackNotFoundError, StackValidationError, TemplateError

log = logging.getLogger("localcloud.cloudformation")

_VIRTUAL_HOST = re.compile(r"^(?P<bucket>.+)\.s3([.-][a-z0-9-]+)*\.amazonaws\.com$")
Params = dict[str, str]


def s3_location(url: str) -> tuple[str, str]:
    """Bucket and key of a template URL: virtual-hosted (``bucket.s3.region.amazonaws.com/key``) or path style
    (``s3.region.amazonaws.com/bucket/key``, ``localhost:4566/bucket/key``).

    Example::

        s3_location("http://localhost:4566/cdk-assets/abc.json")   # ("cdk-assets", "abc.json")
    """
    parsed = urlparse(url)
    path = unquote(parsed.path).lstrip("/")
    match = _VIRTUAL_HOST.match(parsed.hostname or "")
    if match and not (parsed.hostname or "").startswith("s3."):
        return match["bucket"], path
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise QueryError("ValidationError", f"TemplateURL must be a supported URL: {url}")
    return bucket, key


class CloudFormationApi:
    """Answers CloudFormation requests against a :class:`~localcloud.cloud.LocalCloud`."""

    def __init__(self, cloud: LocalCloud, *, on_change: Callable[[DeployedStack], None] | None = None) -> None:
        """``on_change`` is called after every stack operation (the server rewrites its outputs file)."""
        self.cloud = cloud
        self.on_change = on_change
        self.change_sets: dict[str, ChangeSet] = {}
        self._actions: dict[str, Callable[[Params], dict[str, Any]]] = {
            "CreateChangeSet": self.create_change_set,
            "DescribeChangeSet": self.describe_change_set,
            "ExecuteChangeSet": self.execute_change_set,
            "DeleteChangeSet": self.delete_change_set,
            "ListChangeSets": self.list_change_sets,
            "CreateStack": self.create_stack,
            "UpdateStack": self.update_stack,
            "DeleteStack": self.delete_stack,
            "DescribeStacks": self.describe_stacks,
            "ListStacks": self.list_stacks,
            "ListExports": self.list_exports,
            "DescribeStackEvents": self.describe_stack_events,
            "DescribeStackResources": self.describe_stack_resources,
            "DescribeStackResource": self.describe_stack_resource,
            "ListStackResources": self.list_stack_resources,
            "GetTemplate": self.get_template,
            "GetTemplateSummary": self.get_template_summary,
            "ValidateTemplate": self.validate_template,
        }

    def handle(self, request: Request) -> Response:
        """Dispatch one query-protocol request by its ``Action``."""
        params: Params = {**request.args.to_dict(), **request.form.to_dict()}
        action = params.get("Action", "")
        handler = self._actions.get(action)
        try:
            if handler is None:
                raise QueryError("InvalidAction", f"the local cloud does not implement CloudFormation {action or '?'}")
            return xml_response(action, handler(params))
        except QueryError as exc:
            return xml_error(exc)
        except StackNotFoundError as exc:
            return xml_error(QueryError("ValidationError", str(exc)))
        except TemplateError as exc:
            return xml_error(QueryError("ValidationError", str(exc)))

    # ------------------------------------------------------------------------------------------------ requests
    def _request(self, params: Params, *, previous: DeployedStack | None) -> StackRequest:
        name = params.get("StackName", "")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", name):
            raise QueryError("ValidationError", f"1 validation error detected: Value '{name}' at 'stackName' failed "
                             "to satisfy constraint: Member must satisfy regular expression pattern: "
                             "[a-zA-Z][-a-zA-Z0-9]*")
        body = self._template_body(params, previous)
        parameters: dict[str, str | None] = {}
        for entry in members(params, "Parameters"):
            key = entry.get("ParameterKey", "")
            parameters[key] = None if entry.get("UsePreviousValue") == "true" else entry.get("ParameterValue", "")
        tags = {t["Key"]: t.get("Value", "") for t in members(params, "Tags")}
        if not tags and previous is not None:
            tags = dict(previous.tags)
        return StackRequest(
            name=name,
            template=parse_template(body),
            code=self.cloud.deployer.s3_code,
            template_body=body,
            parameters=parameters,
            tags=tags,
            capabilities=tuple(members(params, "Capabilities")),
        )

    def _template_body(self, params: Params, previous: DeployedStack | None) -> str:
        if params.get("TemplateBody"):
            return params["TemplateBody"]
        if params.get("TemplateURL"):
            bucket, key = s3_location(params["TemplateURL"])
            s3 = self.cloud.client("s3")
            try:
                body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            except (s3.exceptions.NoSuchKey, s3.exceptions.NoSuchBucket) as exc:
                raise QueryError("ValidationError", f"TemplateURL {params['TemplateURL']}: no such S3 object") from exc
            return body.decode("utf-8")
        if params.get("UsePreviousTemplate") == "true" and previous is not None:
            return previous.template_body
        raise QueryError("ValidationError", "Either Template URL or Template Body must be specified.")

    def _stack(self, name_or_id: str) -> DeployedStack:
        for stack in self.cloud.deployment.stacks.values():
            if name_or_id in (stack.name, stack.stack_id):
                return stack
        for stack in reversed(self.cloud.deployment.deleted_stacks):
            if name_or_id == stack.stack_id:
                return stack
        raise StackNotFoundError(f"Stack with id {name_or_id} does not exist")

    def _live_stack(self, name: str) -> DeployedStack | None:
        stack = self.cloud.deployment.stacks.get(name)
        return stack if stack is not None and stack.status != REVIEW_IN_PROGRESS else None

    def _changed(self, stack: DeployedStack) -> None:
        if self.on_change is not None:
            self.on_change(stack)

    def _run(self, operation: Callable[[], DeployedStack], name: str) -> None:
        """Run a stack operation; its failure shows in the stack's status and events, as on CloudFormation."""
        try:
            stack = operation()
        except TemplateError as exc:
            log.warning("stack %s failed: %s", name, exc)
            stack = self.cloud.deployment.stacks.get(name) or self._stack(name)
        self._changed(stack)

    # ----------------------------------------------------------------------------------------------- change sets
    def create_change_set(self, params: Params) -> dict[str, Any]:
        with self.cloud.stack_lock:
            name = params.get("StackName", "")
            live = self._live_stack(name)
            change_set_type = params.get("ChangeSetType", "UPDATE")
            if change_set_type == "CREATE" and live is not None:
                raise QueryError("ValidationError", f"Stack [{name}] already exists and cannot be created again with "
                                 "the changeSet [" + params.get("ChangeSetName", "") + "].")
            if change_set_type == "UPDATE" and live is None:
                raise QueryError("ValidationError", f"Stack [{name}] does not exist")
            request = self._request(params, previous=live)
            placeholder = self.cloud.deployment.stacks.get(name)
            if placeholder is None:
                placeholder = DeployedStack(name=name, stack_id=self.cloud.deployer.stack_id(name),
                                            status=REVIEW_IN_PROGRESS, template=request.template,
                                            template_body=request.template_body)
                self.cloud.deployment.stacks[name] = placeholder
            change_set = ChangeSet.new(
                request, stack_id=placeholder.stack_id, name=params.get("ChangeSetName", ""),
                change_set_type=change_set_type, changes=[], region=self.cloud.region,
                account_id=self.cloud.account_id, description=params.get("Description", ""),
            )
            try:
                change_set.changes = self.cloud.deployer.plan(request)
                if not self.cloud.deployer.has_changes(request):
                    change_set.fail(NO_CHANGES)
            except StackValidationError as exc:
                change_set.fail(str(exc))
            self.change_sets[change_set.change_set_id] = change_set
            return {"Id": change_set.change_set_id, "StackId": change_set.stack_id}

    def _change_set(self, params: Params) -> ChangeSet:
        wanted = params.get("ChangeSetName", "")
        stack = params.get("StackName")
        for change_set in reversed(list(self.change_sets.values())):
            if wanted == change_set.change_set_id or (
                wanted == change_set.name and stack in (change_set.stack_name, change_set.stack_id)
            ):
                return change_set
        raise QueryError("ChangeSetNotFound", f"ChangeSet [{wanted}] does not exist", status=404)

    def describe_change_set(self, params: Params) -> dict[str, Any]:
        return self._change_set(params).describe()

    def execute_change_set(self, params: Params) -> dict[str, Any]:
        change_set = self._change_set(params)
        if change_set.execution_status != "AVAILABLE":
            raise QueryError("InvalidChangeSetStatus", f"ChangeSet [{change_set.change_set_id}] cannot be executed in "
                             f"its current status of [{change_set.status}]")
        with self.cloud.stack_lock:
            change_set.execution_status = "EXECUTE_IN_PROGRESS"
            for other in self.change_sets.values():
                if other.stack_id == change_set.stack_id and other is not change_set:
                    other.execution_status = "OBSOLETE"
            self._run(lambda: self.cloud.apply_stack(change_set.request), change_set.stack_name)
            change_set.execution_status = "EXECUTE_COMPLETE"
        return {}

    def delete_change_set(self, params: Params) -> dict[str, Any]:
        try:
            change_set = self._change_set(params)
        except QueryError:
            return {}  # DeleteChangeSet documents no not-found error; the CDK CLI deletes "if it exists"
        del self.change_sets[change_set.change_set_id]
        with self.cloud.stack_lock:
            stack = self.cloud.deployment.stacks.get(change_set.stack_name)
            if stack is not None and stack.status == REVIEW_IN_PROGRESS and not any(
                    c.stack_id == stack.stack_id for c in self.change_sets.values()):
                del self.cloud.deployment.stacks[stack.name]
        return {}

    def list_change_sets(self, params: Params) -> dict[str, Any]:
        stack = self._stack(params.get("StackName", ""))
        return {"Summaries": [c.summary() for c in self.change_sets.values() if c.stack_id == stack.stack_id]}

    # ---------------------------------------------------------------------------------------------------- stacks
    def create_stack(self, params: Params) -> dict[str, Any]:
        with self.cloud.stack_lock:
            name = params.get("StackName", "")
            if name in self.cloud.deployment.stacks:
                raise QueryError("AlreadyExistsException", f"Stack [{name}] already exists")
            request = self._request(params, previous=None)
            self.cloud.deployer.parameters(request, None)
            self._run(lambda: self.cloud.apply_stack(request), name)
            return {"StackId": self._stack(name).stack_id}

    def update_stack(self, params: Params) -> dict[str, Any]:
        with self.cloud.stack_lock:
            live = self._live_stack(params.get("StackName", ""))
            if live is None:
                raise QueryError("ValidationError", f"Stack [{params.get('StackName', '')}] does not exist")
            request = self._request(params, previous=live)
            if not self.cloud.deployer.has_changes(request):
                raise QueryError("ValidationError", "No updates are to be performed.")
            self._run(lambda: self.cloud.apply_stack(request), live.name)
            return {"StackId": live.stack_id}

    def delete_stack(self, params: Params) -> dict[str, Any]:
        with self.cloud.stack_lock:
            name = params.get("StackName", "")
            try:
                stack = self._stack(name)
            except StackNotFoundError:
                return {}  # deleting a stack that does not exist succeeds, as on CloudFormation
            if stack.status == "DELETE_COMPLETE":
                return {}
            try:
                deleted = self.cloud.delete_stack(stack.name)
            except StackValidationError as exc:
                log.warning("stack %s not deleted: %s", stack.name, exc)
                deleted = stack
            self.change_sets = {k: c for k, c in self.change_sets.items() if c.stack_id != stack.stack_id}
            self._changed(deleted)
        return {}

    def describe_stacks(self, params: Params) -> dict[str, Any]:
        name = params.get("StackName")
        stacks = [self._stack(name)] if name else list(self.cloud.deployment.stacks.values())
        return {"Stacks": [_describe(stack) for stack in stacks]}

    def list_stacks(self, params: Params) -> dict[str, Any]:
        wanted = set(members(params, "StackStatusFilter"))
        stacks = [*self.cloud.deployment.stacks.values(), *self.cloud.deployment.deleted_stacks]
        return {"StackSummaries": [
            {"StackId": s.stack_id, "StackName": s.name, "TemplateDescription": s.description or None,
             "CreationTime": s.created, "LastUpdatedTime": s.updated, "StackStatus": s.status,
             "DeletionTime": s.events[-1].timestamp if s.status == "DELETE_COMPLETE" and s.events else None}
            for s in stacks if not wanted or s.status in wanted
        ]}

    def list_exports(self, params: Params) -> dict[str, Any]:
        return {"Exports": [
            {"ExportingStackId": stack.stack_id, "Name": name, "Value": value}
            for stack in self.cloud.deployment.stacks.values() for name, value in stack.exports.items()
        ]}

    def describe_stack_events(self, params: Params) -> dict[str, Any]:
        stack = self._stack(params.get("StackName", ""))
        return {"StackEvents": [
            {"StackId": stack.stack_id, "EventId": e.event_id, "StackName": stack.name,
             "LogicalResourceId": e.logical_id, "PhysicalResourceId": e.physical_id or None,
             "ResourceType": e.resource_type, "Timestamp": e.timestamp, "ResourceStatus": e.status,
             "ResourceStatusReason": e.reason or None}
            for e in reversed(stack.events)
        ]}

    def _resources(self, stack: DeployedStack, logical_id: str | None = None) -> list[dict[str, Any]]:
        return [
            {"StackName": stack.name, "StackId": stack.stack_id, "LogicalResourceId": state.logical_id,
             "PhysicalResourceId": _text(state.physical_id), "ResourceType": state.type,
             "Timestamp": state.updated, "LastUpdatedTimestamp": state.updated,
             "ResourceStatus": state.status if state.skipped is None else "CREATE_COMPLETE",
             "ResourceStatusReason": state.skipped, "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"}}
            for state in stack.resources.values()
            if (logical_id is None or state.logical_id == logical_id) and not str(state.skipped or "").startswith(
                "condition")
        ]

    def describe_stack_resources(self, params: Params) -> dict[str, Any]:
        stack = self._stack(params.get("StackName", ""))
        return {"StackResources": self._resources(stack, params.get("LogicalResourceId"))}

    def describe_stack_resource(self, params: Params) -> dict[str, Any]:
        stack = self._stack(params.get("StackName", ""))
        found = self._resources(stack, params.get("LogicalResourceId", ""))
        if not found:
            raise QueryError("ValidationError", f"Resource {params.get('LogicalResourceId')} does not exist for "
                             f"stack {stack.name}")
        return {"StackResourceDetail": found[0]}

    def list_stack_resources(self, params: Params) -> dict[str, Any]:
        stack = self._stack(params.get("StackName", ""))
        return {"StackResourceSummaries": self._resources(stack)}

    def get_template(self, params: Params) -> dict[str, Any]:
        if params.get("ChangeSetName"):
            body = self._change_set(params).request.template_body
        else:
            body = self._stack(params.get("StackName", "")).template_body
        return {"TemplateBody": body, "StagesAvailable": ["Original", "Processed"]}

    def get_template_summary(self, params: Params) -> dict[str, Any]:
        if params.get("StackName"):
            template = self._stack(params["StackName"]).template
        else:
            template = parse_template(self._template_body(params, None))
        return template_summary(template)

    def validate_template(self, params: Params) -> dict[str, Any]:
        summary = template_summary(parse_template(self._template_body(params, None)))
        return {"Parameters": [{k: v for k, v in p.items() if k != "ParameterType"} for p in summary["Parameters"]],
                "Description": summary["Description"] or None}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _describe(stack: DeployedStack) -> dict[str, Any]:
    """A ``DescribeStacks`` entry."""
    parameters = []
    for key, value in stack.parameters.items():
        entry: dict[str, Any] = {"ParameterKey": key, "ParameterValue": value}
        resolved = stack.resolved_parameters.get(key)
        if resolved is not None and resolved != value:
            entry["ResolvedValue"] = ",".join(resolved) if isinstance(resolved, list) else resolved
        parameters.append(entry)
    return {
        "StackId": stack.stack_id,
        "StackName": stack.name,
        "Description": stack.description or None,
        "Parameters": parameters,
        "CreationTime": stack.created,
        "LastUpdatedTime": stack.updated,
        "StackStatus": stack.status,
        "StackStatusReason": stack.status_reason or None,
        "DisableRollback": False,
        "Capabilities": list(stack.capabilities),
        "Outputs": [
            {"OutputKey": o.key, "OutputValue": _text(o.value), "Description": o.description or None,
             "ExportName": o.export_name}
            for o in stack.output_details.values()
        ],
        "Tags": [{"Key": k, "Value": v} for k, v in stack.tags.items()],
        "EnableTerminationProtection": False,
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
    }
