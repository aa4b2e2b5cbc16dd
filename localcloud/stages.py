"""Stages: independent copies of the app's stacks, ``<stage>-<Stack>`` with ``<stage>-`` prefixed resource names.

The CDK app makes them (``cdk deploy -c stage=dev``, see ``infra/stages.py``); the local cloud and the CLI only
need to recognise a stage's stacks by name.

Example::

    check_stage("dev")                 # "dev"
    in_stage("dev-Orders", "dev")      # True
    in_stage("Orders", None)           # True: the default stage has no prefix
"""

from __future__ import annotations

import re

STAGE_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
MAX_STAGE_LENGTH = 16


class StageError(ValueError):
    """A stage name that cannot prefix resource names."""


def check_stage(name: str) -> str:
    """``name`` if it is a valid stage name (lower-case letters, digits, inner hyphens; at most 16 characters)."""
    if not STAGE_PATTERN.match(name) or len(name) > MAX_STAGE_LENGTH:
        raise StageError(f"stage {name!r} must be 1-{MAX_STAGE_LENGTH} lower-case letters, digits and inner hyphens, "
                         "starting with a letter")
    return name


def in_stage(stack_name: str, stage: str | None, known_stages: set[str] | None = None) -> bool:
    """Whether the stack belongs to ``stage`` (None: the default stage, whose stacks carry no stage prefix;
    ``known_stages`` are the other stages present, whose stacks are not the default's)."""
    if stage is not None:
        return stack_name.startswith(f"{stage}-")
    return not any(stack_name.startswith(f"{other}-") for other in (known_stages or set()))
