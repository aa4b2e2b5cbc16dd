"""The state of each trigger as the console shows it: enabled, disabled, or failing (its latest batch failed)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from localcloud.awslambda.esm import Invocation
from localcloud.awslambda.runtime import InvocationResult
from localcloud.cloudformation.deployment import Deployment, MappingSpec
from localcloud.console.triggers import consumers_cell, trigger_states

pytestmark = pytest.mark.unit


def mapping(name: str, *, enabled: bool = True) -> MappingSpec:
    return MappingSpec(uuid=f"u-{name}", stack="S", logical_id=name, function_name=name,
                       event_source_arn=f"arn:aws:sqs:us-east-1:1:{name}.fifo", batch_size=10,
                       maximum_batching_window_seconds=0, report_batch_item_failures=True, maximum_concurrency=5,
                       enabled=enabled)


def invocation(name: str, started: float, *, ok: bool = True, failed: tuple[str, ...] = ()) -> Invocation:
    return Invocation(function_name=name, mapping_uuid=f"u-{name}", message_ids=("m",), group_ids=("g",),
                      started=started, ended=started + 1, result=InvocationResult(ok=ok), failed_ids=failed)


@dataclass
class Cloud:
    deployment: Deployment
    invocations: list[Invocation] = field(default_factory=list)


def test_a_trigger_is_enabled_disabled_or_failing_by_its_latest_batch() -> None:
    # Given four triggers: one idle, one disabled, one whose latest batch raised, one that failed then recovered,
    # and one whose latest batch reported a failed message
    cloud = Cloud(Deployment(mappings=[mapping("a"), mapping("b", enabled=False), mapping("c"), mapping("d"),
                                       mapping("e")]),
                  [invocation("c", 5, ok=False), invocation("d", 1, ok=False), invocation("d", 2),
                   invocation("e", 3, failed=("m",))])
    # When their states are read
    states = {arn.rsplit(":", 1)[1]: found for arn, found in trigger_states(cloud).items()}
    # Then each says what it is
    assert states == {"a.fifo": (("a", "enabled"),), "b.fifo": (("b", "disabled"),), "c.fifo": (("c", "failing"),),
                      "d.fifo": (("d", "enabled"),), "e.fifo": (("e", "failing"),)}
    assert str(consumers_cell(states["b.fifo"])) == 'b (<span class="bad">disabled</span>)'
    assert consumers_cell(()) == "-"
