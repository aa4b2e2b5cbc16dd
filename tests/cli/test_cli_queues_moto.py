from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from moto import mock_aws

from cli import queues as q
from cli.endpoints import QueueEndpoint, UnknownName
from messaging.errors import UnknownMessageType
from messaging.failures import REDRIVE_RUN_ATTRIBUTE
from messaging.failures import dead_letter as consumer_dead_letter
from tests.support.sqs_events import record_from_sqs_message

pytestmark = pytest.mark.integration


@pytest.fixture
def sqs(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def make_pair(sqs: Any, name: str) -> QueueEndpoint:
    dlq = sqs.create_queue(QueueName=f"{name}-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=f"{name}.fifo",
        Attributes={
            "FifoQueue": "true",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}),
        },
    )["QueueUrl"]
    return QueueEndpoint(name=name.title(), url=url, dead_letter_url=dlq)


def dead_letter(sqs: Any, queue: QueueEndpoint, group: str, n: int, *, code: str = "invalid_payload") -> None:
    """Put a message in the DLQ the way the consumer does: same body, group and failure attributes."""
    body = json.dumps({"specversion": "1.0", "id": f"{group}-{n}", "source": "/test", "type": "orders.CreateOrder"})
    sqs.send_message(
        QueueUrl=queue.dead_letter_url,
        MessageBody=body,
        MessageGroupId=group,
        MessageDeduplicationId=f"{group}-{n}",
        MessageAttributes={
            "failure-code": {"DataType": "String", "StringValue": code},
            "failure-reason": {"DataType": "String", "StringValue": f"bad item {n}"},
            "source-queue": {"DataType": "String", "StringValue": queue.url or ""},
            "trace": {"DataType": "String", "StringValue": f"t-{n}"},
        },
    )


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    ).get("Messages", []):
        messages.extend(batch)
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        )
    return messages


def test_status_reports_depths_in_flight_and_dead_letters(sqs: Any) -> None:
    # Given a queue with 3 messages, one of them received (in flight), and a DLQ with 2
    queue = make_pair(sqs, "orders")
    for n in range(3):
        sqs.send_message(QueueUrl=queue.url, MessageBody="{}", MessageGroupId=f"g{n}", MessageDeduplicationId=str(n))
    sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=1, VisibilityTimeout=60)
    dead_letter(sqs, queue, "g", 1)
    dead_letter(sqs, queue, "g", 2)
    # When the status is read (CloudWatch via moto has no datapoints)
    [status] = q.status(sqs, boto3.client("cloudwatch", region_name="us-east-1"), [queue])
    # Then the depths are right and the age is unknown rather than made up
    assert (status.visible, status.in_flight, status.dead_letters) == (2, 1, 2)
    assert status.oldest_age_seconds is None


def test_oldest_age_comes_from_cloudwatch_when_there_is_a_datapoint() -> None:
    # Given a CloudWatch client returning a datapoint for the second queue only
    class FakeCloudWatch:
        def get_metric_data(self, **request: Any) -> dict[str, Any]:
            assert request["MetricDataQueries"][1]["MetricStat"]["Metric"]["Dimensions"][0]["Value"] == "b.fifo"
            return {"MetricDataResults": [{"Id": "q0", "Values": []}, {"Id": "q1", "Values": [42.0, 30.0]}]}

    # When ages are read / Then the latest value is used and the queue without data is absent
    assert q.oldest_ages(FakeCloudWatch(), ["a.fifo", "b.fifo"]) == {"b.fifo": 42.0}


def test_dlq_list_shows_failure_attributes_and_leaves_messages_in_place(sqs: Any) -> None:
    # Given a DLQ with messages of two groups
    queue = make_pair(sqs, "billing")
    for n in range(3):
        dead_letter(sqs, queue, "alice", n)
    dead_letter(sqs, queue, "bob", 0, code="not_json")
    # When the DLQ is listed
    listing = q.list_dead_letters(sqs, queue)
    # Then every message is shown in group order with its failure code, reason and CloudEvent identity
    assert [(m.group_id, m.id, m.failure_code) for m in listing.messages] == [
        ("alice", "alice-0", "invalid_payload"), ("alice", "alice-1", "invalid_payload"),
        ("alice", "alice-2", "invalid_payload"), ("bob", "bob-0", "not_json"),
    ]
    assert listing.messages[1].failure_reason == "bad item 1"
    assert not listing.truncated
    # And the messages are still there, visible at once
    attributes = sqs.get_queue_attributes(QueueUrl=queue.dead_letter_url, AttributeNames=["All"])["Attributes"]
    visible, in_flight = attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]
    assert (visible, in_flight) == ("4", "0")


