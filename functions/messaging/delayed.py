"""Delayed delivery on FIFO queues through EventBridge Scheduler one-shot schedules.

SQS FIFO queues refuse a per-message ``DelaySeconds`` (only the queue-wide delay exists, up to 15 minutes for every
message alike), so "deliver this at 10:42" is a schedule: an ``at(...)`` expression in UTC, ``ActionAfterCompletion:
DELETE``, in the system's schedule group, whose target is the queue's ``SendMessage`` with the envelope as ``Input``
and ``SqsParameters.MessageGroupId`` = the envelope's ``partitionkey``. A Scheduler target cannot set a deduplication
id, so the target queue has content-based deduplication on (the body holds the message's unique id, so it dedups as
our own ids do; the explicit ``MessageDeduplicationId`` every direct send of ours gives still wins).

The schedule's name is derived from the message (:func:`schedule_name`): scheduling the same envelope again fails with
``ConflictException`` at Scheduler, which :meth:`DelayedDelivery.schedule` reads as "already scheduled", so a retried
send never schedules twice. :meth:`DelayedDelivery.cancel` deletes a schedule that is no longer wanted (a timeout
whose step was answered); one that already fired is gone, and that is not an error.

Bounds: ``deliver_at`` is rounded up to the next whole second, must be in the future and at most
:data:`MAX_DELAY_DAYS` ahead (the queue would still keep it, but a forgotten schedule should not outlive a year).
Scheduler invokes a one-time schedule with no flexible window at its time, normally within seconds and documented
as at-least-once; a target that refuses (throttled, queue gone) is retried by Scheduler for up to 24 hours.

Example:
    >>> from datetime import datetime, timedelta, timezone
    >>> from messaging.envelope import command
    >>> class FakeScheduler:
    ...     def __init__(self):
    ...         self.created = []
    ...     def create_schedule(self, **kwargs):
    ...         self.created.append(kwargs)
    ...         return {"ScheduleArn": "arn:aws:scheduler:::schedule/g/" + kwargs["Name"]}
    >>> class FakeSqs:
    ...     def get_queue_attributes(self, **kwargs):
    ...         return {"Attributes": {"QueueArn": "arn:aws:sqs:us-east-1:123456789012:orders.fifo"}}
    >>> scheduler = FakeScheduler()
    >>> delayed = DelayedDelivery("messaging", "arn:aws:iam::123456789012:role/r", client=scheduler,
    ...                           sqs_client=FakeSqs(), clock=lambda: 1_700_000_000.0)
    >>> cmd = command("orders.CreateOrder", {}, source="/web", partitionkey="c-1", id="m-1")
    >>> at = datetime.fromtimestamp(1_700_000_020.2, tz=timezone.utc)
    >>> delayed.schedule("https://sqs/orders.fifo", cmd, at).expression
    'at(2023-11-14T22:13:41)'
    >>> scheduler.created[0]["Target"]["SqsParameters"]
    {'MessageGroupId': 'c-1'}
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from messaging.aws import LazyClient
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope
from messaging.errors import InvalidRequest
from messaging.fifo import deduplication_id, message_group_id

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

MAX_DELAY_DAYS = 365
"""The furthest ahead a message can be scheduled."""
SCHEDULE_NAME_PREFIX = "msg-"
_AT_FORMAT = "%Y-%m-%dT%H:%M:%S"
_MAX_EVENT_AGE_SECONDS = 86400
_RETRY_ATTEMPTS = 185


def schedule_name(envelope: Envelope) -> str:
    """The schedule's name for ``envelope``: derived from its ``source`` + ``id`` (as the dedup id is), at most 64
    characters of ``[0-9A-Za-z-_.]`` as Scheduler requires.

    Example:
        >>> from messaging.envelope import command
        >>> cmd = command("t.T", {}, source="/web", partitionkey="k", id="m-1")
        >>> schedule_name(cmd) == schedule_name(cmd), len(schedule_name(cmd))
        (True, 52)
    """
    digest = hashlib.sha256(deduplication_id(envelope).encode("utf-8")).hexdigest()[:48]
    return f"{SCHEDULE_NAME_PREFIX}{digest}"


def at_expression(moment: datetime) -> str:
    """The ``at(...)`` expression of ``moment`` (timezone-aware), in UTC, rounded up to the whole second.

    Example:
        >>> at_expression(datetime(2030, 1, 2, 3, 4, 5, 1, tzinfo=UTC))
        'at(2030-01-02T03:04:06)'
    """
    if moment.tzinfo is None:
        raise InvalidRequest("deliver_at must be timezone-aware (e.g. datetime.now(UTC) + timedelta(...))")
    seconds = math.ceil(moment.timestamp())
    return f"at({datetime.fromtimestamp(seconds, tz=UTC).strftime(_AT_FORMAT)})"


def parse_at_expression(expression: str) -> datetime:
    """The UTC moment of an ``at(yyyy-mm-ddThh:mm:ss)`` expression; :class:`ValueError` for any other expression.

    Example:
        >>> parse_at_expression("at(2030-01-02T03:04:06)").isoformat()
        '2030-01-02T03:04:06+00:00'
    """
    if not (expression.startswith("at(") and expression.endswith(")")):
        raise ValueError(f"not a one-time schedule expression: {expression!r}")
    return datetime.strptime(expression[3:-1], _AT_FORMAT).replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A message scheduled for later: the schedule's name, its ``at(...)`` expression and whether this call created
    it (False: a schedule of that name already existed, the message was scheduled before)."""

    name: str
    expression: str
    created: bool


