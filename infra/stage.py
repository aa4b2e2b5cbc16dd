"""Stages: ``cdk deploy -c stage=NAME`` deploys an independent copy of the system beside the default one.

Without a stage, every name is what it has always been (``MessagingCore``, ``orders-commands.fifo``, ...). With one,
the stacks are ``<stage>-<Stack>`` and every physical name the constructs choose (queues, topics, functions and their
log groups, the dashboard, the custom metrics namespace) carries the ``<stage>-`` prefix, so alarms, which name the
queues and functions they watch, and outputs are the stage's own; tables, keys and roles get names derived from the
stack name. Two stages can share an account and region.

Example::

    stage = stage_of(app)                          # "dev" under cdk deploy -c stage=dev, else None
    staged(construct, "orders-commands")           # "dev-orders-commands"
    stack_name("dev", "Orders")                    # "dev-Orders"
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # no jsii at import: the CLI and the local cloud check stage names with this module too
    from constructs import IConstruct

STAGE_CONTEXT_KEY = "stage"
STAGE_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
MAX_STAGE_LENGTH = 16
"""Short enough that every prefixed name stays within its service's limit (SQS FIFO queue names: 80)."""


class StageError(ValueError):
    """A stage name that cannot prefix resource names."""


def check_stage(name: str) -> str:
    """``name`` if it is a valid stage: 1-16 lower-case letters, digits and inner hyphens, starting with a letter.

    Example:
        >>> check_stage("dev-2")
        'dev-2'
    """
    if not STAGE_PATTERN.match(name) or len(name) > MAX_STAGE_LENGTH:
        raise StageError(f"stage {name!r} must be 1-{MAX_STAGE_LENGTH} lower-case letters, digits and inner hyphens, "
                         "starting with a letter")
    return name


def stage_of(scope: IConstruct) -> str | None:
    """The stage of the app ``scope`` belongs to (the CDK context ``stage``), None for the default stage."""
    value = scope.node.try_get_context(STAGE_CONTEXT_KEY)
    if value is None or value == "":
        return None
    return check_stage(str(value))


def staged(scope: IConstruct, name: str) -> str:
    """``name`` as the physical name of a resource in ``scope``'s stage (``<stage>-<name>``; unchanged by default)."""
    stage = stage_of(scope)
    return f"{stage}-{name}" if stage else name


def stack_name(stage: str | None, base: str) -> str:
    """The id and name of the stack ``base`` in ``stage``.

    Example:
        >>> stack_name("dev", "Orders"), stack_name(None, "Orders")
        ('dev-Orders', 'Orders')
    """
    return f"{stage}-{base}" if stage else base


REGISTRY_ROOT = "/fifo-messaging"
"""Root of the SSM parameters through which every deployed stack of the system registers itself (per stage)."""
DEFAULT_STAGE_KEY = "default"
"""The registry's name for the default (unprefixed) stage."""


def registry_path(stage: str | None) -> str:
    """The SSM path under which the stacks of ``stage`` register themselves (one parameter per stack, its name).

    Clients find the system's stacks there (``GetParametersByPath``), on AWS and against the local cloud alike,
    so a stack added with ``make service`` is found with no list to keep.

    Example:
        >>> registry_path(None), registry_path("dev")
        ('/fifo-messaging/default/stacks', '/fifo-messaging/dev/stacks')
    """
    return f"{REGISTRY_ROOT}/{stage or DEFAULT_STAGE_KEY}/stacks"
