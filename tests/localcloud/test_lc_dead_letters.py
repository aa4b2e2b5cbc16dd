"""Dead-letter queues of SQS queues and of SNS subscriptions, as AWS documents them, against the local cloud."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.localcloud.test_lc_sqs_fifo import ad_hoc_fifo

pytestmark = pytest.mark.e2e


def arn_of(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def test_a_message_moved_to_the_dead_letter_queue_names_its_source_queue(cloud: LocalCloud, sqs: Any,
                                                                         tag: str) -> None:
    """A message SQS moves to a dead-letter queue after maxReceiveCount receives carries the system attribute
    DeadLetterQueueSourceArn, the ARN of the queue it came from.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html
    """
    # Given a FIFO queue with maxReceiveCount 1 and a message received once, not deleted
    dlq = ad_hoc_fifo(sqs, f"dlq-{tag}")
    source = ad_hoc_fifo(sqs, f"source-{tag}", VisibilityTimeout="5", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 1}))
    sqs.send_message(QueueUrl=source, MessageBody="poison", MessageGroupId="g", MessageDeduplicationId=tag)
    assert sqs.receive_message(QueueUrl=source)["Messages"]
    # When its visibility timeout expires and the queue is received from again
    cloud.clock.advance(6)
    assert sqs.receive_message(QueueUrl=source).get("Messages") is None
    # Then it is in the dead-letter queue, naming its source queue, with its group
    [moved] = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"])["Messages"]
    assert moved["Body"] == "poison"
    assert moved["Attributes"]["DeadLetterQueueSourceArn"] == arn_of(sqs, source)
    assert moved["Attributes"]["MessageGroupId"] == "g"
    # And a message sent to the dead-letter queue directly carries no such attribute
    sqs.send_message(QueueUrl=dlq, MessageBody="direct", MessageGroupId="h", MessageDeduplicationId=f"{tag}-d")
    [direct] = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"])["Messages"]
    assert "DeadLetterQueueSourceArn" not in direct["Attributes"]


def test_a_subscription_redrive_policy_catches_what_cannot_be_delivered(sns: Any, sqs: Any, tag: str) -> None:
    """When SNS cannot deliver to a subscribed queue (it was deleted), the publish still succeeds and the message
    goes to the subscription's own dead-letter queue (RedrivePolicy); a subscription without one drops it.

    https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html
    """
    # Given a FIFO topic with two raw subscriptions whose queues are gone, one with a redrive policy
    topic = sns.create_topic(Name=f"redrive-{tag}.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    dlq = ad_hoc_fifo(sqs, f"subscription-dlq-{tag}")
    for name, redrive in (("with", True), ("without", False)):
        url = ad_hoc_fifo(sqs, f"{name}-{tag}")
        attributes = {"RawMessageDelivery": "true"}
        if redrive:
            attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq)})
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn_of(sqs, url), Attributes=attributes)
        sqs.delete_queue(QueueUrl=url)
    # When a message is published
    published = sns.publish(TopicArn=topic, Message="undeliverable", MessageGroupId="g", MessageDeduplicationId=tag)
    # Then the publish succeeded and the message waits in the subscription's dead-letter queue, once
    assert published["MessageId"]
    [message] = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10,
                                    MessageSystemAttributeNames=["All"])["Messages"]
    assert message["Body"] == "undeliverable" and message["Attributes"]["MessageGroupId"] == "g"
    sns.delete_topic(TopicArn=topic)
