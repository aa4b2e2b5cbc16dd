"""What the FIFO APIs return: sequence numbers, system attributes, queue and topic attributes, delays.

Recorded against AWS by LocalStack (``recorded.LOCALSTACK``), entries of
``tests/aws/services/sqs/test_sqs.snapshot.json`` / ``tests/aws/services/sns/test_sns.snapshot.json`` named in
each case, or the AWS API reference where it says.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conformance.conftest import Backend
from tests.conformance.helpers import bodies, fifo_queue, fifo_topic, queue, queue_arn, receive, subscribe
from tests.conformance.recorded import assert_error, error_of

pytestmark = pytest.mark.area("FIFO API")

EFFECTIVE_DELIVERY_POLICY = {"http": {
    "defaultHealthyRetryPolicy": {"minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3,
                                  "numMaxDelayRetries": 0, "numNoDelayRetries": 0, "numMinDelayRetries": 0,
                                  "backoffFunction": "linear"},
    "disableSubscriptionOverrides": False,
    "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}}
"""SNS's default ``EffectiveDeliveryPolicy`` (``test_create_topic_with_attributes`` / ``get-topic-attrs``)."""


def test_fifo_system_attributes(sqs: Any, name: str) -> None:
    """SQS ``test_fifo_message_attributes[sqs]``: the send returns a sequence number; a receive with
    ``AttributeNames=All`` returns the group, deduplication id, sequence number and sender."""
    url = fifo_queue(sqs, name, ContentBasedDeduplication="true", VisibilityTimeout="0",
                     DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    sent = sqs.send_message(QueueUrl=url, MessageBody="message-body-1", MessageGroupId="group-1",
                            MessageDeduplicationId="dedup-1")
    message = receive(sqs, url, AttributeNames=["All"])["Messages"][0]
    again = receive(sqs, url, AttributeNames=["All"])["Messages"][0]
    assert sorted(sent) == ["MD5OfMessageBody", "MessageId", "ResponseMetadata", "SequenceNumber"]
    assert sorted(message["Attributes"]) == ["ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount",
                                             "MessageDeduplicationId", "MessageGroupId", "SenderId",
                                             "SentTimestamp", "SequenceNumber"]
    assert (message["Attributes"]["MessageGroupId"], message["Attributes"]["MessageDeduplicationId"],
            message["Attributes"]["SequenceNumber"]) == ("group-1", "dedup-1", sent["SequenceNumber"])
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_fifo_queue_attributes(sqs: Any, name: str) -> None:
    """SQS ``test_fifo_set_content_based_deduplication_strategy[sqs]`` / ``before-update`` and ``after-update``."""
    url = fifo_queue(sqs, name, ContentBasedDeduplication="true")
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "false"})
    after = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert {key: before.get(key) for key in ("ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds",
                                             "FifoQueue", "FifoThroughputLimit", "MessageRetentionPeriod",
                                             "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout")} == {
        "ContentBasedDeduplication": "true", "DeduplicationScope": "queue", "DelaySeconds": "0", "FifoQueue": "true",
        "FifoThroughputLimit": "perQueue", "MessageRetentionPeriod": "345600", "ReceiveMessageWaitTimeSeconds": "0",
        "VisibilityTimeout": "30"}
    assert after["ContentBasedDeduplication"] == "false"


def test_zero_delay_takes_the_queue_delay(sqs: Any, backend: Backend, name: str) -> None:
    """SQS ``test_fifo_queue_send_message_with_zero_delay_defaults_to_queue_delay[sqs]``: ``DelaySeconds=0`` on a
    FIFO send is accepted and the queue's delay applies."""
    url = fifo_queue(sqs, name, ContentBasedDeduplication="true", DelaySeconds="2")
    sqs.send_message(QueueUrl=url, MessageBody="message-1", MessageGroupId="1", DelaySeconds=0)
    early = receive(sqs, url)
    backend.advance(3)
    assert (bodies(early), bodies(receive(sqs, url, MaxNumberOfMessages=1))) == ([], ["message-1"])


