"""SQS message move tasks (DLQ redrive), as AWS documents them, against the local cloud."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.localcloud.lc_support import wait_for
from tests.localcloud.test_lc_dead_letters import arn_of
from tests.localcloud.test_lc_sqs_fifo import ad_hoc_fifo

pytestmark = pytest.mark.e2e

START_DOC = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html"


def dead_lettered(cloud: LocalCloud, sqs: Any, tag: str, groups: dict[str, int]) -> tuple[str, str]:
    """A FIFO source queue (maxReceiveCount 1) and its DLQ holding ``groups`` messages moved there by SQS."""
    dlq = ad_hoc_fifo(sqs, f"move-dlq-{tag}")
    source = ad_hoc_fifo(sqs, f"move-src-{tag}", VisibilityTimeout="5", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 1}))
    for group, count in groups.items():
        for n in range(count):
            sqs.send_message(QueueUrl=source, MessageBody=f"{group}-{n}", MessageGroupId=group,
                             MessageDeduplicationId=f"{group}-{n}")
    while sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10).get("Messages"):
        pass
    cloud.clock.advance(6)
    assert sqs.receive_message(QueueUrl=source).get("Messages") is None  # every message moves to the DLQ
    return source, dlq


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       MessageSystemAttributeNames=["All"]).get("Messages"):
        messages.extend(batch)
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def test_a_move_task_redrives_a_fifo_dlq_to_its_source_in_order(cloud: LocalCloud, sqs: Any, tag: str) -> None:
    """StartMessageMoveTask without a destination moves a DLQ's messages back to the queue they came from; each
    group keeps its order; ListMessageMoveTasks reports the task COMPLETED with the count moved.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html
    """
    # Given three messages of group a and two of group b dead-lettered by SQS
    source, dlq = dead_lettered(cloud, sqs, tag, {"a": 3, "b": 2})
    dlq_arn = arn_of(sqs, dlq)
    # When a move task is started with no destination
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    wait_for(lambda: sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"] == "COMPLETED")
    # Then the task reports what it moved
    [task] = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
    assert task["ApproximateNumberOfMessagesMoved"] == 5 and task["ApproximateNumberOfMessagesToMove"] == 5
    assert task["SourceArn"] == dlq_arn and "TaskHandle" not in task and handle
    # And the source queue holds them again, each group in order, received afresh
    moved = drain(sqs, source)
    by_group: dict[str, list[str]] = {}
    for message in moved:
        by_group.setdefault(message["Attributes"]["MessageGroupId"], []).append(message["Body"])
        assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert by_group == {"a": ["a-0", "a-1", "a-2"], "b": ["b-0", "b-1"]}
    assert drain(sqs, dlq) == []


def test_a_move_task_to_a_destination_can_be_cancelled(cloud: LocalCloud, sqs: Any, tag: str) -> None:
    """A task with MaxNumberOfMessagesPerSecond moves at that rate; CancelMessageMoveTask stops it, returning the
    count moved so far; the task is then CANCELLED and the rest stays in the DLQ; one active task per source.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CancelMessageMoveTask.html
    """
    # Given four dead-lettered messages and another queue as destination
    _, dlq = dead_lettered(cloud, sqs, tag, {"g": 4})
    dlq_arn = arn_of(sqs, dlq)
    destination = ad_hoc_fifo(sqs, f"move-dest-{tag}")
    # When a task moving 1 message per second (4 messages: at least 3 s) starts
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=arn_of(sqs, destination),
                                         MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    running = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
    assert running["Status"] == "RUNNING" and running["TaskHandle"] == handle
    assert running["MaxNumberOfMessagesPerSecond"] == 1
    # And a second task on the same DLQ is refused while this one runs
    with pytest.raises(ClientError) as error:
        sqs.start_message_move_task(SourceArn=dlq_arn)
    assert error.value.response["Error"]["Code"] == "InvalidParameterValue"
    # And it is cancelled
    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    # Then it ends CANCELLED having moved the first messages only, in order; the others stay in the DLQ
    wait_for(lambda: sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"] == "CANCELLED")
    cloud.clock.advance(10)
    assert moved < 4
    assert [m["Body"] for m in drain(sqs, destination)] == [f"g-{n}" for n in range(moved)]
    assert [m["Body"] for m in drain(sqs, dlq)] == [f"g-{n}" for n in range(moved, 4)]


def test_only_a_dead_letter_queue_can_be_the_source(cloud: LocalCloud, sqs: Any, tag: str) -> None:
    """The source of a move task must be some queue's dead-letter queue, and must exist.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html
    """
    # Given a queue that is nobody's DLQ / When a move task is started from it / Then it is refused
    plain = ad_hoc_fifo(sqs, f"plain-{tag}")
    with pytest.raises(ClientError) as error:
        sqs.start_message_move_task(SourceArn=arn_of(sqs, plain))
    assert (error.value.response["Error"]["Code"], error.value.response["Error"]["Message"]) == (
        "InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue.")
    # And a queue that does not exist is ResourceNotFoundException
    with pytest.raises(ClientError) as missing:
        sqs.start_message_move_task(SourceArn=f"arn:aws:sqs:{cloud.region}:{cloud.account_id}:absent-{tag}")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
