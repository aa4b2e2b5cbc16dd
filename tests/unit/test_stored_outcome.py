"""The compact stored outcome (messaging.outbox): a replay rebuilds byte for byte what the first run delivered
(events, messages sent to queues and schedules, the reply: ids, dedup ids, groups, data, time), the stored form holds
only what cannot be derived, and outcomes stored in the earlier wire-JSON form still replay."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from messaging.codec import CloudEventJsonCodec
from messaging.context import MessageContext
from messaging.contracts import MessageType
from messaging.envelope import Envelope, Kind, ReplyOutcome, command, reply_to
from messaging.fifo import deduplication_id, message_group_id
from messaging.outbox import Outbox, Outcome
from messaging.settings import ConsumerSettings
from tests.support.consumer_world import World, build_world, create, record_of

codec = CloudEventJsonCodec()
REPLIES = "https://sqs.eu-west-1.amazonaws.com/123456789012/replies.fifo"
PARTICIPANT = "https://sqs.eu-west-1.amazonaws.com/123456789012/billing-commands.fifo"
CATALOGUE = {"orders.OrderCreated": MessageType("orders.OrderCreated", Kind.EVENT, version="2.0")}


class Scheduler:
    def is_due(self, at: datetime) -> bool:
        return at <= datetime.now(UTC)


def outbox() -> Outbox:
    return Outbox(codec, source=lambda: "/orders", publisher=lambda: None,  # type: ignore[arg-type,return-value]
                  sqs=lambda: None, settings=ConsumerSettings,  # type: ignore[arg-type,return-value]
                  logger=lambda: Logger(service="test"), delayed=Scheduler)  # type: ignore[arg-type]


def wire(outcome: Outcome) -> list[tuple[str, str, str, str]]:
    """Every message of ``outcome`` as it goes out: destination, body, group id, dedup id."""
    out = [("topic", codec.encode(e), message_group_id(e), deduplication_id(e)) for e in outcome.events]
    out += [(f"{s.queue_url} at={s.deliver_at} cancel={s.cancel}", codec.encode(s.envelope),
             message_group_id(s.envelope), deduplication_id(s.envelope)) for s in outcome.sends]
    if outcome.reply is not None:
        out.append(("reply", codec.encode(outcome.reply), message_group_id(outcome.reply),
                    deduplication_id(outcome.reply)))
    return out


def first_run(request: Envelope) -> Outcome:
    """What a handler does: emit two events (one in another group, one of a catalogued type), send a command to a
    participant, schedule a timeout, cancel another, and answer."""
    ctx = MessageContext(request, source="/orders", logger=Logger(service="test"), catalogue=CATALOGUE)
    result = {"order_id": "o-1", "customer_id": "c-1", "total": "12.50"}
    ctx.emit("orders.OrderCreated", {**result, "lines": [{"sku": "book", "quantity": 1}], "item_count": 1})
    ctx.emit("audit.Recorded", {"what": "order"}, partitionkey="audit")
    participant = command("billing.ReserveCredit", {"amount": "12.50"}, source="/orders", partitionkey="s-1",
                          replyto=REPLIES, id="s-1:credit:do")
    ctx.send(PARTICIPANT, participant)
    timeout = command("saga.Timeout", {"saga_id": "s-1"}, source="/orders", partitionkey="s-1", id="s-1:timeout")
    ctx.send(REPLIES, timeout, deliver_at=datetime.now(UTC) + timedelta(seconds=30))
    ctx.cancel_scheduled(REPLIES, command("saga.Timeout", {}, source="/orders", partitionkey="s-1", id="s-0:timeout"))
    started = command("orders.PlaceOrder", {}, source="/web", partitionkey="c-1", id="p-1", replyto=REPLIES)
    answer = reply_to(started, ReplyOutcome.success({"done": True}), source="/orders")  # a saga answering its start
    ctx.send(REPLIES, answer)
    return outbox().outcome(request, ReplyOutcome.success(result), events=ctx.emitted, outgoing=ctx.outgoing,
                            catalogue=CATALOGUE)


@pytest.mark.parametrize("traced", [True, False])
def test_a_replay_rebuilds_byte_for_byte_what_the_first_run_delivered(traced: bool) -> None:
    # Given a command (with or without a trace context) and everything its first run sends
    request = command("orders.CreateOrder", {"customer_id": "c-1"}, source="/web", partitionkey="c-1",
                      replyto=REPLIES)
    if not traced:
        request = Envelope(**{**{f: getattr(request, f) for f in request.__slots__}, "traceparent": None})  # type: ignore[attr-defined]
    first = first_run(request)
    # When the stored form goes through JSON (what the dedup record keeps) and a duplicate replays it
    stored = json.loads(json.dumps(first.stored, separators=(",", ":")))
    replayed = outbox().replay(request, stored, CATALOGUE)
    # Then every message goes out again identical: same destination, body, group and dedup id
    assert wire(replayed) == wire(first)
    assert len(wire(first)) == 7  # two events, four sends (a command, a schedule, a cancellation, a reply), the reply
    assert replayed.result == first.result


def test_the_stored_form_holds_only_what_cannot_be_derived() -> None:
    # Given the first run of a command
    request = command("orders.CreateOrder", {"customer_id": "c-1"}, source="/web", partitionkey="c-1",
                      replyto=REPLIES)
    first = first_run(request)
    stored = first.stored
    # Then the events keep their type and their own data (the result's fields are referenced), no id, no time,
    # no schema, no trace; the reply is not stored at all
    created, audit = stored["e"]
    assert created == {"y": "orders.OrderCreated", "r": 1, "d": {"lines": [{"sku": "book", "quantity": 1}],
                                                                 "item_count": 1}}
    assert audit == {"y": "audit.Recorded", "d": {"what": "order"}, "p": "audit"}
    assert sorted(stored) == ["e", "o", "s", "t", "v"]
    assert not any("id" in item or "m" in item for item in stored["e"])
    assert first.reply is not None and first.reply.id not in json.dumps(stored)


def test_an_outcome_stored_in_the_earlier_wire_form_still_replays() -> None:
    # Given an outcome as the consumer stored it before the compact form (wire JSON of the events and the reply)
    request = command("orders.CreateOrder", {}, source="/web", partitionkey="c-1", replyto=REPLIES)
    first = first_run(request)
    legacy: dict[str, Any] = {
        "outcome": first.result.to_data() if first.result else None,
        "reply": codec.encode(first.reply) if first.reply else None,
        "events": [codec.encode(e) for e in first.events],
        "sends": [{"queue": s.queue_url, "message": codec.encode(s.envelope),
                   "deliver_at": s.deliver_at.isoformat() if s.deliver_at else None, "cancel": s.cancel}
                  for s in first.sends],
    }
    # When a duplicate replays it, Then the same messages go out
    assert wire(outbox().replay(request, legacy, CATALOGUE)) == wire(first)


def test_a_duplicate_delivery_through_the_consumer_sends_the_same_bytes() -> None:
    # Given a consumer (on fakes) that handled a command once
    world: World = build_world()
    record = record_of(create("lamp", key="c-9"))
    world.handle(record)
    first_events = [codec.encode(e) for e in world.publisher.published]
    first_replies = [(c["MessageBody"], c["MessageGroupId"], c["MessageDeduplicationId"]) for c in world.sqs.sent]
    # When SQS delivers it again
    world.handle(record)
    # Then the replayed events and reply are the same bytes, groups and dedup ids
    assert [codec.encode(e) for e in world.publisher.published] == first_events * 2
    second = [(c["MessageBody"], c["MessageGroupId"], c["MessageDeduplicationId"]) for c in world.sqs.sent]
    assert second == first_replies * 2
