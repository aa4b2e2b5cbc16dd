"""The outbox relay on in-memory brokers: order per partitionkey through failures and retries, dedup ids that make a
retry or a second relay harmless, dead letters for what the broker refuses for good or what is not an outbox item."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from messaging.producer import InMemoryOutboxStore, OutboxItem, OutboxProducer
from messaging.relay import OutboxRelay, stream_event

pytestmark = pytest.mark.unit

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/orders-commands.fifo"
TOPIC = "arn:aws:sns:us-east-1:123456789012:order-events.fifo"
DLQ = "https://sqs.us-east-1.amazonaws.com/123456789012/outbox-relay-dlq"

Fault = Callable[[dict[str, Any]], tuple[str, bool] | None]


class Broker:
    """SQS and SNS FIFO in one: dedup by MessageDeduplicationId (the 5-minute window), per-entry faults."""

    def __init__(self) -> None:
        self.delivered: list[dict[str, Any]] = []  # what consumers would see, in order
        self.dead_letters: list[dict[str, Any]] = []
        self.dedup: set[str] = set()
        self.calls = 0
        self.fault: Fault = lambda entry: None

    def _batch(self, entries: list[dict[str, Any]], body_key: str) -> dict[str, Any]:
        self.calls += 1
        ok, failed = [], []
        for entry in entries:
            fault = self.fault(entry)
            if fault is not None:
                failed.append({"Id": entry["Id"], "Code": fault[0], "Message": "refused", "SenderFault": fault[1]})
                continue
            ok.append({"Id": entry["Id"], "MessageId": "m"})
            if entry["MessageDeduplicationId"] not in self.dedup:
                self.dedup.add(entry["MessageDeduplicationId"])
                self.delivered.append(json.loads(entry[body_key]))
        return {"Successful": ok, "Failed": failed}

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        return self._batch(kwargs["Entries"], "MessageBody")

    def publish_batch(self, **kwargs: Any) -> dict[str, Any]:
        return self._batch(kwargs["PublishBatchRequestEntries"], "Message")

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs["QueueUrl"] == DLQ
        self.dead_letters.append(kwargs)
        return {"MessageId": "dl"}


def committed(messages: list[tuple[str, str]], destination: str = QUEUE) -> list[OutboxItem]:
    """Outbox items of (partitionkey, id) messages committed in this order."""
    store = InMemoryOutboxStore()
    producer = OutboxProducer("outbox", source="/orders/api", store=store)
    for key, message_id in messages:
        with producer.transaction() as tx:
            tx.send(destination, "orders.CreateOrder", {"n": message_id}, partitionkey=key, id=message_id)
    return store.log


def relay_on(broker: Broker) -> OutboxRelay:
    return OutboxRelay(sqs=broker, sns=broker, dead_letter_queue_url=DLQ, logger=Logger(level="CRITICAL"),  # type: ignore[arg-type]
                       environ=lambda: {"POWERTOOLS_METRICS_DISABLED": "true"})


def run_shard(relay: OutboxRelay, items: list[OutboxItem], *, batch_size: int = 7, max_attempts: int = 50) -> int:
    """What Lambda's stream event source mapping does for one shard: batches in order, each retried from the
    sequence number it reports until it succeeds. Returns the invocations."""
    event = stream_event(items)
    records = event["Records"]
    position, invocations = 0, 0
    while position < len(records):
        invocations += 1
        assert invocations <= max_attempts, "the relay loops"
        batch = records[position : position + batch_size]
        failures = relay.handle({"Records": batch})["batchItemFailures"]
        if not failures:
            position += len(batch)
            continue
        sequence = failures[0]["itemIdentifier"]
        position = next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] == sequence)
    return invocations


def order_by_key(broker: Broker) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for message in broker.delivered:
        seen.setdefault(message["partitionkey"], []).append(message["id"])
    return seen


def test_each_partition_keys_messages_arrive_in_commit_order_through_throttling() -> None:
    # Given 60 messages over 4 customers, committed interleaved, and a broker that throttles every 3rd entry once
    messages = [(f"c-{n % 4}", f"m-{n:02d}") for n in range(60)]
    broker = Broker()
    attempts: dict[str, int] = {}

    def throttle(entry: dict[str, Any]) -> tuple[str, bool] | None:
        message_id = json.loads(entry["MessageBody"])["id"]
        attempts[message_id] = attempts.get(message_id, 0) + 1
        return ("ThrottlingException", True) if int(message_id[2:]) % 3 == 0 and attempts[message_id] == 1 else None

    broker.fault = throttle
    # When the relay runs the shard as Lambda does, retrying from each reported record
    run_shard(relay_on(broker), committed(messages))
    # Then every message arrived once, each customer's in commit order, and nothing was dead-lettered
    expected: dict[str, list[str]] = {}
    for key, message_id in messages:
        expected.setdefault(key, []).append(message_id)
    assert order_by_key(broker) == expected
    assert broker.dead_letters == []


def test_one_call_never_holds_two_messages_of_a_key() -> None:
    # Given 10 messages of one customer and 10 of ten others
    items = committed([("c-hot", f"h-{n}") for n in range(10)] + [(f"c-{n}", f"o-{n}") for n in range(10)])
    broker = Broker()
    groups_per_call: list[list[str]] = []
    original = broker._batch

    def spy(entries: list[dict[str, Any]], body_key: str) -> dict[str, Any]:
        groups_per_call.append([entry["MessageGroupId"] for entry in entries])
        return original(entries, body_key)

    broker._batch = spy  # type: ignore[method-assign]
    # When the relay delivers them in one batch
    relay_on(broker).handle(stream_event(items))
    # Then no call carried a key twice (so a failed entry never has a later one of its key sent with it)
    assert all(len(groups) == len(set(groups)) for groups in groups_per_call)
    assert len(broker.delivered) == 20


def test_a_retried_batch_and_a_second_relay_send_nothing_twice() -> None:
    # Given a batch relayed once, whose checkpoint was lost (the relay crashed after publishing)
    items = committed([(f"c-{n % 3}", f"m-{n}") for n in range(12)], destination=TOPIC)
    broker = Broker()
    relay_on(broker).handle(stream_event(items))
    # When the same batch is relayed again, and by a second relay
    relay_on(broker).handle(stream_event(items))
    relay_on(broker).handle(stream_event(items))
    # Then the broker dropped the copies by their deduplication ids: each message once
    assert sorted(m["id"] for m in broker.delivered) == sorted(f"m-{n}" for n in range(12))


def test_a_refusal_for_good_is_dead_lettered_with_its_reason_and_the_shard_moves_on() -> None:
    # Given a broker that refuses one message as the sender's fault, every time
    items = committed([("c-1", "m-1"), ("c-1", "m-2"), ("c-1", "m-3")])
    broker = Broker()
    broker.fault = lambda e: ("InvalidParameter", True) if json.loads(e["MessageBody"])["id"] == "m-2" else None
    # When the shard runs
    invocations = run_shard(relay_on(broker), items)
    # Then the refused message is in the DLQ with its reason, the others arrived in order, and nothing looped
    assert [m["id"] for m in broker.delivered] == ["m-1", "m-3"]
    assert len(broker.dead_letters) == 1
    attributes = broker.dead_letters[0]["MessageAttributes"]
    assert attributes["failure-code"]["StringValue"] == "delivery_rejected"
    assert "InvalidParameter" in attributes["failure-reason"]["StringValue"]
    assert attributes["destination"]["StringValue"] == QUEUE
    assert json.loads(broker.dead_letters[0]["MessageBody"])["id"] == "m-2"
    assert invocations == 1


def test_records_that_are_not_outbox_items_are_dead_lettered_and_other_records_ignored() -> None:
    # Given a stream batch with a stranger's item, a broken message, a REMOVE (TTL) and a good item
    good = committed([("c-1", "m-1")])
    event = stream_event(good)
    stranger = json.loads(json.dumps(event["Records"][0]))
    stranger["dynamodb"]["NewImage"] = {"pk": {"S": "x"}, "sk": {"S": "y"}}
    broken = json.loads(json.dumps(event["Records"][0]))
    broken["dynamodb"]["NewImage"]["message"] = {"S": "{not json"}
    removed = json.loads(json.dumps(event["Records"][0]))
    removed["eventName"] = "REMOVE"
    broker = Broker()
    # When the relay handles it
    response = relay_on(broker).handle({"Records": [stranger, broken, removed, *event["Records"]]})
    # Then the two bad records are dead-lettered with their codes, the good one is sent, the REMOVE ignored
    assert response == {"batchItemFailures": []}
    codes = [d["MessageAttributes"]["failure-code"]["StringValue"] for d in broker.dead_letters]
    assert codes == ["invalid_outbox_item", "not_json"]
    assert [m["id"] for m in broker.delivered] == ["m-1"]


def test_an_unreachable_broker_stops_the_batch_at_the_first_record_to_retry() -> None:
    # Given a broker whose calls fail with a connection error
    items = committed([("c-1", "m-1"), ("c-2", "m-2")])
    broker = Broker()

    def down(entries: list[dict[str, Any]], body_key: str) -> dict[str, Any]:
        raise ConnectionError("endpoint unreachable")

    broker._batch = down  # type: ignore[method-assign]
    # When the relay handles the batch
    response = relay_on(broker).handle(stream_event(items))
    # Then it reports the first record, so Lambda retries the shard from there
    first = stream_event(items)["Records"][0]["dynamodb"]["SequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": first}]}
    assert broker.dead_letters == []
