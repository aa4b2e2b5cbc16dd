"""SQS FIFO message groups, receipt handles and purges, as AWS documents them, against the local cloud."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.localcloud.lc_support import body, send
from tests.localcloud.test_lc_sqs_fifo import ad_hoc_fifo

pytestmark = pytest.mark.e2e


def bodies(messages: list[dict[str, Any]]) -> list[str]:
    return [m["Body"] for m in messages]


def receive(sqs: Any, url: str, count: int = 10) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count).get("Messages", [])
    return messages


def test_a_message_made_visible_again_is_returned_while_later_ones_of_its_group_are_in_flight(
    sqs: Any, tag: str
) -> None:
    """Terminating the visibility timeout of a group's first message makes it receivable again at once, while the
    group's later message stays in flight: a receive returns a group's messages up to its first one in flight.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html
    """
    # Given g1-m1, g1-m2 and g2-m1, and both g1 messages received (30 s visibility timeout)
    url = ad_hoc_fifo(sqs, f"groups-{tag}", VisibilityTimeout="30")
    send(sqs, url, tag, 1, "g1")
    send(sqs, url, tag, 2, "g1")
    send(sqs, url, tag, 3, "g2")
    first = receive(sqs, url, 2)
    assert bodies(first) == [body(tag, 1), body(tag, 2)]
    # When the visibility of g1-m1 is set to 0
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"], VisibilityTimeout=0)
    # Then a receive returns g1-m1 and g2-m1, not g1-m2 (still in flight)
    again = receive(sqs, url, 3)
    assert sorted(bodies(again)) == sorted([body(tag, 1), body(tag, 3)])
    # And the queue counts g1-m1 and g2-m1 as in flight now, g1-m2 too
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "3"


def test_messages_behind_a_longer_visibility_timeout_wait_and_then_come_back_in_order(
    cloud: LocalCloud, sqs: Any, tag: str
) -> None:
    """When the visibility timeout of a group's middle message is extended and the others' expire, only the messages
    before it are received; once it expires too, the rest of the group comes back in order.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
    """
    # Given three messages of one group received at once (10 s visibility timeout)
    url = ad_hoc_fifo(sqs, f"extend-{tag}", VisibilityTimeout="10")
    for n in range(3):
        send(sqs, url, tag, n, "g")
    received = receive(sqs, url)
    assert bodies(received) == [body(tag, n) for n in range(3)]
    # When the second one's timeout is extended to 40 s and 20 s pass
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=received[1]["ReceiptHandle"], VisibilityTimeout=40)
    cloud.clock.advance(20)
    # Then only the first message is received again (the third waits behind the second)
    assert bodies(receive(sqs, url)) == [body(tag, 0)]
    # And after the extension expires (and the first's second timeout), the whole group comes back in order
    cloud.clock.advance(25)
    assert bodies(receive(sqs, url)) == [body(tag, n) for n in range(3)]
    # And the queue counts visible messages whether or not their group waits: none now, all three in flight
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    counts = (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"])
    assert counts == ("0", "3")


def test_delete_with_an_expired_receipt_handle_fails_on_a_fifo_queue(cloud: LocalCloud, sqs: Any, tag: str) -> None:
    """On a FIFO queue, deleting with a receipt handle whose visibility timeout has expired fails with
    InvalidParameterValue ("The receipt handle has expired.") and the message stays; in a batch, that entry fails.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html
    """
    # Given a message received with a 5 s visibility timeout that expired, and one whose timeout was extended
    url = ad_hoc_fifo(sqs, f"expired-{tag}", VisibilityTimeout="5")
    send(sqs, url, tag, 1, "g")
    send(sqs, url, tag, 2, "h")
    [expired, current] = receive(sqs, url)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=current["ReceiptHandle"], VisibilityTimeout=60)
    cloud.clock.advance(6)
    # When it is deleted with that handle
    with pytest.raises(ClientError) as error:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=expired["ReceiptHandle"])
    # Then the request fails as SQS fails it
    assert error.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert error.value.response["Error"]["Message"] == (
        f"Value {expired['ReceiptHandle']} for parameter ReceiptHandle is invalid. "
        "Reason: The receipt handle has expired.")
    # And in a batch only that entry fails, with the same code, while a current handle deletes its message
    result = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "expired", "ReceiptHandle": expired["ReceiptHandle"]},
        {"Id": "current", "ReceiptHandle": current["ReceiptHandle"]}])
    assert [e["Id"] for e in result["Successful"]] == ["current"]
    assert [(e["Id"], e["Code"], e["SenderFault"]) for e in result["Failed"]] == [
        ("expired", "InvalidParameterValue", True)]
    # And the message of the expired handle is still there
    assert bodies(receive(sqs, url)) == [expired["Body"]]


def test_purge_queue_forgets_the_deduplication_history(sqs: Any, tag: str) -> None:
    """PurgeQueue deletes the queue's messages and its deduplication history: a message with the deduplication id
    of a purged one is delivered.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_PurgeQueue.html
    """
    # Given a message sent to a FIFO queue
    url = ad_hoc_fifo(sqs, f"purge-{tag}")
    first = send(sqs, url, tag, 1, "g")
    # When the queue is purged and the same deduplication id is sent within 5 minutes
    sqs.purge_queue(QueueUrl=url)
    again = send(sqs, url, tag, 1, "g")
    # Then it is a new message and delivered
    assert again["MessageId"] != first["MessageId"]
    assert bodies(receive(sqs, url)) == [body(tag, 1)]
