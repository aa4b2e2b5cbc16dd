from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cli import queues as q
from cli.endpoints import QueueEndpoint, UnknownName

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
    # And the failure attributes were dropped while other attributes were kept
    assert set(moved[0]["MessageAttributes"]) == {"trace"}
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
