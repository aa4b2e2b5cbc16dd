"""SQS FIFO behaviours, as AWS documents them, against the local cloud."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.localcloud.lc_support import body, receive_all, send

pytestmark = pytest.mark.e2e

DEDUP_DOC = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html"


def ad_hoc_fifo(sqs: Any, name: str, **attributes: str) -> str:
    url: str = sqs.create_queue(QueueName=f"{name}.fifo", Attributes={"FifoQueue": "true", **attributes})["QueueUrl"]
    return url


def test_duplicate_within_five_minutes_is_not_delivered_even_after_delete(
    cloud: LocalCloud, sqs: Any, tag: str
) -> None:
    """A deduplication id seen in the last 5 minutes is accepted and not delivered, also once the first was deleted.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html
    """
    # Given a message sent, received and deleted
    url = cloud.outputs["InboxUrl"]
    first = send(sqs, url, tag, 1, tag)
    [message] = receive_all(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    # When the same deduplication id is sent again within the window
    again = send(sqs, url, tag, 1, tag)
    # Then it is accepted (same message id) but not delivered
    assert again["MessageId"] == first["MessageId"]
    assert receive_all(sqs, url) == []


def test_deduplication_window_closes_after_five_minutes(cloud: LocalCloud, sqs: Any, tag: str) -> None:
    """After the 5-minute deduplication interval the same id is a new message.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html
    """
    # Given a delivered and deleted message
    url = cloud.outputs["InboxUrl"]
    send(sqs, url, tag, 1, tag)
    [message] = receive_all(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    # When more than 5 minutes pass and it is sent again
    cloud.clock.advance(301)
    send(sqs, url, tag, 1, tag)
    # Then it is delivered again
    [again] = receive_all(sqs, url)
    assert again["MessageId"] != message["MessageId"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])


def test_content_based_deduplication_uses_the_body(sqs: Any, tag: str) -> None:
    """With ContentBasedDeduplication the SHA-256 of the body is the deduplication id.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
    """
    # Given a FIFO queue with content-based deduplication
    url = ad_hoc_fifo(sqs, f"content-{tag}", ContentBasedDeduplication="true")
    # When the same body is sent twice, and another body once
    for text in ("same", "same", "other"):
        sqs.send_message(QueueUrl=url, MessageBody=text, MessageGroupId="g")
    # Then two messages are delivered
    assert [m["Body"] for m in receive_all(sqs, url)] == ["same", "other"]


def test_message_group_deduplication_scope(sqs: Any, tag: str) -> None:
    """With DeduplicationScope=messageGroup a deduplication id is only a duplicate within its group.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/high-throughput-fifo.html
    """
    # Given a high-throughput FIFO queue
    url = ad_hoc_fifo(sqs, f"scope-{tag}", DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    # When one deduplication id is used in two groups, and twice in one of them
    for group in ("a", "b", "a"):
        sqs.send_message(QueueUrl=url, MessageBody=group, MessageGroupId=group, MessageDeduplicationId="same")
    # Then one message per group is delivered
    assert sorted(m["Body"] for m in receive_all(sqs, url)) == ["a", "b"]


def test_sequence_number_increases_within_a_group(cloud: LocalCloud, sqs: Any, tag: str) -> None:
    """Each message gets a large, non-consecutive SequenceNumber that increases within its message group.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
    """
    # Given five messages sent to one group
    url = cloud.outputs["InboxUrl"]
    numbers = [send(sqs, url, tag, n, tag)["SequenceNumber"] for n in range(5)]
    # When they are received
    received = receive_all(sqs, url)
    # Then the numbers increase and the receiver sees the same ones
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers)
    assert len(set(numbers)) == 5
    assert [m["Attributes"]["SequenceNumber"] for m in received] == numbers
    for m in received:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_order_within_a_group_is_kept(cloud: LocalCloud, sqs: Any, tag: str) -> None:
    """Messages of one message group are received in the order they were sent.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html
    """
    # Given ten messages sent in one group
    url = cloud.outputs["InboxUrl"]
    for n in range(10):
        send(sqs, url, tag, n, tag)
    # When received, a few at a time, deleting each batch
    order: list[str] = []
    while len(order) < 10:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3).get("Messages", [])
        assert batch
        order.extend(m["Body"] for m in batch)
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    # Then the order is the send order
    assert order == [body(tag, n) for n in range(10)]


def test_group_with_messages_in_flight_is_locked_while_other_groups_flow(cloud: LocalCloud, sqs: Any,
                                                                         tag: str) -> None:
    """While a group has messages in flight, no further message of it is returned; other groups are.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html
    """
    # Given two messages in group A and one in group B
    url = cloud.outputs["InboxUrl"]
    send(sqs, url, tag, 1, f"{tag}-A")
    send(sqs, url, tag, 2, f"{tag}-A")
    send(sqs, url, tag, 3, f"{tag}-B")
    # When the first message of A is received (and kept in flight)
    [first] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    # Then further receives return group B only
    rest = receive_all(sqs, url)
    assert first["Body"] == body(tag, 1)
    assert [m["Body"] for m in rest] == [body(tag, 3)]
    # And once A's first message is deleted, A's second one flows
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert [m["Body"] for m in receive_all(sqs, url)] == [body(tag, 2)]
    sqs.purge_queue(QueueUrl=url)


def test_a_receive_returns_as_many_messages_of_one_group_as_possible(cloud: LocalCloud, sqs: Any, tag: str) -> None:
    """SQS first returns as many messages of the same group as possible, so other consumers get the other groups.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html
    """
    # Given an interleaved backlog: A1 B1 A2 B2 A3 B3
    url = cloud.outputs["InboxUrl"]
    for n in range(3):
        send(sqs, url, tag, 2 * n, f"{tag}-A")
        send(sqs, url, tag, 2 * n + 1, f"{tag}-B")
    # When one consumer receives three messages and a second consumer receives next
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3, MessageSystemAttributeNames=["All"])["Messages"]
    second = receive_all(sqs, url)
    # Then the first batch is all of group A, in order, and group B is left whole for the second consumer
    assert [m["Body"] for m in first] == [body(tag, 0), body(tag, 2), body(tag, 4)]
    assert [m["Body"] for m in second] == [body(tag, 1), body(tag, 3), body(tag, 5)]
    for message in first + second:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_in_flight_message_reappears_after_visibility_timeout(cloud: LocalCloud, sqs: Any, tag: str) -> None:
    """A received, undeleted message is invisible for the visibility timeout, then received again.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
    """
    # Given a received message that is not deleted (queue visibility timeout 2 s)
    url = cloud.outputs["InboxUrl"]
    send(sqs, url, tag, 1, tag)
    [message] = receive_all(sqs, url)
    # When the timeout has not passed, Then it is invisible
    assert receive_all(sqs, url) == []
    # When it passes, Then the same message is received again with a higher receive count
    cloud.clock.advance(2.1)
    [again] = receive_all(sqs, url)
    assert again["MessageId"] == message["MessageId"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])


def test_redrive_to_dead_letter_queue_after_max_receive_count(cloud: LocalCloud, sqs: Any, tag: str) -> None:
    """Once received maxReceiveCount times without deletion, the message moves to the dead-letter queue.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
    """
    # Given a queue with maxReceiveCount 2 and a message received twice without deletion
    url, dlq = cloud.outputs["InboxUrl"], cloud.outputs["InboxDlqUrl"]
    send(sqs, url, tag, 1, tag)
    for _ in range(2):
        assert receive_all(sqs, url)
        cloud.clock.advance(2.1)
    # When the queue is read again
    assert receive_all(sqs, url) == []
    # Then the message is in the dead-letter queue, same id and group
    moved = [m for m in receive_all(sqs, dlq) if m["Body"] == body(tag, 1)]
    assert len(moved) == 1
    assert moved[0]["Attributes"]["MessageGroupId"] == tag
    sqs.delete_message(QueueUrl=dlq, ReceiptHandle=moved[0]["ReceiptHandle"])


def test_long_poll_returns_as_soon_as_the_group_unlocks(cloud: LocalCloud, sqs: Any, tag: str) -> None:
    """Long polling returns as soon as a message is available instead of waiting out WaitTimeSeconds.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html
    """
    # Given group A locked by an in-flight message, with a second message waiting behind it
    url = cloud.outputs["InboxUrl"]
    send(sqs, url, tag, 1, tag)
    send(sqs, url, tag, 2, tag)
    [first] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    got: list[dict[str, Any]] = []
    poll = threading.Thread(target=lambda: got.extend(
        cloud.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])))
    started = time.monotonic()
    poll.start()
    # When the in-flight message is deleted
    time.sleep(0.2)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    poll.join()
    # Then the long poll returns the next message promptly
    assert time.monotonic() - started < 2
    assert [m["Body"] for m in got] == [body(tag, 2)]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])


def test_message_group_id_is_required(cloud: LocalCloud, sqs: Any) -> None:
    """MessageGroupId is required for FIFO queues.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
    """
    # Given a FIFO queue, When a message without group id is sent, Then it is rejected
    with pytest.raises(ClientError) as error:
        sqs.send_message(QueueUrl=cloud.outputs["InboxUrl"], MessageBody="x", MessageDeduplicationId="x")
    assert error.value.response["Error"]["Code"] == "MissingParameter"


def test_per_message_delay_is_rejected_on_fifo_queues(cloud: LocalCloud, sqs: Any, tag: str) -> None:
    """FIFO queues don't support per-message delays, only per-queue delays.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-timers.html
    """
    # Given a FIFO queue, When a message with DelaySeconds is sent, Then it is rejected
    with pytest.raises(ClientError) as error:
        sqs.send_message(QueueUrl=cloud.outputs["InboxUrl"], MessageBody="x", MessageGroupId=tag,
                         MessageDeduplicationId=tag, DelaySeconds=5)
    assert error.value.response["Error"]["Code"] == "InvalidParameterValue"
