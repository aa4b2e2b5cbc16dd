"""CloudFormation templates as submitted: parsing (JSON or YAML with the short-form tags), parameters, rules, and the
order of their resources (each after what it references or depends on).

Example::

    template = parse_template('Resources: {Q: {Type: AWS::SQS::Queue, Properties: {QueueName: !Sub "${Name}.fifo"}}}')
    template["Resources"]["Q"]["Properties"]["QueueName"]    # {"Fn::Sub": "${Name}.fifo"}
    values = resolve_parameters(template, {"Stage": "dev"}, previous={}, ssm=lookup)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from localcloud.cloudformation.intrinsics import references
from localcloud.errors import StackValidationError, TemplateError

SSM_PARAMETER_TYPE = "AWS::SSM::Parameter::Value<"
_LIST_TYPES = ("CommaDelimitedList", "List<")


class _TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (``!Ref x`` is ``{"Ref": "x"}``, ``!Sub`` is ``{"Fn::Sub": ...}``)."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else ("Condition" if suffix == "Condition" else f"Fn::{suffix}")
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _short_form)


def parse_template(body: str) -> dict[str, Any]:
    """A template from its text, JSON or YAML; raises :class:`StackValidationError` on anything else.

    Example::

        parse_template('{"Resources": {}}')  # {"Resources": {}}
    """
    try:
        document = json.loads(body)
    except ValueError:
        try:
            document = yaml.load(body, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise StackValidationError(f"Template format error: not JSON or YAML ({exc})") from exc
    if not isinstance(document, dict):
        raise StackValidationError("Template format error: the template is not a JSON or YAML object")
    if not isinstance(document.get("Resources"), dict) or not document["Resources"]:
        raise StackValidationError("Template format error: At least one Resources member must be defined.")
    return document


@dataclass(frozen=True)
class Parameters:
    """Parameter values of a stack: as given (``declared``) and as ``Ref`` sees them (``resolved``)."""

    declared: dict[str, str]
    resolved: dict[str, Any]


def resolve_parameters(
    template: Mapping[str, Any],
    given: Mapping[str, str | None],
    *,
    previous: Mapping[str, str],
    ssm: Callable[[str], str] | None,
) -> Parameters:
    """Values of the template's parameters: ``given`` (``None`` = use the previous value), else the default.

    ``ssm`` reads an SSM parameter for the ``AWS::SSM::Parameter::Value<...>`` types; without it those keep the
    parameter name as value (deployments of a cloud assembly that was never bootstrapped).
    """
    declared_specs: dict[str, Any] = template.get("Parameters", {}) or {}
    unknown = sorted(set(given) - set(declared_specs))
    if unknown:
        raise StackValidationError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    declared: dict[str, str] = {}
    resolved: dict[str, Any] = {}
    missing: list[str] = []
    for name, spec in declared_specs.items():
        if name in given:
            value = given[name]
            if value is None:
                if name not in previous:
                    raise StackValidationError(f"Parameter {name} has no previous value to use")
                value = previous[name]
        elif "Default" in spec:
            value = str(spec["Default"])
        else:
            missing.append(name)
            continue
        _check_allowed(name, spec, value)
        declared[name] = value
        resolved[name] = _typed(str(spec.get("Type", "String")), value, ssm)
    if missing:
        raise StackValidationError(f"Parameters: [{', '.join(missing)}] must have values")
    return Parameters(declared, resolved)


def _check_allowed(name: str, spec: Mapping[str, Any], value: str) -> None:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        raise StackValidationError(
            f"Parameter '{name}' must be one of AllowedValues" + (f": {spec['ConstraintDescription']}"
                                                                   if spec.get("ConstraintDescription") else "")
        )


def _typed(kind: str, value: str, ssm: Callable[[str], str] | None) -> Any:
    if kind.startswith(SSM_PARAMETER_TYPE):
        if ssm is None:
            return value
        kind, value = kind[len(SSM_PARAMETER_TYPE) : -1], ssm(value)
    if kind.startswith(_LIST_TYPES):
        return [item.strip() for item in value.split(",")] if value else []
    return value


def check_rules(template: Mapping[str, Any], truth: Callable[[Any], bool]) -> None:
    """Evaluate the template's ``Rules``; a failed assertion raises with its ``AssertDescription``."""
    for name, rule in (template.get("Rules") or {}).items():
        if "RuleCondition" in rule and not truth(rule["RuleCondition"]):
            continue
        for assertion in rule.get("Assertions", []):
            if not truth(assertion["Assert"]):
                description = assertion.get("AssertDescription") or f"rule {name} failed"
                raise StackValidationError(description)


def template_summary(template: Mapping[str, Any]) -> dict[str, Any]:
    """What ``GetTemplateSummary`` reports: parameters, resource types, version, description."""
    return {
        "Parameters": [
            {"ParameterKey": name, "ParameterType": str(spec.get("Type", "String")),
             "DefaultValue": str(spec["Default"]) if "Default" in spec else None,
             "NoEcho": str(spec.get("NoEcho", "false")).lower() == "true",
             "Description": spec.get("Description", "")}
            for name, spec in (template.get("Parameters") or {}).items()
        ],
        "ResourceTypes": sorted({r["Type"] for r in template.get("Resources", {}).values()}),
        "Version": template.get("AWSTemplateFormatVersion", "2010-09-09"),
        "Description": template.get("Description", ""),
    }


def resource_order(resources: dict[str, Any]) -> list[str]:
    """Logical ids with every resource after the ones it references or depends on."""
    deps: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        if isinstance(depends_on, str):
            depends_on = [depends_on]
        found = references(resource.get("Properties", {})) | set(depends_on)
        deps[logical_id] = {d for d in found if d in resources}
    ordered: list[str] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in done:
            return
        if logical_id in visiting:
            raise TemplateError(f"circular reference through {logical_id}")
        visiting.add(logical_id)
        for dep in sorted(deps[logical_id]):
            visit(dep)
        visiting.discard(logical_id)
        done.add(logical_id)
        ordered.append(logical_id)

    for logical_id in resources:
        visit(logical_id)
    return ordered
