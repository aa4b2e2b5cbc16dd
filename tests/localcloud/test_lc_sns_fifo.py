"""SNS FIFO behaviours (topic deduplication, raw delivery, body filter policies), against the local cloud."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.localcloud.lc_support import body, receive_all

pytestmark = pytest.mark.e2e


def publish(sns: Any, topic: str, message: str, group: str, dedup: str | None = None, **kwargs: Any) -> str:
    args: dict[str, Any] = {"TopicArn": topic, "Message": message, "MessageGroupId": group, **kwargs}
    if dedup is not None:
        args["MessageDeduplicationId"] = dedup
    message_id: str = sns.publish(**args)["MessageId"]
    return message_id


def consume(sqs: Any, url: str, tag: str) -> list[dict[str, Any]]:
    """Receive and delete the messages of this test (bodies carrying ``tag``)."""
    mine = []
    for m in receive_all(sqs, url):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if tag in m["Body"]:
            mine.append(m)
    return mine


def test_topic_deduplicates_by_deduplication_id_within_five_minutes(cloud: LocalCloud, sns: Any, sqs: Any,
                                                                    tag: str) -> None:
    """An SNS FIFO topic drops a publish whose deduplication id it saw in the last 5 minutes.

    https://docs.aws.amazon.com/sns/latest/dg/fifo-message-dedup.html
    """
    # Given a message published and already consumed by the subscribed queue
    topic, url = cloud.outputs["EventsTopicArn"], cloud.outputs["InboxUrl"]
    first = publish(sns, topic, body(tag, kind="event"), tag, dedup=tag)
    assert len(consume(sqs, url, tag)) == 1
    # When it is published again with the same deduplication id
    second = publish(sns, topic, body(tag, kind="event"), tag, dedup=tag)
    # Then the publish is accepted and nothing is delivered again
    assert second == first
    assert consume(sqs, url, tag) == []


def test_content_based_deduplication_on_the_topic(cloud: LocalCloud, sns: Any, sqs: Any, tag: str) -> None:
    """With ContentBasedDeduplication the topic deduplicates on the SHA-256 of the message body.

    https://docs.aws.amazon.com/sns/latest/dg/fifo-message-dedup.html
    """
    # Given a content-deduplicating FIFO topic with a FIFO queue (no content dedup of its own) subscribed
    topic, url = cloud.outputs["ContentTopicArn"], cloud.outputs["ContentInboxUrl"]
    # When the same body is published twice and another body once
    publish(sns, topic, body(tag, 1), tag)
    publish(sns, topic, body(tag, 1), tag)
    publish(sns, topic, body(tag, 2), tag)
    # Then the queue gets the two distinct messages, with the topic's deduplication id
    delivered = consume(sqs, url, tag)
    assert [m["Body"] for m in delivered] == [body(tag, 1), body(tag, 2)]
    assert all(m["Attributes"].get("MessageDeduplicationId") for m in delivered)


def test_raw_delivery_body_is_exactly_the_published_message(cloud: LocalCloud, sns: Any, sqs: Any, tag: str) -> None:
    """With raw message delivery the SQS body is the published message, without the SNS JSON envelope,
    and message attributes become SQS message attributes.

    https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html
    """
    # Given a raw subscription
    topic, url = cloud.outputs["EventsTopicArn"], cloud.outputs["InboxUrl"]
    message = json.dumps({"tag": tag, "kind": "event", "text": "héllo"}, ensure_ascii=False)
    # When a message with an attribute is published
    publish(sns, topic, message, tag, dedup=tag,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "event"}})
    # Then the queue body is byte for byte the message and the attribute is carried
    [delivered] = consume(sqs, url, tag)
    assert delivered["Body"] == message
    assert delivered["MessageAttributes"]["kind"]["StringValue"] == "event"


def test_filter_policy_on_message_body_delivers_matching_messages(cloud: LocalCloud, sns: Any, sqs: Any,
                                                                  tag: str) -> None:
    """A subscription with FilterPolicyScope MessageBody receives messages whose body matches the policy.

    https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html
    """
    # Given a subscription filtering on body {"kind": ["event"]}
    topic, url = cloud.outputs["EventsTopicArn"], cloud.outputs["FilteredUrl"]
    # When a matching message is published
    publish(sns, topic, body(tag, kind="event"), tag, dedup=tag)
    # Then it is delivered
    assert [m["Body"] for m in consume(sqs, url, tag)] == [body(tag, kind="event")]
    consume(sqs, cloud.outputs["InboxUrl"], tag)


def test_filter_policy_on_message_body_drops_other_messages(cloud: LocalCloud, sns: Any, sqs: Any, tag: str) -> None:
    """Messages whose body does not match the subscription's filter policy are not delivered to it,
    while unfiltered subscriptions still get them.

    https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html
    """
    # Given a filtered and an unfiltered subscription
    topic = cloud.outputs["EventsTopicArn"]
    # When a non-matching message is published
    publish(sns, topic, body(tag, kind="command"), tag, dedup=tag)
    # Then only the unfiltered queue receives it
    assert consume(sqs, cloud.outputs["FilteredUrl"], tag) == []
    assert len(consume(sqs, cloud.outputs["InboxUrl"], tag)) == 1


def test_fifo_topic_keeps_order_and_group_into_fifo_queues(cloud: LocalCloud, sns: Any, sqs: Any, tag: str) -> None:
    """SNS FIFO delivers to subscribed SQS FIFO queues in publish order per group, keeping the MessageGroupId.

    https://docs.aws.amazon.com/sns/latest/dg/fifo-message-delivery.html
    """
    # Given five messages published in one group
    topic, url = cloud.outputs["EventsTopicArn"], cloud.outputs["InboxUrl"]
    for n in range(5):
        publish(sns, topic, body(tag, n, kind="event"), tag, dedup=f"{tag}-{n}")
    # When the queue is read, Then they arrive in order with the group id
    delivered = consume(sqs, url, tag)
    assert [m["Body"] for m in delivered] == [body(tag, n, kind="event") for n in range(5)]
    assert {m["Attributes"]["MessageGroupId"] for m in delivered} == {tag}
    consume(sqs, cloud.outputs["FilteredUrl"], tag)


def test_fifo_topic_requires_message_group_id(cloud: LocalCloud, sns: Any) -> None:
    """Publishing to a FIFO topic requires a MessageGroupId.

    https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
    """
    # Given a FIFO topic, When a message without group id is published, Then it is rejected
    with pytest.raises(ClientError) as error:
        sns.publish(TopicArn=cloud.outputs["EventsTopicArn"], Message="x", MessageDeduplicationId="x")
    assert error.value.response["Error"]["Code"] == "InvalidParameter"
