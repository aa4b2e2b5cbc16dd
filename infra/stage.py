"""Stages: ``cdk deploy -c stage=NAME`` deploys an independent copy of the system beside the default one.

Without a stage, every name is what it has always been (``MessagingCore``, ``orders-commands.fifo``, ...). With one,
the stacks are ``<stage>-<Stack>`` and every physical name the constructs choose (queues, topics, functions and their
log groups, the dashboard, the custom metrics namespace) carries the ``<stage>-`` prefix, so alarms, which name the
queues and functions they watch, and outputs are the stage's own; tables, keys and roles get names derived from the
stack name. Two stages can share an account and region.

The name rules themselves (:func:`check_stage`, :func:`stack_name`) live in :mod:`cli.stages`, so that the
``fifo-messaging`` command applies them wherever it is installed; this module re-exports them for the constructs.

Example::

    stage = stage_of(app)                          # "dev" under cdk deploy -c stage=dev, else None
    staged(construct, "orders-commands")           # "dev-orders-commands"
    stack_name("dev", "Orders")                    # "dev-Orders"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.stages import (
    DEFAULT_STAGE_KEY,
    MAX_STAGE_LENGTH,
    REGISTRY_ROOT,
    STAGE_PATTERN,
    StageError,
    check_stage,
    registry_path,
    stack_name,
)

__all__ = ["DEFAULT_STAGE_KEY", "MAX_STAGE_LENGTH", "REGISTRY_ROOT", "STAGE_CONTEXT_KEY", "STAGE_PATTERN", "StageError",
           "check_stage", "registry_path", "stack_name", "stage_of", "staged"]

if TYPE_CHECKING:  # no jsii at import: the local cloud checks stage names with this module too
    from constructs import IConstruct

STAGE_CONTEXT_KEY = "stage"


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
