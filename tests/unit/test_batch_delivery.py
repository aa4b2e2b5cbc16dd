"""Delivery per Lambda batch (messaging.delivery): calls per batch, order per message group under per-entry failures
(against a naive batching that the same check catches), failures mapped back to their records, and the consumer's
use of it (batchItemFailures, dead letters, replays with the same ids)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from messaging.channels import BatchResult, FailedEntry, TopicPublisher
from messaging.delivery import BatchDelivery, Message
from messaging.envelope import Envelope, ReplyOutcome, event
from tests.support.consumer_world import REPLIES, World, build_world, codec, create, record_of
from tests.support.sqs_events import failed_ids


@dataclass
class FifoChannel:
    """A FIFO topic or queue answering batch calls as AWS does: every entry on its own (a failed entry does not stop
    the next one of its group), deduplicated by id; ``fail`` decides, per entry, whether it fails this time."""

    fail: Any = None
    accepted: list[Envelope] = field(default_factory=list)
    calls: list[list[str]] = field(default_factory=list)

    def publish_batch(self, envelopes: Sequence[Envelope]) -> BatchResult:
        self.calls.append([e.id for e in envelopes])
        result = BatchResult(calls=1)
        for envelope in envelopes:
            if self.fail is not None and self.fail(envelope):
                result.failed.append(FailedEntry(envelope.id, "InternalError", "injected", False))
                continue
            if all(seen.id != envelope.id for seen in self.accepted):
                self.accepted.append(envelope)
            result.succeeded.append(envelope.id)
        return result

    send_batch = publish_batch


def plan(rng: random.Random, records: int) -> list[tuple[str, str, list[Envelope]]]:
    """Records of a few incoming groups, each emitting 0-3 events into a few outgoing groups."""
    out = []
    for n in range(records):
        group = f"in-{rng.randrange(3)}"
        events = [
            event("t.E", {"n": n, "k": k}, source="/s", partitionkey=f"out-{rng.randrange(2)}", id=f"r{n}-e{k}")
            for k in range(rng.randrange(4))
        ]
        out.append((f"r{n}", group, events))
    return out


def ordered_pairs(records: list[tuple[str, str, list[Envelope]]]) -> list[tuple[str, str]]:
    """(earlier, later) event ids of one outgoing group whose order matters: same record, or records of one incoming
    group in batch order."""
    pairs = []
    flat = [(n, group, e) for n, (_, group, events) in enumerate(records) for e in events]
    for i, (n1, g1, e1) in enumerate(flat):
        for n2, g2, e2 in flat[i + 1 :]:
            if e1.partitionkey == e2.partitionkey and (n1 == n2 or g1 == g2):
                pairs.append((e1.id, e2.id))
    return pairs


def violations(channel: FifoChannel, pairs: list[tuple[str, str]]) -> int:
    position = {envelope.id: n for n, envelope in enumerate(channel.accepted)}
    return sum(1 for a, b in pairs if a in position and b in position and position[b] < position[a])


def run_ours(records: list[tuple[str, str, list[Envelope]]], channel: FifoChannel) -> None:
    """Deliver, then retry the failed records (as SQS would: in order, the same outcome) until all went out."""
    pending = records
    for _ in range(100):
        if not pending:
            return
        batch = BatchDelivery(publisher=lambda: channel, queue=lambda url: channel)
        for key, group, events in pending:
            batch.add(key, group, [Message(e) for e in events])
        failed = set(batch.deliver())
        pending = [r for r in pending if r[0] in failed]
    raise AssertionError("never delivered")


def run_naive(records: list[tuple[str, str, list[Envelope]]], channel: FifoChannel) -> None:
    """Batching without rounds: every pending event in one call (10 per call), failed records retried."""
    pending = records
    for _ in range(100):
        if not pending:
            return
        envelopes = [e for _, _, events in pending for e in events]
        failed_events: set[str] = set()
        for start in range(0, len(envelopes), 10):
            answer = channel.publish_batch(envelopes[start : start + 10])
            failed_events.update(entry.id for entry in answer.failed)
        pending = [r for r in pending if any(e.id in failed_events for e in r[2])]
    raise AssertionError("never delivered")


def test_under_per_entry_failures_no_group_is_reordered_while_naive_batching_is() -> None:
    # Given batches of records of a few incoming groups emitting events into a few outgoing groups, and a channel
    # whose entries fail on their own (a third of them, once) as AWS reports per-entry failures
    ours_found = naive_found = 0
    for seed in range(150):
        records = plan(random.Random(seed), 8)
        pairs = ordered_pairs(records)
        for runner in (run_ours, run_naive):
            rng = random.Random(seed * 7)
            failed_once: set[str] = set()

            def fail(envelope: Envelope, rng: random.Random = rng, failed_once: set[str] = failed_once) -> bool:
                if envelope.id not in failed_once and rng.random() < 0.33:
                    failed_once.add(envelope.id)
                    return True
                return False

            channel = FifoChannel(fail=fail)
            # When the records are delivered and the failed ones retried until every event went out
            runner(records, channel)
            assert {e.id for e in channel.accepted} == {e.id for _, _, events in records for e in events}
            if runner is run_ours:
                ours_found += violations(channel, pairs)
            else:
                naive_found += violations(channel, pairs)
    # Then our rounds never put an event of a group before one that had to go first; naive batching does
    assert ours_found == 0
    assert naive_found > 0


def test_records_of_distinct_groups_share_one_call_per_destination() -> None:
    # Given ten records of ten groups, each with one event
    topic = FifoChannel()
    batch = BatchDelivery(publisher=lambda: topic, queue=lambda url: topic)
    for n in range(10):
        batch.add(f"m-{n}", f"g-{n}", [Message(event("t.E", {}, source="/s", partitionkey=f"g-{n}", id=f"e-{n}"))])
    # When the batch is delivered
    failed = batch.deliver()
    # Then one call took all ten
    assert failed == []
    assert topic.calls == [[f"e-{n}" for n in range(10)]]


def test_a_failed_entry_fails_its_record_and_every_later_record_of_its_group_only() -> None:
    # Given records a1, a2 (group a) and b1 (group b); a1's event fails once
    topic = FifoChannel(fail=lambda envelope: envelope.id == "e-a1")
    batch = BatchDelivery(publisher=lambda: topic, queue=lambda url: topic)
    failures: list[tuple[str, str]] = []
    for key, group in [("a1", "a"), ("b1", "b"), ("a2", "a")]:
        envelope = event("t.E", {}, source="/s", partitionkey=group, id=f"e-{key}")
        batch.add(key, group, [Message(envelope)], on_failed=lambda exc, key=key: failures.append((key, str(exc))))
    # When the batch is delivered
    failed = batch.deliver()
    # Then a1 and the later a2 are reported (a2 never sent), b1 went out
    assert failed == ["a1", "a2"]
    assert [e.id for e in topic.accepted] == ["e-b1"]
    assert [key for key, _ in failures] == ["a1", "a2"]
    assert "PrecedingMessageFailed" in failures[1][1]


def test_a_reply_waits_for_the_events_of_its_record() -> None:
    # Given a record with an event and a reply, the event failing once
    topic, replies = FifoChannel(fail=lambda envelope: envelope.id == "e-1"), FifoChannel()
    batch = BatchDelivery(publisher=lambda: topic, queue=lambda url: replies)
    reply = event("t.Reply", {}, source="/s", partitionkey="g", id="r-1")
    batch.add("m-1", "g", [Message(event("t.E", {}, source="/s", partitionkey="g", id="e-1")),
                           Message(reply, queue_url=REPLIES, stage=1)])
    # When delivered
    failed = batch.deliver()
    # Then the reply was not sent: the record is retried whole
    assert failed == ["m-1"]
    assert replies.calls == []


def test_a_refused_entry_dead_letters_its_record_and_the_group_moves_on() -> None:
    # Given a1 whose event the broker refuses for good, and a2 of the same group
    def refuse(envelopes: Sequence[Envelope]) -> BatchResult:
        result = BatchResult(calls=1)
        for envelope in envelopes:
            if envelope.id == "e-a1":
                result.failed.append(FailedEntry(envelope.id, "InvalidParameter", "bad", True))
            else:
                result.succeeded.append(envelope.id)
        return result

    @dataclass
    class Refusing:
        publish_batch = staticmethod(refuse)

    batch = BatchDelivery(publisher=Refusing, queue=lambda url: None)
    rejected: list[str] = []
    delivered: list[str] = []
    for key in ("a1", "a2"):
        batch.add(key, "a", [Message(event("t.E", {}, source="/s", partitionkey="a", id=f"e-{key}"))],
                  on_rejected=lambda error, key=key: rejected.append(f"{key}:{error.code}"),
                  on_delivered=lambda key=key: delivered.append(key))
    # When delivered
    failed = batch.deliver()
    # Then a1 is dead-lettered (its reason: delivery_rejected), a2 delivered, nothing retried
    assert failed == []
    assert rejected == ["a1:delivery_rejected"]
    assert delivered == ["a2"]


def test_a_call_refused_whole_as_the_sender_fault_is_sent_again_entry_by_entry() -> None:
    # Given SNS refusing a whole PublishBatch for one malformed entry
    class Sns:
        calls = 0

        def publish_batch(self, **kwargs: Any) -> dict[str, Any]:
            Sns.calls += 1
            entries = kwargs["PublishBatchRequestEntries"]
            if any("bad" in entry["Message"] for entry in entries):
                error = {"Error": {"Code": "InvalidParameter", "Message": "malformed"},
                         "ResponseMetadata": {"HTTPStatusCode": 400}}
                raise ClientError(error, "PublishBatch")  # type: ignore[arg-type]
            return {"Successful": [{"Id": e["Id"], "MessageId": "m"} for e in entries], "Failed": []}

    publisher = TopicPublisher("arn:aws:sns:eu-west-1:123456789012:t.fifo", client=Sns())  # type: ignore[arg-type]
    envelopes = [event("t.E", {"v": v}, source="/s", partitionkey=f"g{v}", id=f"e-{v}") for v in ("ok", "bad", "ok2")]
    # When the three are published
    result = publisher.publish_batch(envelopes)
    # Then the refusal lands on the one entry at fault, the others are published
    assert result.succeeded == ["e-ok", "e-ok2"]
    assert [(f.id, f.code, f.sender_fault) for f in result.failed] == [("e-bad", "InvalidParameter", True)]
    assert result.calls == Sns.calls == 4


def test_calls_hold_at_most_256_kib() -> None:
    # Given three events of 100 KiB each
    sizes: list[int] = []

    class Sns:
        def publish_batch(self, **kwargs: Any) -> dict[str, Any]:
            entries = kwargs["PublishBatchRequestEntries"]
            sizes.append(sum(len(e["Message"]) for e in entries))
            return {"Successful": [{"Id": e["Id"], "MessageId": "m"} for e in entries], "Failed": []}

    publisher = TopicPublisher("arn:aws:sns:eu-west-1:123456789012:t.fifo", client=Sns())  # type: ignore[arg-type]
    big = [event("t.E", {"blob": "x" * 100_000}, source="/s", partitionkey=f"g{n}", id=f"e-{n}") for n in range(3)]
    # When they are published
    result = publisher.publish_batch(big)
    # Then they took two calls, none over 256 KiB
    assert len(result.succeeded) == 3
    assert len(sizes) == 2
    assert max(sizes) <= 262_144


# -- the consumer --------------------------------------------------------------------------------------------------


@pytest.fixture
def world() -> World:
    return build_world()


def test_a_batch_of_ten_customers_costs_one_publish_and_one_reply_send(world: World) -> None:
    # Given ten CreateOrder commands of ten customers in one Lambda batch (each emits two events and replies)
    commands = [create(f"sku-{n}", key=f"customer-{n}") for n in range(10)]
    # When the batch is handled
    response = world.handle(*(record_of(c) for c in commands))
    # Then one publish took the twenty events and one SendMessageBatch the ten replies
    assert response == {"batchItemFailures": []}
    assert len(world.publisher.batches) == 1
    assert len(world.publisher.batches[0]) == 20
    assert world.sqs.batches == [(REPLIES, 10)]
    assert sorted(r.correlationid or "" for r in world.replies()) == sorted(c.id for c in commands)


def test_records_of_one_customer_are_delivered_one_after_the_other_in_order(world: World) -> None:
    # Given three commands of one customer in one batch
    commands = [create(f"sku-{n}", key="customer-1") for n in range(3)]
    # When the batch is handled
    world.handle(*(record_of(c) for c in commands))
    # Then the events and replies went out in the commands' order, each record's reply after its events
    created = [e.data["sku"] for e in world.publisher.published if e.type == "orders.OrderCreated"]  # type: ignore[index]
    assert created == ["sku-0", "sku-1", "sku-2"]
    assert [r.correlationid for r in world.replies()] == [c.id for c in commands]
    assert len(world.publisher.batches) == 3


def test_a_failed_publish_fails_the_record_and_its_group_and_the_retry_replays_the_same_messages(
    world: World,
) -> None:
    # Given a1, a2 of customer a and b1 of customer b; the first publish of a1's OrderCreated fails transiently
    a1, b1, a2 = create("a1", key="cust-a"), create("b1", key="cust-b"), create("a2", key="cust-a")
    records = [record_of(a1), record_of(b1), record_of(a2)]
    first_ids: dict[str, list[str]] = {}

    original = world.publisher.publish_batch

    def publish(envelopes: Sequence[Envelope]) -> BatchResult:
        for envelope in envelopes:
            first_ids.setdefault(envelope.type, []).append(envelope.id)
            if envelope.type == "orders.OrderCreated" and envelope.data["sku"] == "a1" and not failed_once:  # type: ignore[index]
                world.publisher.fail_ids.add(envelope.id)
                failed_once.append(envelope.id)
        return original(envelopes)

    failed_once: list[str] = []
    world.publisher.publish_batch = publish  # type: ignore[method-assign]
    # When the batch is handled
    response = world.handle(*records)
    # Then a1 and a2 are reported failed (both committed), b1 is delivered
    assert failed_ids(response) == [records[0]["messageId"], records[2]["messageId"]]
    assert [r.correlationid for r in world.replies()] == [b1.id]
    assert len(world.store.items("orders")) == 3
    # And when SQS delivers a1 and a2 again, they are duplicates: nothing is written again, the stored outcomes
    # are replayed
    items_before = world.store.items("orders")
    retry = world.handle(records[0], records[2])
    assert retry == {"batchItemFailures": []}
    assert world.store.items("orders") == items_before
    # And they re-deliver with the ids of the first attempt: a1's OrderCreated is the one that failed
    published = [e for e in world.publisher.published if e.data.get("sku") in ("a1", "a2")]  # type: ignore[union-attr]
    assert failed_once[0] in [e.id for e in published]
    assert [r.correlationid for r in world.replies()] == [b1.id, a1.id, a2.id]


def test_a_refused_event_dead_letters_its_record_and_the_group_moves_on(world: World) -> None:
    # Given two commands of one customer; SNS refuses the first one's OrderCreated for good
    first, second = create("bad", key="c-1"), create("good", key="c-1")
    world.publisher.rejection = ("InvalidParameter", "refused", True)

    original = world.publisher.publish_batch

    def publish(envelopes: Sequence[Envelope]) -> BatchResult:
        for envelope in envelopes:
            if envelope.type == "orders.OrderCreated" and envelope.data["sku"] == "bad":  # type: ignore[index]
                world.publisher.fail_ids.add(envelope.id)
        return original(envelopes)

    world.publisher.publish_batch = publish  # type: ignore[method-assign]
    # When the batch is handled
    response = world.handle(record_of(first), record_of(second))
    # Then the first is dead-lettered with its reason (and answered with a failure), the second delivered
    assert response == {"batchItemFailures": []}
    [dead] = world.dead_letters()
    assert dead["MessageAttributes"]["failure-code"]["StringValue"] == "delivery_rejected"
    outcomes = {r.correlationid: ReplyOutcome.from_data(r.data).ok for r in world.replies()}
    assert outcomes == {first.id: False, second.id: True}


def test_a_poison_message_is_dead_lettered_in_its_turn_after_the_earlier_records_of_its_group(world: World) -> None:
    # Given a valid command, then an invalid one (unknown type) of the same customer asking for a reply
    valid = create("ok", key="c-1")
    poison = codec.encode(create("x", key="c-1")).replace("orders.CreateOrder", "orders.Teleport")
    # When the batch is handled
    response = world.handle(record_of(valid), record_of(codec.decode(poison)))
    # Then the valid command's reply goes before the failure reply of the poison one
    assert response == {"batchItemFailures": []}
    assert [ReplyOutcome.from_data(r.data).ok for r in world.replies()] == [True, False]
    assert len(world.dead_letters()) == 1


def test_a_dead_letter_that_cannot_be_sent_fails_its_record_and_the_rest_of_its_group(world: World) -> None:
    # Given a poison message, then a valid command of the same customer, and a DLQ that cannot be reached
    poison = codec.decode(codec.encode(create("x", key="c-1")).replace("orders.CreateOrder", "orders.Teleport"))
    valid = create("ok", key="c-1")
    world.sqs.fail_urls.add(world.consumer.settings.dead_letter_queue_url or "")
    records = [record_of(poison), record_of(valid)]
    # When the batch is handled
    response = world.handle(*records)
    # Then both are reported failed (the valid one is committed; SQS retries both, in order) and nothing was sent
    assert failed_ids(response) == [records[0]["messageId"], records[1]["messageId"]]
    assert world.replies() == []
    assert len(world.store.items("orders")) == 1


def test_an_entry_the_answer_does_not_mention_is_reported_failed_not_dropped() -> None:
    # Given SNS answering a batch of two with one entry only
    class Sns:
        def publish_batch(self, **kwargs: Any) -> dict[str, Any]:
            first = kwargs["PublishBatchRequestEntries"][0]
            return {"Successful": [{"Id": first["Id"], "MessageId": "m"}], "Failed": []}

    publisher = TopicPublisher("arn:aws:sns:eu-west-1:123456789012:t.fifo", client=Sns())  # type: ignore[arg-type]
    envelopes = [event("t.E", {}, source="/s", partitionkey=f"g{n}", id=f"e-{n}") for n in range(2)]
    # When both are published
    result = publisher.publish_batch(envelopes)
    # Then the unmentioned one is reported failed, transiently
    assert result.succeeded == ["e-0"]
    assert [(f.id, f.code, f.sender_fault) for f in result.failed] == [("e-1", "NoResult", False)]
    # And a record whose message was not mentioned is retried, not taken as delivered
    batch = BatchDelivery(publisher=lambda: publisher, queue=lambda url: None)
    for envelope in envelopes:
        batch.add(envelope.id, envelope.partitionkey, [Message(envelope)])
    assert batch.deliver() == ["e-1"]
