"""Change sets: a stack request computed against what is deployed, reviewed, then executed (or deleted).

Example::

    change_set = ChangeSet.new(request, stack_id, "cdk-deploy-change-set", "UPDATE", changes, region, account)
    change_set.status            # "CREATE_COMPLETE", or "FAILED" with "The submitted information didn't ..."
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from localcloud.cloudformation.deployer import ResourceChange, StackRequest
from localcloud.cloudformation.deployment import utcnow

NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set."
"""CloudFormation's status reason of a change set with nothing to do (the CDK CLI reads it as "no changes")."""


@dataclass
class ChangeSet:
    """One change set of one stack."""

    change_set_id: str
    name: str
    stack_id: str
    stack_name: str
    change_set_type: str
    request: StackRequest
    changes: list[ResourceChange]
    description: str = ""
    status: str = "CREATE_COMPLETE"
    status_reason: str = ""
    execution_status: str = "AVAILABLE"
    created: datetime = field(default_factory=utcnow)

    @classmethod
    def new(cls, request: StackRequest, *, stack_id: str, name: str, change_set_type: str,
            changes: list[ResourceChange], region: str, account_id: str, description: str = "") -> ChangeSet:
        """A change set ready to execute (see :meth:`fail` for one that cannot be)."""
        change_set_id = f"arn:aws:cloudformation:{region}:{account_id}:changeSet/{name}/{uuid.uuid4()}"
        return cls(change_set_id, name, stack_id, request.name, change_set_type, request, changes, description)

    def fail(self, reason: str) -> None:
        """Mark the change set as not executable, with CloudFormation's reason."""
        self.status, self.status_reason, self.execution_status = "FAILED", reason, "UNAVAILABLE"

    def describe(self) -> dict[str, Any]:
        """The ``DescribeChangeSet`` result."""
        return {
            "ChangeSetName": self.name,
            "ChangeSetId": self.change_set_id,
            "StackId": self.stack_id,
            "StackName": self.stack_name,
            "Description": self.description or None,
            "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in self.request.parameters.items()
                           if v is not None],
            "CreationTime": self.created,
            "ExecutionStatus": self.execution_status,
            "Status": self.status,
            "StatusReason": self.status_reason or None,
            "Capabilities": list(self.request.capabilities),
            "Tags": [{"Key": k, "Value": v} for k, v in self.request.tags.items()],
            "Changes": [
                {"Type": "Resource", "ResourceChange": {
                    "Action": change.action,
                    "LogicalResourceId": change.logical_id,
                    "PhysicalResourceId": change.physical_id or None,
                    "ResourceType": change.resource_type,
                    "Replacement": change.replacement if change.action == "Modify" else None,
                    "Scope": list(change.scope),
                    "Details": [],
                }}
                for change in self.changes
            ],
            "IncludeNestedStacks": False,
        }

    def summary(self) -> dict[str, Any]:
        """The ``ListChangeSets`` entry."""
        return {
            "StackId": self.stack_id, "StackName": self.stack_name, "ChangeSetId": self.change_set_id,
            "ChangeSetName": self.name, "ExecutionStatus": self.execution_status, "Status": self.status,
            "StatusReason": self.status_reason or None, "CreationTime": self.created,
            "Description": self.description or None,
        }
