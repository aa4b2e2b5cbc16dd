"""EventBridge Scheduler on the local cloud: one-time schedules fire on the local clock, into SQS FIFO queues."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localcloud import LocalCloud
from messaging.delayed import DelayedDelivery, schedule_name
from messaging.envelope import command

ROLE_ARN = "arn:aws:iam::123456789012:role/scheduler"


@pytest.fixture
def group(cloud: LocalCloud, tag: str) -> str:
    name = f"delayed-{tag}"
    cloud.client("scheduler").create_schedule_group(Name=name)
    return name


def fifo_queue(cloud: LocalCloud, tag: str, *, content_dedup: bool = True) -> str:
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true" if content_dedup else "false"}
    return str(cloud.client("sqs").create_queue(QueueName=f"sched-{tag}.fifo", Attributes=attributes)["QueueUrl"])


def delayed(cloud: LocalCloud, group: str) -> DelayedDelivery:
    return DelayedDelivery(group, ROLE_ARN, client=cloud.client("scheduler"), sqs_client=cloud.client("sqs"))


def receive(cloud: LocalCloud, url: str) -> list[dict[str, Any]]:
    response = cloud.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                   AttributeNames=["MessageGroupId"])
    return list(response.get("Messages", []))


def in_seconds(cloud: LocalCloud, seconds: float) -> datetime:
    """``seconds`` from now as a client computes it: on the wall clock (the local clock may run ahead of it)."""
    return datetime.fromtimestamp(time.time() + seconds, tz=UTC)


def test_a_scheduled_message_reaches_the_fifo_queue_at_its_time_with_its_group(
    cloud: LocalCloud, group: str, tag: str
) -> None:
    # Given a FIFO queue with content-based deduplication and a message scheduled 20 s ahead (the local clock already
    # ahead of the wall clock: 20 s count from the schedule's creation)
    cloud.clock.advance(100)
    url = fifo_queue(cloud, tag)
    message = command("orders.CreateOrder", {"customer_id": tag}, source="/test", partitionkey=tag)
    scheduled = delayed(cloud, group).schedule(url, message, in_seconds(cloud, 20))
    # When the runner looks before the time, then after the clock passed it
    early = cloud.scheduler.fire_due()
    seen_early = receive(cloud, url)
    cloud.clock.advance(21)
    cloud.scheduler.fire_due()
    # Then nothing arrived early; afterwards the envelope arrived once, in its group, and the schedule is gone
    assert scheduled.created and not [f for f in early if f.name == scheduled.name] and seen_early == []
    delivered = receive(cloud, url)
    assert [json.loads(m["Body"])["id"] for m in delivered] == [message.id]
    assert delivered[0]["Attributes"]["MessageGroupId"] == tag
    names = [s["Name"] for s in cloud.client("scheduler").list_schedules(GroupName=group)["Schedules"]]
    assert scheduled.name not in names


def test_scheduling_the_same_message_twice_conflicts_and_delivers_once(
    cloud: LocalCloud, group: str, tag: str
) -> None:
    # Given a message scheduled once
    url = fifo_queue(cloud, tag)
    message = command("orders.CreateOrder", {}, source="/test", partitionkey=tag)
    sender = delayed(cloud, group)
    first = sender.schedule(url, message, in_seconds(cloud, 5))
    # When it is scheduled again (a retried send)
    second = sender.schedule(url, message, in_seconds(cloud, 7))
    cloud.clock.advance(10)
    cloud.scheduler.fire_due()
    # Then Scheduler answered ConflictException (read as already scheduled) and one message arrived
    assert (first.created, second.created) == (True, False)
    assert first.name == second.name == schedule_name(message)
    assert len(receive(cloud, url)) == 1


def test_a_cancelled_schedule_never_fires(cloud: LocalCloud, group: str, tag: str) -> None:
    # Given a scheduled message that is cancelled before its time
    url = fifo_queue(cloud, tag)
    message = command("orders.CreateOrder", {}, source="/test", partitionkey=tag)
    sender = delayed(cloud, group)
    sender.schedule(url, message, in_seconds(cloud, 5))
    cancelled = sender.cancel(message)
    # When its time passes
    cloud.clock.advance(6)
    cloud.scheduler.fire_due()
    # Then nothing arrives, and cancelling again says there was nothing left
    assert cancelled and receive(cloud, url) == [] and sender.cancel(message) is False


def test_a_fifo_target_without_content_based_dedup_is_retried_then_dropped(
    cloud: LocalCloud, group: str, tag: str
) -> None:
    # Given a FIFO queue without content-based deduplication (a Scheduler target cannot give a dedup id)
    url = fifo_queue(cloud, tag, content_dedup=False)
    scheduler = cloud.client("scheduler")
    name = f"s-{uuid.uuid4().hex[:8]}"
    queue_arn = cloud.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    at = in_seconds(cloud, 2).strftime("%Y-%m-%dT%H:%M:%S")
    scheduler.create_schedule(
        Name=name, GroupName=group, ScheduleExpression=f"at({at})", FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={"Arn": queue_arn["Attributes"]["QueueArn"], "RoleArn": ROLE_ARN, "Input": "{}",
                "SqsParameters": {"MessageGroupId": "g"},
                "RetryPolicy": {"MaximumEventAgeInSeconds": 60, "MaximumRetryAttempts": 3}},
    )
    # When it is due, then the event age has passed
    cloud.clock.advance(3)
    cloud.scheduler.fire_due()
    cloud.clock.advance(61)
    cloud.scheduler.fire_due()
    # Then every attempt (the runner's thread may add some) failed with SQS's error, the schedule was dropped after
    # the age, and nothing arrived
    attempts = [f for f in cloud.scheduler.fired if f.name == name]
    assert len(attempts) >= 2 and not any(f.ok for f in attempts)
    assert attempts[0].error is not None and "MessageDeduplicationId" in attempts[0].error
    assert name not in [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
    assert receive(cloud, url) == []


def test_the_runner_fires_by_itself_while_the_pollers_run(cloud: LocalCloud, group: str, tag: str) -> None:
    # Given the pollers (and with them the runner) running and a message due in 1 s
    url = fifo_queue(cloud, tag)
    message = command("orders.CreateOrder", {}, source="/test", partitionkey=tag)
    delayed(cloud, group).schedule(url, message, in_seconds(cloud, 1))
    # When nobody calls fire_due and the wall clock passes the time
    deadline = time.monotonic() + 5
    delivered: list[dict[str, Any]] = []
    while not delivered and time.monotonic() < deadline:
        time.sleep(0.2)
        delivered = receive(cloud, url)
    # Then the message arrived
    assert cloud.scheduler.running and [json.loads(m["Body"])["id"] for m in delivered] == [message.id]


def test_deliver_at_is_checked_before_anything_is_scheduled(cloud: LocalCloud, group: str, tag: str) -> None:
    from messaging.errors import InvalidRequest  # noqa: PLC0415

    sender = delayed(cloud, group)
    message = command("orders.CreateOrder", {}, source="/test", partitionkey=tag)
    url = fifo_queue(cloud, tag)
    for bad, reason in [
        (datetime.now() + timedelta(minutes=1), "timezone-aware"),
        (in_seconds(cloud, -1), "in the future"),
        (in_seconds(cloud, 400 * 86400), "at most 365 days"),
    ]:
        with pytest.raises(InvalidRequest, match=reason):
            sender.schedule(url, message, bad)
    assert cloud.client("scheduler").list_schedules(GroupName=group)["Schedules"] == []
