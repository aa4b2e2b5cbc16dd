"""Fire EventBridge Scheduler one-time schedules when :data:`~localcloud.clock.CLOCK` reaches their time.

What AWS does, as far as the local cloud needs it: a schedule whose ``ScheduleExpression`` is ``at(...)`` (in its
``ScheduleExpressionTimezone``, UTC by default) and whose ``State`` is ``ENABLED`` invokes its target once at that time;
with ``ActionAfterCompletion: DELETE`` it is deleted afterwards. Targets: SQS ``SendMessage`` (``Input`` as the body,
``SqsParameters.MessageGroupId`` on FIFO; a FIFO queue needs content-based deduplication, as on AWS) and SNS
``Publish``. A target that fails is retried on later ticks until the schedule's ``RetryPolicy``
``MaximumEventAgeInSeconds`` has passed, then dropped (logged). Rate and cron schedules are not fired (logged once).

moto keeps the schedules; the runner reads them from moto's backend (as the local cloud's SQS emulation reads its
queues) and delivers through the public APIs, so what it sends is counted and checked like any other message.

Which clock: whoever creates a schedule (a client, a function) computes its ``at(...)`` from the wall clock, while the
local clock may run ahead of it (tests and the chaos harness advance it). The runner notes the clock's offset when
it first sees a schedule (it looks every 0.2 s and before every advance) and fires it when the local clock reaches
``at`` + that offset: a schedule 30 s ahead fires 30 local seconds after its creation, and an advance of the clock
after that jumps over it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from botocore.exceptions import ClientError
from moto.scheduler.models import scheduler_backends

from localcloud.clock import CLOCK, Clock
from localcloud.motopatches import MOTO_LOCK
from localcloud.periodic import PeriodicWorker

log = logging.getLogger("localcloud.scheduler")

_AT_FORMAT = "%Y-%m-%dT%H:%M:%S"
DEFAULT_INTERVAL = 0.2
"""Seconds between two looks at the schedules (besides every clock advance)."""


@dataclass(frozen=True, slots=True)
class Fired:
    """One invocation of a schedule's target."""

    group: str
    name: str
    target_arn: str
    due: float
    fired_at: float
    ok: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _Due:
    group: str
    name: str
    at: float
    """When it is due on the local clock."""
    expression_at: float
    """The time its expression names (wall clock)."""
    target: dict[str, Any]
    delete_after: bool
    max_age: float


def at_time(expression: str, timezone: str | None) -> float | None:
    """Seconds since the epoch of an ``at(...)`` expression in ``timezone`` (None: not a one-time schedule).

    Example::

        at_time("at(2030-01-02T03:04:05)", "UTC")   # 1893553445.0
    """
    if not (expression.startswith("at(") and expression.endswith(")")):
        return None
    moment = datetime.strptime(expression[3:-1], _AT_FORMAT).replace(tzinfo=ZoneInfo(timezone or "UTC"))
    return moment.timestamp()


