"""SNS validation errors (query protocol: ``Error.Code``, ``Error.Message``, status).

Each case is an entry of LocalStack's ``tests/aws/services/sns/test_sns.snapshot.json`` (recorded against AWS,
``recorded.LOCALSTACK``), named in its docstring as ``<test name>`` / ``<entry>``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conformance.recorded import assert_error, error_of

pytestmark = pytest.mark.area("errors")

TOPIC_NAME = "Invalid parameter: Topic Name"
DIFFERENT = "Invalid parameter: Attributes Reason: Topic already exists with different attributes"


def fifo_topic(sns: Any, name: str, **attributes: str) -> str:
    arn: str = sns.create_topic(Name=f"{name}.fifo", Attributes={"FifoTopic": "true", **attributes})["TopicArn"]
    return arn


def queue_arn(sqs: Any, url: str) -> str:
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return arn


@pytest.mark.parametrize("char", [":", ";", "!", "@", "|", "^", "%", " "])
def test_topic_name_with_invalid_character(sns: Any, name: str, char: str) -> None:
    """``test_create_topic_name_constraints`` / ``name-invalid-char-<n>``."""
    response = error_of(lambda: sns.create_topic(Name=f"bad{char}name"))
    assert_error(response, "InvalidParameter", TOPIC_NAME)


@pytest.mark.parametrize(("topic", "attributes"), [
    ("a" * 257, {}), ("test.fifo", {}), ("test", {"FifoTopic": "true"}),
], ids=["name-too-long", "name-contains-fifo", "fifo-name-not-contains-fifo"])
def test_topic_name_constraints(sns: Any, topic: str, attributes: dict[str, str]) -> None:
    """``test_create_topic_name_constraints`` / ``name-too-long``, ``name-contains-fifo``,
    ``fifo-name-not-contains-fifo`` (a name of 256 characters is valid: ``valid-name-max-length``)."""
    assert sns.create_topic(Name="a" * 256)["TopicArn"].endswith("a" * 256)
    response = error_of(lambda: sns.create_topic(Name=topic, Attributes=attributes))
    assert_error(response, "InvalidParameter", TOPIC_NAME)


def test_create_existing_topic_with_other_attributes(sns: Any, name: str) -> None:
    """``test_create_topic_different_attrs`` / ``create-topic-diff-attrs``, ``create-topic-new-attrs``,
    ``create-topic-new-and-same-attrs`` (no attributes, the same ones, or ``FifoTopic=false`` answer with the topic)."""
    arn = sns.create_topic(Name=name, Attributes={"DisplayName": "Value1"})["TopicArn"]
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "Value1"})["TopicArn"] == arn
    assert sns.create_topic(Name=name, Attributes={"FifoTopic": "false"})["TopicArn"] == arn
    for attributes in ({"DisplayName": "Value2"}, {"SignatureVersion": "2"},
                       {"SignatureVersion": "2", "DisplayName": "Value1"}):
        assert_error(error_of(lambda a=attributes: sns.create_topic(Name=name, Attributes=a)),  # type: ignore[misc]
                     "InvalidParameter", DIFFERENT)


def test_create_existing_standard_topic_as_fifo(sns: Any, name: str) -> None:
    """``test_create_topic_different_attrs`` / ``create-topic-new-attrs-fifo``."""
    sns.create_topic(Name=name, Attributes={"DisplayName": "Value1"})
    response = error_of(lambda: sns.create_topic(Name=name, Attributes={"FifoTopic": "true"}))
    assert_error(response, "InvalidParameter", TOPIC_NAME)


def test_standard_topic_created_with_fifo_false(sns: Any, name: str) -> None:
    """``test_topic_get_attributes_with_fifo_false`` / ``get-attrs-standard-topic`` (no ``FifoTopic``,
    ``ContentBasedDeduplication`` or empty ``DeliveryPolicy``; ``EffectiveDeliveryPolicy`` present) and
    ``set-fifo-false-after-creation``."""
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "false"})["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert sorted(attributes) == ["DisplayName", "EffectiveDeliveryPolicy", "Owner", "Policy",
                                  "SubscriptionsConfirmed", "SubscriptionsDeleted", "SubscriptionsPending", "TopicArn"]
    response = error_of(lambda: sns.set_topic_attributes(TopicArn=arn, AttributeName="FifoTopic",
                                                         AttributeValue="false"))
    assert_error(response, "InvalidParameter", "Invalid parameter: AttributeName")


def test_topic_that_does_not_exist(sns: Any, name: str) -> None:
    """``test_create_topic_with_attributes`` / ``get-attrs-nonexistent-topic``."""
    response = error_of(lambda: sns.get_topic_attributes(TopicArn=f"arn:aws:sns:us-east-1:123456789012:{name}"))
    assert_error(response, "NotFound", "Topic does not exist", status=404)


def test_fifo_publish_without_group_id(sns: Any, name: str) -> None:
    """``test_validations_for_fifo`` / ``no-msg-group-id``."""
    arn = fifo_topic(sns, name)
    response = error_of(lambda: sns.publish(TopicArn=arn, Message="test"))
    assert_error(response, "InvalidParameter",
                 "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")


def test_fifo_publish_without_deduplication_id(sns: Any, name: str) -> None:
    """``test_validations_for_fifo`` / ``no-dedup-policy``."""
    arn = fifo_topic(sns, name)
    response = error_of(lambda: sns.publish(TopicArn=arn, Message="test", MessageGroupId="g"))
    assert_error(response, "InvalidParameter",
                 "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
                 "MessageDeduplicationId provided explicitly")


def test_standard_publish_with_deduplication_id(sns: Any, name: str) -> None:
    """``test_validations_for_fifo`` / ``no-msg-dedup-regular-topic``."""
    arn = sns.create_topic(Name=name)["TopicArn"]
    response = error_of(lambda: sns.publish(TopicArn=arn, Message="test", MessageDeduplicationId="d"))
    assert_error(response, "InvalidParameter",
                 "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
                 "parameter that is not valid for this topic type")


def test_fifo_queue_subscribed_to_standard_topic(sns: Any, sqs: Any, name: str) -> None:
    """``test_validations_for_fifo`` / ``not-fifo-topic``."""
    arn = sns.create_topic(Name=name)["TopicArn"]
    url = sqs.create_queue(QueueName=f"{name}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    response = error_of(lambda: sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, url)))
    assert_error(response, "InvalidParameter",
                 "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to "
                 "standard SNS topics")


def test_standard_dead_letter_queue_for_fifo_subscription(sns: Any, sqs: Any, name: str) -> None:
    """``test_validations_for_fifo`` / ``regular-queue-for-dlq-of-fifo-topic``."""
    arn = fifo_topic(sns, name)
    url = sqs.create_queue(QueueName=f"{name}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    subscription = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn(sqs, url))["SubscriptionArn"]
    response = error_of(lambda: sns.set_subscription_attributes(
        SubscriptionArn=subscription, AttributeName="RedrivePolicy",
        AttributeValue=json.dumps({"deadLetterTargetArn": queue_arn(sqs, dlq)})))
    assert_error(response, "InvalidParameter", "Invalid parameter: RedrivePolicy: must use a FIFO queue as DLQ for "
                 "a FIFO Subscription to a FIFO Topic.")


@pytest.mark.parametrize(("entries", "code", "message"), [
    ([{"Id": "1", "Message": "Test message without Group ID"}], "InvalidParameter",
     "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"),
    ([{"Id": f"Id_{i}", "Message": "Too many messages"} for i in range(11)], "TooManyEntriesInBatchRequest",
     "The batch request contains more entries than permissible."),
    ([{"Id": "1", "Message": "Messages with the same ID"} for _ in range(2)], "BatchEntryIdsNotDistinct",
     "Two or more batch entries in the request have the same Id."),
    ([{"Id": "1", "Message": "Test message without MessageDeduplicationId", "MessageGroupId": "msg1"}],
     "InvalidParameter", "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
     "MessageDeduplicationId provided explicitly"),
], ids=["no-group-id", "too-many-msg", "same-msg-id", "no-dedup-id"])
def test_fifo_publish_batch_errors(sns: Any, name: str, entries: list[dict[str, str]], code: str,
                                   message: str) -> None:
    """``test_publish_batch_exceptions`` / ``<id>``."""
    arn = fifo_topic(sns, name)
    response = error_of(lambda: sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=entries))
    assert_error(response, code, message)


@pytest.mark.parametrize("entry_id", ["message.id", "msg@123#test", "a" * 81])
def test_publish_batch_with_invalid_entry_id(sns: Any, name: str, entry_id: str) -> None:
    """``test_publish_batch_invalid_entry_id`` / ``invalid-char-dot``, ``invalid-char-special``, ``id-too-long-81``
    (80 characters are valid)."""
    arn = sns.create_topic(Name=name)["TopicArn"]
    assert sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[{"Id": "a" * 80, "Message": "m"}])["Successful"]
    response = error_of(lambda: sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[{"Id": entry_id,
                                                                                            "Message": "m"}]))
    reason = ("contains an impermissible character: " + entry_id if len(entry_id) <= 80
              else "is too long: " + entry_id)
    assert_error(response, "InvalidBatchEntryId", f"The Id of a batch entry in the batch request {reason}")
