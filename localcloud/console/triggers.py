"""The state of each trigger (Lambda SQS event source mapping) as the console shows it: ``enabled``, ``disabled``
(``UpdateEventSourceMapping --no-enabled``: messages stay in the queue) or ``failing`` (enabled, and its latest
batch failed: an error, a timeout, or messages reported in ``batchItemFailures``).

Example::

    states = trigger_states(cloud)          # queue ARN -> ((function, state), ...)
    states["arn:aws:sqs:...:orders-commands.fifo"]    # (("orders", "disabled"),)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from markupsafe import Markup

from localcloud.awslambda.esm import Invocation
from localcloud.cloudformation.deployment import Deployment
from localcloud.console.html import html, join

ENABLED, DISABLED, FAILING = "enabled", "disabled", "failing"
_CSS = {ENABLED: "ok", DISABLED: "bad", FAILING: "bad"}


class TriggerSource(Protocol):
    """What the states are read from (a :class:`localcloud.LocalCloud`)."""

    @property
    def deployment(self) -> Deployment: ...

    @property
    def invocations(self) -> list[Invocation]: ...


def trigger_states(cloud: TriggerSource) -> dict[str, tuple[tuple[str, str], ...]]:
    """Per queue ARN, each consuming function with the state of its trigger."""
    latest: dict[str, Invocation] = {}
    for invocation in cloud.invocations:
        known = latest.get(invocation.mapping_uuid)
        if known is None or invocation.started >= known.started:
            latest[invocation.mapping_uuid] = invocation
    states: dict[str, list[tuple[str, str]]] = {}
    for mapping in cloud.deployment.mappings:
        last = latest.get(mapping.uuid)
        failed = last is not None and (not last.result.ok or bool(last.failed_ids))
        state = DISABLED if not mapping.enabled else FAILING if failed else ENABLED
        states.setdefault(mapping.event_source_arn, []).append((mapping.function_name, state))
    return {arn: tuple(found) for arn, found in states.items()}


def consumers_cell(triggers: Sequence[tuple[str, str]]) -> Markup | str:
    """``orders (enabled)``, the state coloured; ``-`` for a queue without a trigger."""
    if not triggers:
        return "-"
    return join((html('{} (<span class="{}">{}</span>)', name, _CSS[state], state) for name, state in triggers),
                ", ")
