"""EventBridge Scheduler, locally: moto stores schedules and never fires them; :class:`ScheduleRunner` fires the
one-time (``at(...)``) schedules on the local clock.

Example::

    runner = ScheduleRunner(cloud.client)
    runner.start()            # fires due schedules every 0.2 s and whenever the clock moves
    cloud.clock.advance(20)   # a schedule 20 s ahead fires now
"""

from __future__ import annotations

from localcloud.scheduler.runner import Fired, ScheduleRunner

__all__ = ["Fired", "ScheduleRunner"]