class ScheduleRunner:
    """Fires due one-time schedules of every group of the local cloud's account and region.

    ``client`` makes boto3 clients bound to the local cloud (``cloud.client``). :meth:`fire_due` fires what is due
    now (tests call it directly); :meth:`start` runs it on a thread every :data:`DEFAULT_INTERVAL` seconds and on
    every clock advance; :meth:`next_due` says when the next schedule is due (the local cloud's ``drain`` waits for it).
    """

    def __init__(
        self,
        client: Callable[[str], Any],
        *,
        account_id: str,
        region: str,
        clock: Clock = CLOCK,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self._client = client
        self.account_id = account_id
        self.region = region
        self._clock = clock
        self.interval = interval
        self.fired: list[Fired] = []
        """Every invocation so far (failed attempts included), oldest first."""
        self._first_failure: dict[tuple[str, str], float] = {}
        self._done: set[tuple[str, str, float]] = set()
        self._skipped: set[tuple[str, str]] = set()
        self._seen_offset: dict[tuple[str, str, float], float] = {}
        self._fire_lock = threading.Lock()
        self._worker = PeriodicWorker("scheduler", self.fire_due, lambda: self.interval, log=log,
                                      failure="firing schedules failed")

    # ---------------------------------------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Fire due schedules from now on (idempotent)."""
        if self._worker.start():
            self._clock.on_advance(self._worker.wake)
            self._clock.before_advance(self._note_offsets)

    def stop(self) -> None:
        """Stop firing."""
        self._worker.stop()
        self._clock.remove_listener(self._worker.wake)
        self._clock.remove_listener(self._note_offsets)

    def _note_offsets(self) -> None:
        """Note the clock's offset for schedules not seen yet, before the clock moves."""
        try:
            self._pending()
        except Exception:
            log.exception("reading the schedules failed")

    @property
    def running(self) -> bool:
        return self._worker.running

    # ------------------------------------------------------------------------------------------------- firing
    def _pending(self) -> list[_Due]:
        """Every enabled one-time schedule not yet fired, from moto's backend."""
        pending: list[_Due] = []
        with MOTO_LOCK:
            backend = scheduler_backends[self.account_id][self.region]
            groups = list(backend.schedule_groups.values())
            schedules = [schedule for group in groups for schedule in list(group.schedules.values())]
        for schedule in schedules:
            key = (schedule.group_name, schedule.name)
            if schedule.state != "ENABLED":
                continue
            at = at_time(schedule.schedule_expression, schedule.schedule_expression_timezone)
            if at is None:
                if key not in self._skipped:
                    self._skipped.add(key)
                    log.warning("schedule %s/%s (%s) is not fired locally: only at(...) schedules are",
                                schedule.group_name, schedule.name, schedule.schedule_expression)
                continue
            if (schedule.group_name, schedule.name, at) in self._done:
                continue
            offset = self._seen_offset.setdefault((schedule.group_name, schedule.name, at), self._clock.offset)
            retry = schedule.target.get("RetryPolicy") or {}
            pending.append(_Due(schedule.group_name, schedule.name, at + offset, at, dict(schedule.target),
                                schedule.action_after_completion == "DELETE",
                                float(retry.get("MaximumEventAgeInSeconds", 86400))))
        return pending

    def next_due(self) -> float | None:
        """Seconds until the next pending one-time schedule is due (0 if one is due now), None if there is none."""
        pending = self._pending()
        if not pending:
            return None
        return max(0.0, min(due.at for due in pending) - self._clock.now())

    def fire_due(self) -> list[Fired]:
        """Invoke the target of every schedule due now, oldest first; return the invocations."""
        with self._fire_lock:
            now = self._clock.now()
            due = sorted((d for d in self._pending() if d.at <= now), key=lambda d: (d.at, d.group, d.name))
            return [self._fire(d, now) for d in due]

    def _fire(self, due: _Due, now: float) -> Fired:
        key = (due.group, due.name)
        try:
            self._invoke(due.target)
        except ClientError as exc:
            error = f"{exc.response.get('Error', {}).get('Code')}: {exc.response.get('Error', {}).get('Message')}"
            first = self._first_failure.setdefault(key, now)
            if now - first >= due.max_age:
                log.error("schedule %s/%s dropped after %.0f s of failures: %s", due.group, due.name, now - first,
                          error)
                self._finish(due)
            else:
                log.warning("schedule %s/%s: target failed (retried): %s", due.group, due.name, error)
            fired = Fired(due.group, due.name, str(due.target.get("Arn")), due.at, now, ok=False, error=error)
        else:
            self._finish(due)
            fired = Fired(due.group, due.name, str(due.target.get("Arn")), due.at, now, ok=True)
        self.fired.append(fired)
        return fired

    def _finish(self, due: _Due) -> None:
        self._first_failure.pop((due.group, due.name), None)
        self._done.add((due.group, due.name, due.expression_at))
        if due.delete_after:
            scheduler = self._client("scheduler")
            try:
                scheduler.delete_schedule(Name=due.name, GroupName=due.group)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise

    def _invoke(self, target: dict[str, Any]) -> None:
        arn = str(target["Arn"])
        body = str(target.get("Input", ""))
        parts = arn.split(":")
        service, resource = parts[2], parts[-1]
        if service == "sqs":
            sqs = self._client("sqs")
            url = sqs.get_queue_url(QueueName=resource, QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
            args: dict[str, Any] = {"QueueUrl": url, "MessageBody": body}
            group = (target.get("SqsParameters") or {}).get("MessageGroupId")
            if group:
                args["MessageGroupId"] = group
            sqs.send_message(**args)
        elif service == "sns":
            args = {"TopicArn": arn, "Message": body}
            sns_params = target.get("SqsParameters") or {}
            if sns_params.get("MessageGroupId"):
                args["MessageGroupId"] = sns_params["MessageGroupId"]
            self._client("sns").publish(**args)
        else:
            raise ClientError({"Error": {"Code": "ValidationException",
                                         "Message": f"targets of {service} are not fired locally"}}, "Invoke")
