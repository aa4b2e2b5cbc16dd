"""FIFO message group visibility: which messages a receive returns while others of their group are in flight, and
in which order groups come back. Recorded against AWS by LocalStack (``recorded.LOCALSTACK``): snapshot entries of
``tests/aws/services/sqs/test_sqs.snapshot.json`` and AWS-validated tests of ``tests/aws/services/sqs/test_sqs.py``,
named in each case (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.conftest import Backend
from tests.conformance.helpers import bodies, fifo_queue, receive

pytestmark = pytest.mark.area("group visibility")


def send(sqs: Any, url: str, *messages: tuple[str, str]) -> None:
    for body, group in messages:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)


def test_emptied_group_is_served_again(sqs: Any, name: str) -> None:
    """Snapshot ``test_fifo_empty_message_groups_added_back_to_queue[sqs]``."""
    url = fifo_queue(sqs, name)
    sqs.send_message(QueueUrl=url, MessageDeduplicationId="1", MessageGroupId="g1", MessageBody="Message 1")
    first = receive(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["Messages"][0]["ReceiptHandle"])
    empty = receive(sqs, url)
    sqs.send_message(QueueUrl=url, MessageDeduplicationId="2", MessageGroupId="g1", MessageBody="Message 2")
    assert (bodies(first), bodies(empty), bodies(receive(sqs, url))) == (["Message 1"], [], ["Message 2"])


@pytest.mark.parametrize(("position", "visible"), [(0, []), (1, ["foo"]), (2, ["foo", "bar"])],
                         ids=["0-visible", "1-visible", "2-visible"])
def test_extended_visibility_holds_the_rest_of_the_group(sqs: Any, backend: Backend, name: str, position: int,
                                                         visible: list[str]) -> None:
    """Snapshot ``test_fifo_group_visibility_extends_with_change_message_visibility[sqs-<n>-visible]``: after the
    others time out, the group's messages before the extended one come back, it and those after it do not."""
    url = fifo_queue(sqs, name, VisibilityTimeout="1")
    for body in ("foo", "bar", "baz"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="1", MessageDeduplicationId=body)
    everything = receive(sqs, url, MaxNumberOfMessages=5)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=everything["Messages"][position]["ReceiptHandle"],
                                  VisibilityTimeout=4)
    backend.advance(2.5)
    assert bodies(everything) == ["foo", "bar", "baz"]
    assert bodies(receive(sqs, url, MaxNumberOfMessages=5)) == visible


def test_released_group_comes_after_waiting_groups(sqs: Any, name: str) -> None:
    """AWS-validated ``test_fifo_message_group_visibility_after_terminate_visibility_timeout``: a message made
    visible again (``ChangeMessageVisibility`` 0) is returned, after the group that was waiting."""
    url = fifo_queue(sqs, name, VisibilityTimeout="30", ContentBasedDeduplication="true")
    send(sqs, url, ("g1-m1", "group-1"), ("g1-m2", "group-1"), ("g2-m1", "group-2"))
    first = receive(sqs, url, MaxNumberOfMessages=2)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["Messages"][0]["ReceiptHandle"],
                                  VisibilityTimeout=0)
    assert bodies(first) == ["g1-m1", "g1-m2"]
    assert bodies(receive(sqs, url, MaxNumberOfMessages=3)) == ["g2-m1", "g1-m1"]


def test_timed_out_group_comes_after_waiting_groups(sqs: Any, backend: Backend, name: str) -> None:
    """AWS-validated ``test_fifo_message_group_visibility_after_change_message_visibility``: the same after a
    visibility timeout of 1 second expired."""
    url = fifo_queue(sqs, name, VisibilityTimeout="30", ContentBasedDeduplication="true")
    send(sqs, url, ("g1-m1", "group-1"), ("g1-m2", "group-1"), ("g2-m1", "group-2"))
    first = receive(sqs, url, MaxNumberOfMessages=2)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["Messages"][0]["ReceiptHandle"],
                                  VisibilityTimeout=1)
    backend.advance(2)
    assert bodies(receive(sqs, url, MaxNumberOfMessages=3)) == ["g2-m1", "g1-m1"]


def test_receive_with_zero_visibility_timeout(sqs: Any, name: str) -> None:
    """AWS-validated ``test_fifo_receive_message_with_zero_visibility_timeout``: groups served by a receive go
    behind the groups not served yet."""
    url = fifo_queue(sqs, name, ContentBasedDeduplication="true")
    send(sqs, url, ("g1-m1", "group-1"), ("g2-m1", "group-2"), ("g2-m2", "group-2"), ("g3-m1", "group-3"),
         ("g1-m2", "group-1"))
    first = receive(sqs, url, MaxNumberOfMessages=3, VisibilityTimeout=0)
    assert bodies(first) == ["g1-m1", "g1-m2", "g2-m1"]
    assert bodies(receive(sqs, url, MaxNumberOfMessages=10, VisibilityTimeout=0)) == [
        "g3-m1", "g1-m1", "g1-m2", "g2-m1", "g2-m2"]


def test_in_flight_group_is_skipped(sqs: Any, name: str) -> None:
    """AWS-validated ``test_fifo_approximate_number_of_messages_not_visible``: one receive per group; the counts
    show the received messages as not visible and the rest of their groups as visible."""
    url = fifo_queue(sqs, name, ContentBasedDeduplication="True", VisibilityTimeout="60")
    send(sqs, url, *[(f"message-{n}", str((n + 1) // 2)) for n in range(1, 7)])
    groups = [receive(sqs, url, MaxNumberOfMessages=1, MessageSystemAttributeNames=["MessageGroupId"])
              ["Messages"][0]["Attributes"]["MessageGroupId"] for _ in range(2)]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed"])["Attributes"]
    assert groups == ["1", "2"]
    assert counts == {"ApproximateNumberOfMessages": "4", "ApproximateNumberOfMessagesNotVisible": "2",
                      "ApproximateNumberOfMessagesDelayed": "0"}
