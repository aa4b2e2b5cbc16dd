"""Which stacks make up the deployed system: read from the registry every stack writes (SSM parameters under
:func:`infra.stage.registry_path`), so a service added with ``make service`` is found without naming it.

Works the same against AWS and the local cloud (``GetParametersByPath``). A system deployed before the registry
existed has no parameters: then the example stacks are read, as before.

Example:
    >>> discover_stacks(FakeSsm({"/fifo-messaging/default/stacks/Orders": "Orders"}), None)  # doctest: +SKIP
    ('Orders',)
"""

from __future__ import annotations

import json
from typing import Any

from cli.stages import registry_path


def registered_stacks(ssm: Any, stage: str | None) -> tuple[str, ...]:
    """The names of the stacks registered for ``stage``, sorted (empty when none is)."""
    names: set[str] = set()
    paginator = ssm.get_paginator("get_parameters_by_path")
    for page in paginator.paginate(Path=registry_path(stage), Recursive=False):
        names.update(str(parameter["Value"]) for parameter in page.get("Parameters", []))
    return tuple(sorted(names))


def discover_stacks(ssm: Any, stage: str | None, fallback: tuple[str, ...]) -> tuple[str, ...]:
    """The registered stacks of ``stage``, else ``fallback`` (a system deployed before the registry)."""
    return registered_stacks(ssm, stage) or fallback


def deployed_templates(cloudformation: Any, stacks: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The templates of the deployed ``stacks`` (CloudFormation ``GetTemplate``), by stack name: what ``topology``
    draws outside a checkout, where there is no ``cdk.out``."""
    templates: dict[str, dict[str, Any]] = {}
    for name in stacks:
        body = cloudformation.get_template(StackName=name)["TemplateBody"]
        templates[name] = json.loads(body) if isinstance(body, str) else dict(body)
    return templates
