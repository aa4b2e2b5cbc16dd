"""A FIFO queue's ``DeduplicationScope`` changed after creation applies once the change has propagated (60 s on the
local clock): right after the change the queue still deduplicates queue-wide, as recorded against AWS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from localcloud import LocalCloud
from localcloud.sqs.patches import ATTRIBUTE_PROPAGATION_SECONDS

pytestmark = pytest.mark.integration


@pytest.fixture
def local() -> Iterator[LocalCloud]:
    with LocalCloud() as cloud:
        yield cloud


def send_and_receive(sqs: Any, url: str, group: str) -> list[str]:
    sqs.send_message(QueueUrl=url, MessageBody=group, MessageGroupId=group, MessageDeduplicationId="same")
    messages = sqs.receive_message(QueueUrl=url).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [m["Body"] for m in messages]


def test_message_group_scope_applies_after_propagation(local: LocalCloud) -> None:
    # Given a FIFO queue with queue-wide deduplication that has seen the id "same"
    sqs = local.client("sqs")
    url = sqs.create_queue(QueueName="scope.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    assert send_and_receive(sqs, url, "g1") == ["g1"]
    # When the scope is switched to messageGroup
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DeduplicationScope": "messageGroup"})
    # Then another group's "same" is still a duplicate right away
    assert send_and_receive(sqs, url, "g2") == []
    # And once the change has propagated, the id is scoped to the group
    local.clock.advance(ATTRIBUTE_PROPAGATION_SECONDS)
    assert send_and_receive(sqs, url, "g3") == ["g3"]
    assert send_and_receive(sqs, url, "g3") == []
