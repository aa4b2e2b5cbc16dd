"""MessagingClient.notify_batch on two backends (a fake SQS client that fails entries on its own, as AWS may, and
moto): every message checked before any is sent, distinct groups share calls, a group is never reordered, and every
message comes back sent or failed, typed - never dropped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from messaging.client import BatchMessage, MessagingClient
from messaging.codec import CloudEventJsonCodec
from messaging.delivery import PRECEDING_FAILED
from messaging.errors import InvalidRequest, PublishFailed
from messaging.reply_store import InMemoryReplyStore
from tests.support.aws import Messaging, drain

codec = CloudEventJsonCodec()


@dataclass
class FakeSqs:
    """SendMessageBatch in memory: each entry on its own; an entry whose data names a sku in ``fail_skus`` fails
    (InternalError) once."""

    fail_skus: set[str] = field(default_factory=set)
    queue: list[dict[str, Any]] = field(default_factory=list)
    calls: list[list[str]] = field(default_factory=list)

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append([json.loads(e["MessageBody"])["data"]["sku"] for e in kwargs["Entries"]])
        ok, failed = [], []
        for entry in kwargs["Entries"]:
            sku = json.loads(entry["MessageBody"])["data"]["sku"]
            if sku in self.fail_skus:
                self.fail_skus.discard(sku)
                failed.append({"Id": entry["Id"], "Code": "InternalError", "Message": "again", "SenderFault": False})
            else:
                self.queue.append(entry)
                ok.append({"Id": entry["Id"], "MessageId": f"m-{sku}"})
        return {"Successful": ok, "Failed": failed}

    def received(self) -> list[tuple[str, str]]:
        return [(e["MessageGroupId"], json.loads(e["MessageBody"])["data"]["sku"]) for e in self.queue]


@dataclass
class Backend:
    client: MessagingClient
    queue_url: str
    received: Any


@pytest.fixture(params=["fake", "moto"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "fake":
        sqs = FakeSqs()
        client = MessagingClient("https://sqs/replies.fifo", InMemoryReplyStore(), source="/web", sqs_client=sqs)  # type: ignore[arg-type]
        yield Backend(client, "https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo", sqs.received)
        return
    messaging: Messaging = request.getfixturevalue("messaging")
    client = MessagingClient(messaging.replies_url, InMemoryReplyStore(), source="/web", sqs_client=messaging.sqs)

    def received() -> list[tuple[str, str]]:
        return [(m["Attributes"]["MessageGroupId"], codec.decode(m["Body"]).data["sku"])  # type: ignore[index]
                for m in drain(messaging.sqs, messaging.commands_url)]

    yield Backend(client, messaging.commands_url, received)


def orders(*pairs: tuple[str, str]) -> list[BatchMessage]:
    return [BatchMessage("orders.CreateOrder", {"sku": sku}, partitionkey=key) for key, sku in pairs]


def test_twelve_messages_of_distinct_groups_take_two_calls(backend: Backend) -> None:
    # Given twelve one-way messages of twelve customers
    messages = orders(*((f"c-{n}", f"s-{n}") for n in range(12)))
    # When they are sent as a batch
    result = backend.client.notify_batch(backend.queue_url, messages)
    # Then they took two calls (10 + 2), every one was sent and arrived
    assert result.ok and result.calls == 2
    assert [e.data["sku"] for e in result.sent] == [f"s-{n}" for n in range(12)]  # type: ignore[index]
    assert sorted(sku for _, sku in backend.received()) == sorted(f"s-{n}" for n in range(12))


def test_messages_of_one_group_arrive_in_order(backend: Backend) -> None:
    # Given three messages of customer a and one of customer b
    messages = orders(("a", "a1"), ("a", "a2"), ("b", "b1"), ("a", "a3"))
    # When they are sent as a batch
    result = backend.client.notify_batch(backend.queue_url, messages)
    # Then the group's messages arrived in order, one per call (b1 shared the first)
    assert result.ok and result.calls == 3
    assert [sku for key, sku in backend.received() if key == "a"] == ["a1", "a2", "a3"]


def test_a_failed_message_stops_the_rest_of_its_group_and_every_message_is_reported() -> None:
    # Given SQS failing a2 once (an entry reported in Failed)
    sqs = FakeSqs(fail_skus={"a2"})
    client = MessagingClient("https://sqs/replies.fifo", InMemoryReplyStore(), source="/web", sqs_client=sqs)  # type: ignore[arg-type]
    # When a1, a2, a3 (customer a) and b1, b2 (customer b) are sent
    result = client.notify_batch("https://sqs/orders.fifo",
                                 orders(("a", "a1"), ("a", "a2"), ("b", "b1"), ("a", "a3"), ("b", "b2")))
    # Then a3 was not sent after the failed a2 (the group is not reordered); b went through; all five are reported
    assert sqs.received() == [("a", "a1"), ("b", "b1"), ("b", "b2")]
    assert [(e.data["sku"], f.code, f.sender_fault) for e, f in result.failed] == [  # type: ignore[index]
        ("a2", "InternalError", False), ("a3", PRECEDING_FAILED, False)]
    assert len(result.sent) + len(result.failed) == 5
    with pytest.raises(PublishFailed):
        result.raise_for_failures()


def test_a_message_that_fails_its_checks_stops_the_batch_before_anything_is_sent(backend: Backend) -> None:
    # Given a batch whose third message has no valid partition key
    messages = [*orders(("a", "a1"), ("b", "b1")), BatchMessage("orders.CreateOrder", {"sku": "x"}, "not a key!")]
    # When it is sent, Then it is refused and nothing went out
    with pytest.raises(InvalidRequest):
        backend.client.notify_batch(backend.queue_url, messages)
    assert backend.received() == []


def test_a_queue_that_does_not_exist_fails_every_message_typed(messaging: Messaging) -> None:
    # Given a client and a queue URL that names no queue
    client = MessagingClient(messaging.replies_url, InMemoryReplyStore(), source="/web", sqs_client=messaging.sqs)
    missing = messaging.commands_url.replace("commands", "nowhere")
    # When a batch is sent there
    result = client.notify_batch(missing, orders(("a", "a1"), ("b", "b1")))
    # Then each message is reported failed as the sender's fault (the call was tried entry by entry to tell)
    assert [f.sender_fault for _, f in result.failed] == [True, True]
    assert result.sent == []