class DelayedDelivery:
    """Schedules envelopes for delivery to an SQS FIFO queue at a given time (see the module docstring).

    ``group_name`` is the schedule group, ``role_arn`` the role Scheduler assumes to send to the queue (the stacks
    output both: ``DelayedDeliveryGroupName``, ``DelayedDeliveryRoleArn``).
    """

    def __init__(
        self,
        group_name: str,
        role_arn: str,
        *,
        client: Any = None,
        sqs_client: SQSClient | None = None,
        codec: CloudEventJsonCodec | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.group_name = group_name
        self.role_arn = role_arn
        self._scheduler: LazyClient[Any] = LazyClient("scheduler", client)
        self._sqs: LazyClient[SQSClient] = LazyClient("sqs", sqs_client)
        self._codec = codec or CloudEventJsonCodec()
        self._clock = clock
        self._queue_arns: dict[str, str] = {}

    def check_time(self, deliver_at: datetime) -> str:
        """The ``at(...)`` expression for ``deliver_at``; :class:`~messaging.errors.InvalidRequest` if it is naive, not
        in the future or further than :data:`MAX_DELAY_DAYS` ahead."""
        expression = at_expression(deliver_at)
        now = self._clock()
        if deliver_at.timestamp() <= now:
            raise InvalidRequest("deliver_at must be in the future")
        if deliver_at.timestamp() - now > timedelta(days=MAX_DELAY_DAYS).total_seconds():
            raise InvalidRequest(f"deliver_at must be at most {MAX_DELAY_DAYS} days ahead")
        return expression

    def is_due(self, deliver_at: datetime) -> bool:
        """True when ``deliver_at`` is not in the future any more (send it now rather than schedule it)."""
        return deliver_at.timestamp() <= self._clock()

    def queue_arn(self, queue_url: str) -> str:
        """The ARN of the queue at ``queue_url`` (asked once per queue)."""
        if queue_url not in self._queue_arns:
            attributes = self._sqs.get().get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
            self._queue_arns[queue_url] = attributes["Attributes"]["QueueArn"]
        return self._queue_arns[queue_url]

    def schedule(self, queue_url: str, envelope: Envelope, deliver_at: datetime) -> Scheduled:
        """Create the one-shot schedule that sends ``envelope`` to ``queue_url`` at ``deliver_at``; a schedule of the
        same name that exists already counts as done (``created=False``)."""
        from botocore.exceptions import ClientError  # noqa: PLC0415

        expression = self.check_time(deliver_at)
        name = schedule_name(envelope)
        target: dict[str, Any] = {
            "Arn": self.queue_arn(queue_url),
            "RoleArn": self.role_arn,
            "Input": self._codec.encode(envelope),
            "RetryPolicy": {
                "MaximumEventAgeInSeconds": _MAX_EVENT_AGE_SECONDS,
                "MaximumRetryAttempts": _RETRY_ATTEMPTS,
            },
        }
        if queue_url.endswith(".fifo"):
            target["SqsParameters"] = {"MessageGroupId": message_group_id(envelope)}
        try:
            self._scheduler.get().create_schedule(
                Name=name,
                GroupName=self.group_name,
                ScheduleExpression=expression,
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Description=f"{envelope.type} {envelope.id}"[:512],
                Target=target,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConflictException":
                return Scheduled(name, expression, created=False)
            raise
        return Scheduled(name, expression, created=True)

    def cancel(self, envelope: Envelope) -> bool:
        """Delete the schedule of ``envelope``; False if there was none (it fired already, or never existed)."""
        from botocore.exceptions import ClientError  # noqa: PLC0415

        try:
            self._scheduler.get().delete_schedule(Name=schedule_name(envelope), GroupName=self.group_name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return False
            raise
        return True
