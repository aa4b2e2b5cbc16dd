"""CloudFormation intrinsic functions, conditions and pseudo parameters, resolved against deployed local resources.

Example::

    resolver = Resolver(context, refs={"Queue": "http://.../q.fifo"}, attrs={("Queue", "Arn"): "arn:..."})
    resolver.resolve({"Fn::Join": ["", ["x-", {"Ref": "Queue"}]]})  # "x-http://.../q.fifo"
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from localcloud.errors import TemplateError

NO_VALUE = object()
"""Marker for ``AWS::NoValue``: the property or list element is dropped."""


@dataclass
class StackContext:
    """What a template may refer to besides its own resources."""

    stack_name: str
    region: str
    account_id: str
    exports: Mapping[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    stack_id: str = ""

    def pseudo(self, name: str) -> Any:
        values: dict[str, Any] = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.stack_id
            or f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        if name not in values:
            raise TemplateError(f"unknown pseudo parameter {name}")
        return values[name]


def references(node: Any) -> set[str]:
    """Logical ids a template fragment refers to through Ref, Fn::GetAtt and Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str) and not value.startswith("AWS::"):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".", 1)[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                local = set(value[1]) if isinstance(value, list) and len(value) > 1 else set()
                for name in re.findall(r"\$\{([^!}][^}]*)\}", text):
                    base = name.split(".", 1)[0]
                    if not base.startswith("AWS::") and base not in local:
                        found.add(base)
                if isinstance(value, list) and len(value) > 1:
                    found |= references(value[1])
            else:
                found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


class Resolver:
    """Resolves one stack's template fragments."""

    def __init__(self, context: StackContext, refs: Mapping[str, Any], attrs: Mapping[tuple[str, str], Any]) -> None:
        self.context = context
        self.refs = refs
        self.attrs = attrs

    def condition(self, name: str) -> bool:
        conditions = self.context.conditions
        if name not in conditions:
            raise TemplateError(f"unknown condition {name}")
        value = conditions[name]
        if not isinstance(value, bool):
            value = bool(self.resolve(value))
            conditions[name] = value
        return value

    def resolve(self, node: Any) -> Any:
        """Resolve every intrinsic in ``node``; ``AWS::NoValue`` entries are dropped."""
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._function(key, arg)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def _function(self, key: str, arg: Any) -> Any:  # noqa: PLR0911, PLR0912 - one branch per intrinsic
        if key == "Ref":
            return self._ref(arg)
        if key == "Fn::GetAtt":
            logical, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return self._getatt(logical, self.resolve(attribute))
        if key == "Fn::Join":
            separator, values = arg
            return str(separator).join(str(v) for v in self.resolve(values))
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Select":
            index, values = self.resolve(arg)
            return values[int(index)]
        if key == "Fn::Split":
            separator, text = arg
            return str(self.resolve(text)).split(separator)
        if key == "Fn::ImportValue":
            name = self.resolve(arg)
            if name not in self.context.exports:
                raise TemplateError(f"{self.context.stack_name}: no stack exports {name!r}")
            return self.context.exports[name]
        if key == "Fn::If":
            name, if_true, if_false = arg
            return self.resolve(if_true if self.condition(name) else if_false)
        if key == "Fn::Equals":
            left, right = self.resolve(arg)
            return left == right
        if key == "Fn::Not":
            return not self._truth(arg[0])
        if key == "Fn::And":
            return all(self._truth(item) for item in arg)
        if key == "Fn::Or":
            return any(self._truth(item) for item in arg)
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Contains":
            values, value = self.resolve(arg)
            return value in values
        if key == "Fn::Base64":
            return base64.b64encode(str(self.resolve(arg)).encode()).decode()
        if key == "Fn::GetAZs":
            region = self.resolve(arg) or self.context.region
            return [f"{region}a", f"{region}b", f"{region}c"]
        if key == "Fn::ToJsonString":
            return json.dumps(self.resolve(arg), separators=(",", ":"))
        raise TemplateError(f"{self.context.stack_name}: intrinsic {key} is not supported")

    def truth(self, node: Any) -> bool:
        """Whether a condition expression (``{"Condition": name}`` or an ``Fn::`` test) holds."""
        return self._truth(node)

    def _truth(self, node: Any) -> bool:
        if isinstance(node, dict) and set(node) == {"Condition"}:
            return self.condition(node["Condition"])
        return bool(self.resolve(node))

    def _ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.context.pseudo(name)
        if name in self.context.parameters:
            return self.context.parameters[name]
        if name not in self.refs:
            raise TemplateError(f"{self.context.stack_name}: Ref to {name}, which is not deployed")
        return self.refs[name]

    def _getatt(self, logical: str, attribute: str) -> Any:
        if (logical, attribute) not in self.attrs:
            raise TemplateError(f"{self.context.stack_name}: Fn::GetAtt {logical}.{attribute} is not available")
        return self.attrs[(logical, attribute)]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg[0], self.resolve(arg[1])) if isinstance(arg, list) else (arg, {})

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return str(self._getatt(logical, attribute))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)
