"""What a change set shows: the resource changes between a deployed stack and a new template.

CloudFormation lists, per resource, ``Add``, ``Modify`` (with whether the change replaces the resource, and which part
of it changed) or ``Remove``; a resource whose definition is unchanged but which uses a parameter whose value changed
is modified too. Whether a property change needs replacement is each emulated type's own rule.

Example::

    changes = resource_changes(deployed_stack, new_template, changed_parameters={"Stage"})
    [(c.action, c.logical_id, c.replacement) for c in changes]   # [("Modify", "Queue", "True"), ...]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from localcloud.cloudformation.deployment import DeployedStack, ResourceState
from localcloud.cloudformation.intrinsics import references
from localcloud.cloudformation.resources import EMULATED


@dataclass(frozen=True)
class ResourceChange:
    """One entry of a change set."""

    action: str
    """``Add``, ``Modify`` or ``Remove``."""
    logical_id: str
    resource_type: str
    physical_id: str = ""
    replacement: str = "False"
    scope: tuple[str, ...] = ()


def resource_changes(old_stack: DeployedStack | None, template: dict[str, Any],
                     changed_parameters: set[str]) -> list[ResourceChange]:
    """The changes deploying ``template`` over ``old_stack`` (None: a new stack) makes, in template order."""
    old_resources: dict[str, Any] = old_stack.template.get("Resources", {}) if old_stack else {}
    new_resources: dict[str, Any] = template.get("Resources", {})
    changes: list[ResourceChange] = []
    for logical_id, resource in new_resources.items():
        before = old_resources.get(logical_id)
        if before is None:
            changes.append(ResourceChange("Add", logical_id, resource["Type"]))
            continue
        uses_changed = bool(references(resource) & changed_parameters)
        if before == resource and not uses_changed:
            continue
        state = old_stack.resources.get(logical_id) if old_stack else None
        kind = EMULATED.get(resource["Type"])
        old_props, new_props = before.get("Properties", {}), resource.get("Properties", {})
        replacement = "True" if before["Type"] != resource["Type"] or (
            kind is not None and kind.needs_replacement(old_props, new_props)) else "False"
        scope = tuple(k for k in ("Properties", "Metadata") if before.get(k) != resource.get(k)) or ("Properties",)
        changes.append(ResourceChange("Modify", logical_id, resource["Type"], physical_text(state), replacement, scope))
    for logical_id, before in old_resources.items():
        if logical_id not in new_resources:
            state = old_stack.resources.get(logical_id) if old_stack else None
            changes.append(ResourceChange("Remove", logical_id, before["Type"], physical_text(state)))
    return changes


def physical_text(state: ResourceState | None) -> str:
    """A resource's physical id as the API shows it (JSON for the few structured ones; empty when not created)."""
    if state is None or state.physical_id is None:
        return ""
    return state.physical_id if isinstance(state.physical_id, str) else json.dumps(state.physical_id)
