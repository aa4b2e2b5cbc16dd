"""SNS to SQS delivery: the notification envelope of standard and FIFO topics, raw delivery, and which queues a
FIFO topic delivers to. Recorded against AWS in LocalStack's ``tests/aws/services/sns/test_sns.snapshot.json``
(``recorded.LOCALSTACK``), entries named in each case.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.conformance.helpers import bodies, envelope, fifo_queue, fifo_topic, queue, receive, subscribe

pytestmark = pytest.mark.area("SNS to SQS")

FIFO_ENVELOPE = ["Message", "MessageId", "SequenceNumber", "Timestamp", "TopicArn", "Type", "UnsubscribeURL"]
STANDARD_ENVELOPE = ["Message", "MessageId", "Signature", "SignatureVersion", "SigningCertURL", "Timestamp",
                     "TopicArn", "Type", "UnsubscribeURL"]


@pytest.mark.parametrize("content_based", [True, False])
def test_fifo_envelope(sns: Any, sqs: Any, name: str, content_based: bool) -> None:
    """``test_message_to_fifo_sqs[<bool>]`` / ``messages``: a FIFO topic's notification carries ``SequenceNumber``
    and no signature; the queue message has the group and the deduplication id (SHA-256 of the message when
    content-based); a republish is deduplicated (``dedup-messages``)."""
    cbd = {"ContentBasedDeduplication": "true"} if content_based else {}
    topic = fifo_topic(sns, name, **cbd)
    url = fifo_queue(sqs, name, **cbd)
    subscribe(sns, sqs, topic, url)
    extra = {} if content_based else {"MessageDeduplicationId": "message-deduplication-id-1"}
    sns.publish(TopicArn=topic, Message="Test", MessageGroupId="message-group-id-1", **extra)
    [message] = receive(sqs, url, AttributeNames=["All"])["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    sns.publish(TopicArn=topic, Message="Test", MessageGroupId="message-group-id-1", **extra)
    body = envelope(message)
    dedup = hashlib.sha256(b"Test").hexdigest() if content_based else "message-deduplication-id-1"
    assert sorted(body) == FIFO_ENVELOPE
    assert (body["Type"], body["Message"]) == ("Notification", "Test")
    assert (message["Attributes"]["MessageGroupId"], message["Attributes"]["MessageDeduplicationId"]) == (
        "message-group-id-1", dedup)
    assert bodies(receive(sqs, url)) == []


def test_standard_envelope(sns: Any, sqs: Any, name: str) -> None:
    """``test_redrive_policy_sqs_queue_subscription[False]`` (the body's keys) and ``test_publish_sqs_from_sns``: a
    standard topic's notification is signed, signature version 1."""
    topic = sns.create_topic(Name=name)["TopicArn"]
    url = queue(sqs, name)
    subscribe(sns, sqs, topic, url)
    sns.publish(TopicArn=topic, Message="hello")
    body = envelope(receive(sqs, url)["Messages"][0])
    assert sorted(body) == STANDARD_ENVELOPE
    assert (body["Message"], body["SignatureVersion"]) == ("hello", "1")


@pytest.mark.parametrize("content_based", [True, False])
def test_fifo_topic_delivers_to_standard_queue(sns: Any, sqs: Any, name: str, content_based: bool) -> None:
    """``test_fifo_topic_to_regular_sqs[<bool>]`` / ``messages``, ``dedup-messages``: a standard queue subscribed to a
    FIFO topic gets the message (FIFO envelope) once."""
    topic = fifo_topic(sns, name, **({"ContentBasedDeduplication": "true"} if content_based else {}))
    url = queue(sqs, name)
    subscribe(sns, sqs, topic, url)
    extra = {} if content_based else {"MessageDeduplicationId": "message-deduplication-id-1"}
    sns.publish(TopicArn=topic, Message="Test", MessageGroupId="message-group-id-1", **extra)
    [message] = receive(sqs, url, AttributeNames=["All"])["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    sns.publish(TopicArn=topic, Message="Test", MessageGroupId="message-group-id-1", **extra)
    assert sorted(envelope(message)) == FIFO_ENVELOPE
    assert bodies(receive(sqs, url)) == []


def test_fifo_raw_delivery(sns: Any, sqs: Any, name: str) -> None:
    """``test_publish_batch_messages_from_fifo_topic_to_fifo_queue[True]``: raw delivery from a FIFO topic keeps the
    body, the message attributes, the group and the deduplication id, in publish order."""
    topic = fifo_topic(sns, name)
    url = fifo_queue(sqs, name)
    subscribe(sns, sqs, topic, url, RawMessageDelivery="true")
    sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": str(n), "Message": f"Test Message {n}", "MessageGroupId": "complexMessageGroupId",
         "MessageDeduplicationId": f"MessageDeduplicationId-{n}",
         "MessageAttributes": {"attr1": {"DataType": "Number", "StringValue": f"{n}9.12"}}} for n in (1, 2, 3)])
    messages = receive(sqs, url, MaxNumberOfMessages=10, AttributeNames=["All"],
                       MessageAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in messages] == ["Test Message 1", "Test Message 2", "Test Message 3"]
    assert [m["MessageAttributes"]["attr1"]["StringValue"] for m in messages] == ["19.12", "29.12", "39.12"]
    assert [m["Attributes"]["MessageDeduplicationId"] for m in messages] == [
        f"MessageDeduplicationId-{n}" for n in (1, 2, 3)]
