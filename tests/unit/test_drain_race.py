"""``LocalCloud.drain`` and a receive that lands between its reads of the queues and of the pollers (no network).

The drain moves the clock to the next visibility-timeout expiry only when nothing runs. If a poller receives a
message between the two reads, the drain must not take the queue for "only in-flight messages left, nobody busy":
the jump would expire the receipt of the batch that is running, and SQS would deliver its messages again.
"""

from __future__ import annotations

from typing import Any

import pytest

from localcloud import cloud as cloud_module
from localcloud.cloud import LocalCloud

pytestmark = pytest.mark.unit


class World:
    """One message and one poller. The poller receives it right after the drain's first read of either kind, keeps
    it for a few drain rounds, then deletes it."""

    def __init__(self) -> None:
        self.state = "visible"  # -> "in flight" -> "deleted"
        self.reads = 0
        self.rounds_in_flight = 0

    def _read(self) -> None:
        self.reads += 1
        if self.state == "visible":  # the poller's receive lands right after this read
            self.state = "in flight"
        elif self.state == "in flight":
            self.rounds_in_flight += 1
            if self.rounds_in_flight > 6:
                self.state = "deleted"

    def queue_state(self) -> tuple[int, float | None]:
        snapshot = (1, None) if self.state == "visible" else (0, 30.0) if self.state == "in flight" else (0, None)
        self._read()
        return snapshot

    def busy(self) -> bool:
        busy = self.state == "in flight"
        self._read()
        return busy


class Flush:
    def flush(self, *_: Any) -> bool:
        return True


def test_a_receive_between_the_drains_two_reads_never_moves_the_clock_past_its_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a queue whose one message a poller receives between whatever the drain reads first and second
    world = World()
    drained: Any = type("Drained", (), {})()
    drained.triggers = type("Triggers", (), {"busy": staticmethod(world.busy)})()
    drained._queue_state = world.queue_state
    drained.scheduler = type("Scheduler", (), {"running": False})()  # no schedules: only the queues matter
    drained.logs = drained.cloudwatch = Flush()
    jumps: list[float] = []
    monkeypatch.setattr(cloud_module.CLOCK, "advance", jumps.append)
    # When the drain runs with the clock allowed to advance
    assert LocalCloud.drain(drained, timeout=5, advance_clock=True)
    # Then the message was received and deleted while the drain watched, and the clock never jumped under it
    assert world.state == "deleted"
    assert jumps == []
