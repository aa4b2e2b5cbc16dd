"""Dead-letter queues: SQS redrive after ``maxReceiveCount`` and SNS subscription redrive of undeliverable messages,
as documented and as recorded against AWS in LocalStack's ``tests/aws/services/sns/test_sns.snapshot.json``
(``recorded.LOCALSTACK``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conformance.helpers import bodies, envelope, fifo_queue, fifo_topic, queue, queue_arn, receive, subscribe

pytestmark = pytest.mark.area("DLQ")

ATTRIBUTES = {"attr1": {"DataType": "Number", "StringValue": "111"},
              "attr2": {"DataType": "Binary", "BinaryValue": b"\x02\x03\x04"}}


def redrive(sns: Any, sqs: Any, subscription: str, dlq_url: str) -> None:
    sns.set_subscription_attributes(SubscriptionArn=subscription, AttributeName="RedrivePolicy",
                                    AttributeValue=json.dumps({"deadLetterTargetArn": queue_arn(sqs, dlq_url)}))


def test_sqs_moves_after_max_receive_count(sqs: Any, name: str) -> None:
    """After ``maxReceiveCount`` receives the message is moved to the dead-letter queue; it carries
    ``DeadLetterQueueSourceArn``
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html,
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html)."""
    dlq = queue(sqs, f"{name}-dlq")
    source = queue(sqs, name, VisibilityTimeout="0", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": queue_arn(sqs, dlq), "maxReceiveCount": 2}))
    sqs.send_message(QueueUrl=source, MessageBody="poison")
    seen = [bodies(receive(sqs, source)) for _ in range(3)]
    moved = receive(sqs, dlq, MessageSystemAttributeNames=["All"])["Messages"]
    assert seen == [["poison"], ["poison"], []]
    assert [m["Body"] for m in moved] == ["poison"]
    assert moved[0]["Attributes"]["DeadLetterQueueSourceArn"] == queue_arn(sqs, source)


@pytest.mark.parametrize("raw", [True, False], ids=["raw", "envelope"])
def test_sns_redrive_of_undeliverable_message(sns: Any, sqs: Any, name: str, raw: bool) -> None:
    """SNS ``test_redrive_policy_sqs_queue_subscription[<raw>]`` / ``messages``: the subscribed queue is gone, the
    message lands in the subscription's dead-letter queue as it would have been delivered, with its attributes
    (https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html)."""
    topic = sns.create_topic(Name=name)["TopicArn"]
    url = queue(sqs, name)
    subscription = subscribe(sns, sqs, topic, url)
    dlq = queue(sqs, f"{name}-dlq")
    redrive(sns, sqs, subscription, dlq)
    if raw:
        sns.set_subscription_attributes(SubscriptionArn=subscription, AttributeName="RawMessageDelivery",
                                        AttributeValue="true")
    sqs.delete_queue(QueueUrl=url)
    sns.publish(TopicArn=topic, Message="test_dlq_after_sqs_endpoint_deleted", MessageAttributes=ATTRIBUTES)
    [message] = receive(sqs, dlq, AttributeNames=["All"], MessageAttributeNames=["All"])["Messages"]
    if raw:
        assert message["Body"] == "test_dlq_after_sqs_endpoint_deleted"
        assert message["MessageAttributes"] == {"attr1": {"DataType": "Number", "StringValue": "111"},
                                                "attr2": {"DataType": "Binary", "BinaryValue": b"\x02\x03\x04"}}
    else:
        body = envelope(message)
        assert (body["Type"], body["Message"], body["SignatureVersion"]) == (
            "Notification", "test_dlq_after_sqs_endpoint_deleted", "1")
        assert body["MessageAttributes"] == {"attr1": {"Type": "Number", "Value": "111"},
                                             "attr2": {"Type": "Binary", "Value": "AgME"}}


@pytest.mark.parametrize("raw", [True, False], ids=["raw", "envelope"])
def test_sns_fifo_redrive_keeps_group_and_deduplication(sns: Any, sqs: Any, name: str, raw: bool) -> None:
    """SNS ``test_publish_fifo_messages_to_dlq[<raw>]`` / ``batch-messages-in-dlq``: a FIFO subscription's FIFO
    dead-letter queue gets the messages in order with their group and deduplication ids."""
    topic = fifo_topic(sns, name)
    url = fifo_queue(sqs, name)
    subscription = subscribe(sns, sqs, topic, url)
    if raw:
        sns.set_subscription_attributes(SubscriptionArn=subscription, AttributeName="RawMessageDelivery",
                                        AttributeValue="true")
    dlq = fifo_queue(sqs, f"{name}-dlq")
    redrive(sns, sqs, subscription, dlq)
    sqs.delete_queue(QueueUrl=url)
    sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": str(n), "MessageGroupId": "complexMessageGroupId", "Message": f"Test Message {n}",
         "MessageDeduplicationId": f"MessageDeduplicationId-{n}"} for n in (1, 2, 3)])
    messages = receive(sqs, dlq, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    texts = [m["Body"] if raw else envelope(m)["Message"] for m in messages]
    assert texts == ["Test Message 1", "Test Message 2", "Test Message 3"]
    assert [(m["Attributes"]["MessageGroupId"], m["Attributes"]["MessageDeduplicationId"]) for m in messages] == [
        ("complexMessageGroupId", f"MessageDeduplicationId-{n}") for n in (1, 2, 3)]