def test_expired_fifo_receipt_handle(sqs: Any, backend: Backend, name: str) -> None:
    """SQS ``test_fifo_delete_after_visibility_timeout[sqs]`` / ``delete_after_timeout_fifo``."""
    url = fifo_queue(sqs, name, VisibilityTimeout="1", ContentBasedDeduplication="true")
    sqs.send_message(QueueUrl=url, MessageBody="foobar", MessageGroupId="1")
    handle = receive(sqs, url)["Messages"][0]["ReceiptHandle"]
    backend.advance(1.5)
    receive(sqs, url)
    response = error_of(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=handle))
    assert_error(response, "InvalidParameterValue", f"Value {handle} for parameter ReceiptHandle is invalid. Reason: "
                 "The receipt handle has expired.", query="InvalidParameterValueException")


def test_publish_to_fifo_topic_returns_sequence_number(sns: Any, name: str) -> None:
    """``Publish``: "SequenceNumber ... This response element applies only to FIFO (first-in-first-out) topics"
    (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html); it grows per group."""
    topic = fifo_topic(sns, name, ContentBasedDeduplication="true")
    first = sns.publish(TopicArn=topic, Message="one", MessageGroupId="g")
    second = sns.publish(TopicArn=topic, Message="two", MessageGroupId="g")
    standard = sns.publish(TopicArn=sns.create_topic(Name=name)["TopicArn"], Message="m")
    assert int(second["SequenceNumber"]) > int(first["SequenceNumber"])
    assert "SequenceNumber" not in standard


def test_publish_batch_to_fifo_topic_returns_sequence_numbers(sns: Any, name: str) -> None:
    """SNS ``test_publish_fifo_messages_to_dlq[True]`` / ``publish-batch-response-fifo``: each successful entry has
    its ``SequenceNumber``."""
    topic = fifo_topic(sns, name)
    response = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": str(n), "Message": f"m{n}", "MessageGroupId": "g", "MessageDeduplicationId": f"d{n}"}
        for n in (1, 2, 3)])
    assert response["Failed"] == []
    assert [sorted(entry) for entry in response["Successful"]] == [["Id", "MessageId", "SequenceNumber"]] * 3


def test_fifo_topic_attributes(sns: Any, name: str) -> None:
    """SNS ``test_create_topic_with_attributes`` / ``get-topic-attrs``: the attributes listed, with SNS's
    ``EffectiveDeliveryPolicy`` and no empty ``DeliveryPolicy``."""
    topic = sns.create_topic(Name=f"{name}.fifo", Attributes={"DisplayName": "TestTopic", "SignatureVersion": "2",
                                                              "FifoTopic": "true"})["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert sorted(attributes) == ["ContentBasedDeduplication", "DisplayName", "EffectiveDeliveryPolicy", "FifoTopic",
                                  "Owner", "Policy", "SignatureVersion", "SubscriptionsConfirmed",
                                  "SubscriptionsDeleted", "SubscriptionsPending", "TopicArn"]
    assert json.loads(attributes["EffectiveDeliveryPolicy"]) == EFFECTIVE_DELIVERY_POLICY
    assert (attributes["FifoTopic"], attributes["ContentBasedDeduplication"]) == ("true", "false")


def test_subscription_attributes(sns: Any, sqs: Any, name: str) -> None:
    """SNS ``test_validations_for_fifo`` / ``not-fifo-queue`` (and ``test_subscribe_attributes``): a standard
    queue subscribed to a FIFO topic; the attributes include ``SubscriptionPrincipal``."""
    topic = fifo_topic(sns, name)
    url = queue(sqs, name)
    arn = subscribe(sns, sqs, topic, url)
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert sorted(attributes) == ["ConfirmationWasAuthenticated", "Endpoint", "Owner", "PendingConfirmation",
                                  "Protocol", "RawMessageDelivery", "SubscriptionArn", "SubscriptionPrincipal",
                                  "TopicArn"]
    assert (attributes["Endpoint"], attributes["RawMessageDelivery"], attributes["PendingConfirmation"]) == (
        queue_arn(sqs, url), "false", "false")