def test_dlq_list_of_a_queue_without_dlq_is_a_typed_error(sqs: Any) -> None:
    # Given a queue without a DLQ output / When listed / Then a typed error names it
    with pytest.raises(UnknownName, match="no dead-letter queue"):
        q.list_dead_letters(sqs, QueueEndpoint("Plain", "https://q/plain.fifo", None))


def test_redrive_moves_everything_back_keeping_order_within_each_group(sqs: Any) -> None:
    # Given a DLQ holding 12 messages of group alice and 12 of group bob, interleaved (more than one receive each)
    queue = make_pair(sqs, "orders")
    for n in range(12):
        dead_letter(sqs, queue, "alice", n)
        dead_letter(sqs, queue, "bob", n)
    expected_dedup_ids = {
        q.redrive_deduplication_id(m["Attributes"]["MessageDeduplicationId"], m["MessageId"])
        for m in q.peek(sqs, queue.dead_letter_url or "")
    }
    # When the DLQ is redriven
    result = q.redrive(sqs, queue)
    # Then all 24 moved, the DLQ is empty, and each group arrives in its original order
    assert (result.moved, result.failed, result.groups) == (24, [], {"alice": 12, "bob": 12})
    assert drain(sqs, queue.dead_letter_url or "") == []
    moved = drain(sqs, queue.url or "")
    for group in ("alice", "bob"):
        ids = [json.loads(m["Body"])["id"] for m in moved if m["Attributes"]["MessageGroupId"] == group]
        assert ids == [f"{group}-{n}" for n in range(12)]
    # And the failure attributes were dropped while other attributes were kept, plus the run's mark
    assert set(moved[0]["MessageAttributes"]) == {"trace", q.REDRIVE_RUN_ATTRIBUTE, q.REDRIVE_COUNT_ATTRIBUTE}
    assert {m["MessageAttributes"][q.REDRIVE_COUNT_ATTRIBUTE]["StringValue"] for m in moved} == {"1"}
    assert {m["MessageAttributes"][q.REDRIVE_RUN_ATTRIBUTE]["StringValue"] for m in moved} == {result.run_id}
    # And the deduplication ids are new, derived from the original id and the DLQ message id
    # (the peek saw only the first receive's worth: a FIFO group stays locked while its head is in flight)
    assert expected_dedup_ids
    assert expected_dedup_ids <= {m["Attributes"]["MessageDeduplicationId"] for m in moved}


def test_redrive_stops_a_group_at_a_failed_send_so_nothing_overtakes_it(sqs: Any) -> None:
    # Given a DLQ with three messages of one group and one of another, and a send that rejects the 2nd of group a
    queue = make_pair(sqs, "orders")
    for n in range(3):
        dead_letter(sqs, queue, "a", n)
    dead_letter(sqs, queue, "b", 0)
    real_send = sqs.send_message_batch

    def flaky_send(**request: Any) -> dict[str, Any]:
        rejected = [e for e in request["Entries"] if json.loads(e["MessageBody"])["id"] == "a-1"]
        kept = [e for e in request["Entries"] if e not in rejected]
        response = real_send(QueueUrl=request["QueueUrl"], Entries=kept) if kept else {"Successful": []}
        failed = [{"Id": e["Id"], "Code": "InternalError", "Message": "boom", "SenderFault": False} for e in rejected]
        return {"Successful": response.get("Successful", []), "Failed": failed}

    class FlakySqs:
        def __getattr__(self, name: str) -> Any:
            return flaky_send if name == "send_message_batch" else getattr(sqs, name)

    # When the DLQ is redriven
    result = q.redrive(FlakySqs(), queue)
    # Then a-0 and b-0 moved, a-1 failed and a-2 stayed behind it in the DLQ
    moved = sorted(json.loads(m["Body"])["id"] for m in drain(sqs, queue.url or ""))
    assert moved == ["a-0", "b-0"]
    assert [f["error"] for f in result.failed] == ["InternalError: boom"]
    left = [json.loads(m["Body"])["id"] for m in drain(sqs, queue.dead_letter_url or "")]
    assert left == ["a-1", "a-2"]


class FailingAgainConsumer:
    """An SQS client whose sends to the source queue are consumed at once by a consumer that finds every message still
    invalid and dead-letters it again, as ``messaging.failures.dead_letter`` does (carried attributes kept)."""

    def __init__(self, sqs: Any, queue: QueueEndpoint) -> None:
        self.sqs, self.queue, self.returned = sqs, queue, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sqs, name)

    def send_message_batch(self, **request: Any) -> dict[str, Any]:
        response: dict[str, Any] = self.sqs.send_message_batch(**request)
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue.url, AttributeNames=["QueueArn"])["Attributes"]
        for message in drain(self.sqs, self.queue.url or ""):
            record = SQSRecord(record_from_sqs_message(message, arn["QueueArn"]))
            consumer_dead_letter(self.sqs, self.queue.dead_letter_url, record, UnknownMessageType("orders.CreateOrder"))
            self.returned += 1
        return response


