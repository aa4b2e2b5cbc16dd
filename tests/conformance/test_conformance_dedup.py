"""FIFO deduplication (SQS queues and SNS FIFO topics), as recorded against AWS in LocalStack's
``tests/aws/services/sqs/test_sqs.snapshot.json`` and ``tests/aws/services/sns/test_sns.snapshot.json``
(``recorded.LOCALSTACK``); each case names its entry.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.helpers import bodies, fifo_queue, fifo_topic, receive, subscribe

pytestmark = pytest.mark.area("dedup")


@pytest.mark.parametrize("content_based", [True, False])
def test_duplicate_after_delete_arrives_once(sqs: Any, name: str, content_based: bool) -> None:
    """SQS ``test_fifo_deduplication_arrives_once_after_delete[sqs-<bool>]``: a resend within 5 minutes of a message
    already received and deleted is not delivered
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html)."""
    url = fifo_queue(sqs, name, **({"ContentBasedDeduplication": "true"} if content_based else {}))
    extra = {} if content_based else {"MessageDeduplicationId": "dedup1"}
    sqs.send_message(QueueUrl=url, MessageBody='{"foo": "bar"}', MessageGroupId="g", **extra)
    first = receive(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["Messages"][0]["ReceiptHandle"])
    sqs.send_message(QueueUrl=url, MessageBody='{"foo": "bar"}', MessageGroupId="g", **extra)
    assert bodies(first) == ['{"foo": "bar"}']
    assert bodies(receive(sqs, url)) == []


@pytest.mark.parametrize("content_based", [True, False])
def test_deduplication_is_not_per_group(sqs: Any, name: str, content_based: bool) -> None:
    """SQS ``test_fifo_deduplication_not_on_message_group_id[sqs-<bool>]``: with the default scope (queue) the same
    deduplication id in another group is a duplicate."""
    url = fifo_queue(sqs, name, **({"ContentBasedDeduplication": "true"} if content_based else {}))
    extra = {} if content_based else {"MessageDeduplicationId": "dedup1"}
    for group in ("group-1", "group-2"):
        sqs.send_message(QueueUrl=url, MessageBody='{"foo": "bar"}', MessageGroupId=group, **extra)
    assert bodies(receive(sqs, url, MaxNumberOfMessages=1)) == ['{"foo": "bar"}']
    assert bodies(receive(sqs, url, MaxNumberOfMessages=1)) == []


@pytest.mark.parametrize("attributes", [
    {"ContentBasedDeduplication": "True", "DeduplicationScope": "messageGroup"},
    {"ContentBasedDeduplication": "False", "DeduplicationScope": "messageGroup",
     "FifoThroughputLimit": "perMessageGroupId"},
], ids=["scope-only", "high-throughput"])
def test_message_group_scope(sqs: Any, name: str, attributes: dict[str, str]) -> None:
    """SQS ``test_sqs_fifo_message_group_scope_no_throughput_setting[sqs]`` and
    ``test_fifo_high_throughput_ordering[sqs]``: a queue created with ``DeduplicationScope=messageGroup`` delivers
    the same deduplication id in another group."""
    url = fifo_queue(sqs, name, **attributes)
    extra = {} if attributes["ContentBasedDeduplication"] == "True" else {"MessageDeduplicationId": "same-dedup"}
    sqs.send_message(QueueUrl=url, MessageBody="Test", MessageGroupId="group1", **extra)
    first = receive(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["Messages"][0]["ReceiptHandle"])
    sqs.send_message(QueueUrl=url, MessageBody="Test", MessageGroupId="group2", **extra)
    assert bodies(first) == ["Test"]
    assert bodies(receive(sqs, url)) == ["Test"]


def test_high_throughput_switched_on_after_creation(sqs: Any, name: str) -> None:
    """SQS ``test_fifo_change_to_high_throughput_after_creation[sqs]``: right after ``SetQueueAttributes`` of
    ``DeduplicationScope=messageGroup`` the queue still deduplicates queue-wide, for ids seen before and after the
    change ("the change can take up to 60 seconds ... to propagate",
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html)."""
    url = fifo_queue(sqs, name, ContentBasedDeduplication="False", DeduplicationScope="queue")
    sqs.send_message(QueueUrl=url, MessageBody="Test1", MessageGroupId="group1", MessageDeduplicationId="same")
    first = receive(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["Messages"][0]["ReceiptHandle"])
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DeduplicationScope": "messageGroup",
                                                       "FifoThroughputLimit": "perMessageGroupId"})
    shown = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    sqs.send_message(QueueUrl=url, MessageBody="Test3", MessageGroupId="group3", MessageDeduplicationId="same")
    after = receive(sqs, url)
    sqs.send_message(QueueUrl=url, MessageBody="Test4", MessageGroupId="group4", MessageDeduplicationId="dedup_2")
    fourth = receive(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=fourth["Messages"][0]["ReceiptHandle"])
    sqs.send_message(QueueUrl=url, MessageBody="Test5", MessageGroupId="group5", MessageDeduplicationId="dedup_2")
    assert (shown["DeduplicationScope"], shown["FifoThroughputLimit"]) == ("messageGroup", "perMessageGroupId")
    assert (bodies(first), bodies(after), bodies(fourth), bodies(receive(sqs, url))) == (["Test1"], [], ["Test4"], [])


def test_sns_topic_level_deduplication(sns: Any, sqs: Any, name: str) -> None:
    """SNS ``test_publish_to_fifo_topic_deduplication_on_topic_level``: a content-deduplicated FIFO topic drops the
    same message published in another group; the queue gets one copy
    (https://docs.aws.amazon.com/sns/latest/dg/fifo-message-dedup.html)."""
    topic = fifo_topic(sns, name, ContentBasedDeduplication="true")
    url = fifo_queue(sqs, name)
    subscribe(sns, sqs, topic, url)
    sns.publish(TopicArn=topic, Message="Test", MessageGroupId="message-group-id-1")
    sns.publish(TopicArn=topic, Message="Test", MessageGroupId="message-group-id-2")
    first = receive(sqs, url, VisibilityTimeout=10, AttributeNames=["All"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["Messages"][0]["ReceiptHandle"])
    assert [m["Attributes"]["MessageGroupId"] for m in first["Messages"]] == ["message-group-id-1"]
    assert bodies(receive(sqs, url, VisibilityTimeout=10)) == []

