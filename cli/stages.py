"""Stage names: which names ``cdk deploy -c stage=NAME`` accepts, and the stack names of a stage.

These rules live here, in the ``fifo-messaging`` wheel, because the command needs them wherever it is installed
(without the CDK app); :mod:`infra.stage` applies the same ones to the constructs' names.

Example:
    >>> check_stage("dev-2"), stack_name("dev-2", "Orders"), stack_name(None, "Orders")
    ('dev-2', 'dev-2-Orders', 'Orders')
"""

from __future__ import annotations

import re

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