def test_a_message_that_fails_again_returns_to_the_dlq_once_per_redrive_and_is_not_moved_again(sqs: Any) -> None:
    # Given 15 still-invalid dead letters in three groups, and a consumer that dead-letters them again at once
    queue = make_pair(sqs, "orders")
    for n in range(5):
        for group in ("a", "b", "c"):
            dead_letter(sqs, queue, group, n)
    consumer = FailingAgainConsumer(sqs, queue)
    progress: list[tuple[int, int, int, int]] = []
    # When the DLQ is redriven
    result = q.redrive(consumer, queue, progress=lambda *counts: progress.append(counts))
    # Then each of the 15 moved once, came back once, and the run ended: the DLQ holds 15 again, each group in order
    assert (result.moved, result.budget, result.failed, consumer.returned) == (15, 15, [], 15)
    assert result.skipped <= 15
    assert progress[-1][:3] == (15, result.skipped, 0)
    left = drain(sqs, queue.dead_letter_url or "")
    assert len(left) == 15
    for group in ("a", "b", "c"):
        ids = [json.loads(m["Body"])["id"] for m in left if m["Attributes"]["MessageGroupId"] == group]
        assert ids == [f"{group}-{n}" for n in range(5)]
    # And each came back with its new failure and the mark of this run, its identity (the body) unchanged
    assert {m["MessageAttributes"]["failure-code"]["StringValue"] for m in left} == {"unknown_type"}
    assert {m["MessageAttributes"][q.REDRIVE_RUN_ATTRIBUTE]["StringValue"] for m in left} == {result.run_id}
    assert q.REDRIVE_RUN_ATTRIBUTE == REDRIVE_RUN_ATTRIBUTE  # the CLI marks what the consumer carries back


def test_a_second_redrive_moves_the_returned_messages_once_more(sqs: Any) -> None:
    # Given 4 still-invalid dead letters, redriven once (they came back)
    queue = make_pair(sqs, "orders")
    for n in range(4):
        dead_letter(sqs, queue, "a", n)
    consumer = FailingAgainConsumer(sqs, queue)
    first = q.redrive(consumer, queue)
    # When the DLQ is redriven again
    second = q.redrive(consumer, queue)
    # Then the second run moves the 4 again (a new run, a new mark), and they are back once more
    assert (first.moved, second.moved, consumer.returned) == (4, 4, 8)
    assert first.run_id != second.run_id
    assert len(drain(sqs, queue.dead_letter_url or "")) == 4


def test_redrive_max_moves_only_the_first_n_and_dry_run_moves_none(sqs: Any) -> None:
    # Given 6 dead letters of one group
    queue = make_pair(sqs, "orders")
    for n in range(6):
        dead_letter(sqs, queue, "a", n)
    # When a dry run is made / Then it counts all 6 and moves none, the DLQ keeps all in order
    dry = q.redrive(sqs, queue, dry_run=True)
    assert (dry.dry_run, dry.moved, dry.budget, dry.skipped) == (True, 6, 6, 0)
    assert drain(sqs, queue.url or "") == []
    # When a redrive is limited to 4 / Then the first 4 of the group moved, the last 2 stayed
    limited = q.redrive(sqs, queue, limit=4)
    assert (limited.moved, limited.budget) == (4, 4)
    assert [json.loads(m["Body"])["id"] for m in drain(sqs, queue.url or "")] == [f"a-{n}" for n in range(4)]
    assert [json.loads(m["Body"])["id"] for m in drain(sqs, queue.dead_letter_url or "")] == ["a-4", "a-5"]


def test_a_dead_letter_marked_by_this_run_is_skipped_and_left_in_place(sqs: Any) -> None:
    # Given a DLQ where the head of group a came back during run "run-1", ahead of two messages not yet moved
    queue = make_pair(sqs, "orders")
    sqs.send_message(
        QueueUrl=queue.dead_letter_url,
        MessageBody=json.dumps({"id": "a-back"}),
        MessageGroupId="b",
        MessageDeduplicationId="a-back",
        MessageAttributes={REDRIVE_RUN_ATTRIBUTE: {"DataType": "String", "StringValue": "run-1"}},
    )
    for n in range(2):
        dead_letter(sqs, queue, "a", n)
    # When run "run-1" goes on
    result = q.redrive(sqs, queue, run_id="run-1")
    # Then the two others moved, the returned one was skipped and is still in the DLQ (visible again)
    assert (result.moved, result.skipped) == (2, 1)
    assert [json.loads(m["Body"])["id"] for m in drain(sqs, queue.dead_letter_url or "")] == ["a-back"]
