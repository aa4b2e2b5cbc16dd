"""MessageConsumer with in-memory fakes: routing, replies, emitted events, the commit, duplicates, failure policy, logs,
metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from messaging.consumer import MessageContext
from messaging.envelope import Kind, ReplyOutcome, command, event, reply_to
from messaging.fifo import dedup_id_of
from messaging.unit_of_work import current
from tests.support.consumer_world import DLQ, REPLIES, World, build_world, create, record_of
from tests.support.lambda_context import FakeLambdaContext
from tests.support.sqs_events import failed_ids, sqs_event, synthetic_record

pytestmark = pytest.mark.unit

@pytest.fixture
def world() -> Iterator[World]:
    w = build_world()
    yield w
    w.consumer.logger.thread_safe_clear_keys()


def test_a_command_runs_its_handler_and_gets_a_success_reply_with_the_correlation_id(world: World) -> None:
    # Given a CreateOrder command with a reply address on the allowlist
    cmd = create("book")
    # When the consumer handles it
    response = world.handle(record_of(cmd))
    # Then the handler ran once, the record is handled, and one success reply went to replyto
    assert response == {"batchItemFailures": []}
    assert world.calls == [cmd.id]
    [reply] = world.replies()
    assert reply.kind is Kind.REPLY
    assert reply.correlationid == cmd.id
    assert reply.type == "orders.CreateOrder.Reply"
    assert reply.source == "/orders"
    assert ReplyOutcome.from_data(reply.data) == ReplyOutcome.success({"order_id": "o-book", "run": 1})
    # And the reply went out in the request's group, deduplicated by its own source + id
    [sent] = world.sqs.to(REPLIES)
    assert sent["MessageGroupId"] == "customer-1"
    assert len(sent["MessageDeduplicationId"]) == 64


def test_emitted_events_are_published_after_the_handler_with_the_request_partition_key(world: World) -> None:
    # Given a command whose handler emits two events, one with an explicit partition key
    cmd = create("pen")
    # When it is handled
    world.handle(record_of(cmd))
    # Then both events were published, in order, from this service's source
    created, audit = world.publisher.published
    assert (created.type, created.kind, created.source) == ("orders.OrderCreated", Kind.EVENT, "/orders")
    assert created.partitionkey == "customer-1"
    assert created.data == {"sku": "pen", "quantity": 1}
    assert audit.partitionkey == "audit"
    assert created.id != audit.id


def test_a_command_delivered_twice_is_applied_once_and_both_deliveries_see_the_same_reply_and_events(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a command that was already handled once
    cmd = create("lamp")
    world.handle(record_of(cmd))
    first_events = list(world.publisher.published)
    # When SQS delivers it again (a new receipt, receive count 2)
    response = world.handle(record_of(cmd, receive_count=2))
    # Then the second run's staged write was not applied: the order holds the first run's write only
    assert response == {"batchItemFailures": []}
    assert world.calls == [cmd.id, cmd.id]
    [order] = world.store.items("orders")
    assert order["run"] == {"N": "1"}
    # And the second delivery sent the very same reply (same id, time and outcome: the first run's)
    first, second = world.replies()
    assert first == second
    assert ReplyOutcome.from_data(second.data).result == {"order_id": "o-lamp", "run": 1}
    # And republished the very same events (same ids), so FIFO dedup drops the copies downstream
    assert world.publisher.published == first_events + first_events
    # And the duplicate was counted
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(doc.get("DuplicateDeliveries") == [1.0] or doc.get("DuplicateDeliveries") == 1.0 for doc in emf)
    # And its one log line says it replayed the stored outcome (the first's says nothing of duplicates)
    processed = [line for line in world.log_lines() if line.get("message") == "message processed"]
    assert [line.get("duplicate") for line in processed] == [None, True]
    assert processed[0]["reply_id"] == processed[1]["reply_id"]


def test_a_rejected_command_gets_a_failure_reply_no_events_and_is_not_dead_lettered(world: World) -> None:
    # Given a command the business logic rejects
    cmd = create("blocked")
    # When it is handled, twice
    first = world.handle(record_of(cmd))
    second = world.handle(record_of(cmd, receive_count=2))
    # Then the records are handled, and both replies are the same failure
    assert first == second == {"batchItemFailures": []}
    reply_1, reply_2 = world.replies()
    assert reply_1 == reply_2
    assert ReplyOutcome.from_data(reply_1.data) == ReplyOutcome.failure("sku_blocked", "this sku cannot be ordered")
    # And nothing was published or written (a rejection has no effects) and nothing went to the DLQ
    assert world.publisher.published == []
    assert world.store.items("orders") == []
    assert world.dead_letters() == []


def test_a_command_without_replyto_is_a_notification_no_reply_is_sent(world: World) -> None:
    # Given a command without a return address
    cmd = create("mug", replyto=None)
    # When it is handled
    world.handle(record_of(cmd))
    # Then the handler ran and no reply was sent anywhere
    assert world.calls == [cmd.id]
    assert world.sqs.sent == []


def test_an_event_is_routed_by_kind_and_type(world: World) -> None:
    # Given an OrderCreated event (same type name space as the commands, different kind)
    evt = event("orders.OrderCreated", {"sku": "cup"}, source="/orders", partitionkey="customer-9")
    # When it is handled
    response = world.handle(record_of(evt))
    # Then the event handler ran and no reply was sent
    assert response == {"batchItemFailures": []}
    assert world.calls == ["event:cup"]
    assert world.sqs.sent == []


def test_any_reply_type_reaches_the_catch_all_reply_handler_every_time_when_not_idempotent(world: World) -> None:
    # Given a reply to some request, handled by a non-idempotent reply handler
    request = command("quotes.RequestQuote", {}, source="/client", partitionkey="p-1")
    reply = reply_to(request, ReplyOutcome.success({"price": 3}), source="/quotes/standard")
    # When it is delivered twice
    world.handle(record_of(reply))
    world.handle(record_of(reply, receive_count=2))
    # Then the handler ran both times
    assert world.calls == [f"reply:{request.id}", f"reply:{request.id}"]


def test_an_unknown_type_goes_to_the_dlq_with_reasons_and_the_command_gets_a_failure_reply(world: World) -> None:
    # Given a command of a type nobody handles, with an allowed replyto
    cmd = command("orders.Nope", {}, source="/web", partitionkey="customer-1", replyto=REPLIES)
    record = record_of(cmd)
    # When it is handled
    response = world.handle(record)
    # Then the record is reported handled, and it is in the DLQ with the same body, group and reasons
    assert response == {"batchItemFailures": []}
    [dead] = world.dead_letters()
    assert dead["MessageBody"] == record["body"]
    assert dead["MessageGroupId"] == "customer-1"
    attributes = {name: value["StringValue"] for name, value in dead["MessageAttributes"].items()}
    assert attributes["failure-code"] == "unknown_type"
    assert attributes["failure-field"] == "type"
    assert attributes["source-message-id"] == record["messageId"]
    assert attributes["source-queue"] == record["eventSourceARN"]
    # And the requester got a failure reply with the error code
    [reply] = world.replies()
    assert reply.correlationid == cmd.id
    assert ReplyOutcome.from_data(reply.data).error_code == "unknown_type"


def test_a_payload_that_fails_its_model_names_the_field(world: World) -> None:
    # Given a CreateOrder with a quantity of zero
    cmd = create("book", quantity=0)
    # When it is handled
    world.handle(record_of(cmd))
    # Then it is dead-lettered as invalid_payload naming data.quantity, and the handler never ran
    [dead] = world.dead_letters()
    assert dead["MessageAttributes"]["failure-code"]["StringValue"] == "invalid_payload"
    assert dead["MessageAttributes"]["failure-field"]["StringValue"] == "data.quantity"
    assert world.calls == []


def test_a_replyto_not_on_the_allowlist_is_dead_lettered_without_a_reply(world: World) -> None:
    # Given a command asking for a reply on a queue that is not allowed
    cmd = create("book", replyto="https://sqs.eu-west-1.amazonaws.com/999999999999/attacker.fifo")
    # When it is handled
    world.handle(record_of(cmd))
    # Then it is in the DLQ and no message was sent to the foreign queue
    [dead] = world.dead_letters()
    assert dead["MessageAttributes"]["failure-code"]["StringValue"] == "replyto_not_allowed"
    assert len(world.sqs.sent) == 1


def test_a_transient_failure_fails_its_group_only_and_the_retry_runs_the_handler_again(world: World) -> None:
    # Given a batch: group A (two commands), group B (one command); the first command of A fails transiently
    a1, a2, b1 = create("a1", key="A"), create("a2", key="A"), create("b1", key="B")
    records = [record_of(a1), record_of(a2), record_of(b1)]
    world.fail_next.append(TimeoutError("database timed out"))
    # When the batch is handled
    response = world.handle(*records)
    # Then A's records are both reported failed (the second was not attempted), B was processed
    assert failed_ids(response) == [records[0]["messageId"], records[1]["messageId"]]
    assert world.calls == [a1.id, b1.id]
    assert [r.correlationid for r in world.replies()] == [b1.id]
    # And when SQS redelivers group A, the handler runs again (the failed attempt committed nothing)
    retry = world.handle(record_of(a1, receive_count=2), record_of(a2, receive_count=2))
    assert retry == {"batchItemFailures": []}
    assert world.calls == [a1.id, b1.id, a1.id, a2.id]


def test_a_rejected_event_publish_fails_the_record_and_the_retry_republishes_without_rerunning(world: World) -> None:
    # Given SNS fails OrderCreated events with a server error (transient)
    world.publisher.reject_types.add("orders.OrderCreated")
    cmd = create("vase")
    record = record_of(cmd)
    # When the command is handled
    response = world.handle(record)
    # Then the record failed (SQS retries it) and no reply went out before the events did
    assert failed_ids(response) == [record["messageId"]]
    assert world.replies() == []
    # And when SNS accepts again and SQS redelivers, the stored events are published and the reply sent,
    # from the first run's committed outcome
    world.publisher.reject_types.clear()
    retry = world.handle(record_of(cmd, receive_count=2))
    assert retry == {"batchItemFailures": []}
    [reply] = world.replies()
    assert ReplyOutcome.from_data(reply.data).result == {"order_id": "o-vase", "run": 1}
    assert [e.type for e in world.publisher.published] == [
        "orders.AuditTrail",
        "orders.OrderCreated",
        "orders.AuditTrail",
    ]



def test_a_failed_dead_letter_send_fails_the_record_so_nothing_is_lost(world: World) -> None:
    # Given the DLQ cannot be reached
    world.sqs.fail_urls.add(DLQ)
    record = synthetic_record("not json at all")
    # When a poison message is handled
    response = world.handle(record)
    # Then the record is reported failed: SQS keeps it and retries
    assert failed_ids(response) == [record["messageId"]]


def test_a_concurrent_duplicate_runs_but_only_one_commit_lands_and_both_answer_the_same(world: World) -> None:
    # Given a handler that, before its own commit, sees a second delivery of its message run to the end
    nested: list[dict[str, Any]] = []
    runs: list[int] = []

    @world.consumer.command("orders.Probe")
    def probe(data: dict[str, Any], ctx: MessageContext) -> dict[str, Any]:
        depth = len(runs)
        runs.append(depth)
        current().create("orders", {"pk": {"S": ctx.derived_id("probe")}, "depth": {"N": str(depth)}}, key=("pk",))
        if depth == 0:
            nested.append(world.handle(record_of(ctx.envelope, message_id="second")))
        return {"depth": depth}

    probe_cmd = command("orders.Probe", {}, source="/web", partitionkey="p", replyto=REPLIES)
    # When the first delivery is handled
    response = world.handle(record_of(probe_cmd))
    # Then both deliveries are handled, the concurrent one committed, and the first one lost and replayed it
    assert nested == [{"batchItemFailures": []}]
    assert response == {"batchItemFailures": []}
    [item] = world.store.items("orders")
    assert item["depth"] == {"N": "1"}
    first, second = world.replies()
    assert first == second
    assert ReplyOutcome.from_data(first.data).result == {"depth": 1}
    assert world.dead_letters() == []


def test_a_message_id_reused_with_other_content_is_dead_lettered_as_a_conflict(world: World) -> None:
    # Given a command that was applied
    cmd = create("book")
    world.handle(record_of(cmd))
    # When another message arrives with the same source and id but different data
    forged = command(cmd.type, {"sku": "other", "quantity": 1}, source=cmd.source, partitionkey="customer-1", id=cmd.id)
    response = world.handle(record_of(forged))
    # Then it is dead-lettered as a message id conflict, not treated as a duplicate
    assert response == {"batchItemFailures": []}
    [dead] = world.dead_letters()
    assert dead["MessageAttributes"]["failure-code"]["StringValue"] == "message_id_conflict"


def test_every_log_line_of_a_record_carries_the_cloudevent_keys(world: World) -> None:
    # Given a command
    cmd = create("ink")
    # When it is handled
    world.handle(record_of(cmd))
    # Then the handler's own log line and the consumer's lines carry its ids, type and trace id
    lines = [line for line in world.log_lines() if line.get("cloudevent_id") == cmd.id]
    messages = {line["message"] for line in lines}
    assert {"creating order", "message processed"} <= messages
    # And the one "message processed" line names what the message sent: its events and its reply
    (processed,) = [line for line in lines if line["message"] == "message processed"]
    assert processed["reply_id"] == world.replies()[0].id
    assert processed["event_ids"] == [event.id for event in world.publisher.published]
    assert processed["outcome"] == "success"
    for line in lines:
        assert line["cloudevent_type"] == "orders.CreateOrder"
        assert line["sqs_message_id"] and len(line["trace_id"]) == 32
        # (a request's correlation id is its own id, logged once as cloudevent_id; no line repeats it)
        assert "correlationid" not in line and "partitionkey" not in line
    # And a first delivery's line does not say "duplicate" (only a redelivery's does)
    assert "duplicate" not in processed
    # And the keys do not leak past the invocation
    assert "cloudevent_id" not in world.consumer.logger.thread_safe_get_current_keys()


def test_a_tracer_wraps_each_record_in_a_subsegment(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a consumer with a (disabled, as locally) Powertools tracer
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - the tracer is optional and heavy to import

    tracer = Tracer(service="orders", disabled=True)
    opened: list[str] = []
    in_subsegment = tracer.provider.in_subsegment

    def recording_in_subsegment(name: str, **kwargs: Any) -> Any:
        opened.append(name)
        return in_subsegment(name=name, **kwargs)

    monkeypatch.setattr(tracer.provider, "in_subsegment", recording_in_subsegment)
    world.consumer._tracer = tracer
    cmd, other = create("trace"), create("trace-2", key="customer-2")
    records = [record_of(cmd), record_of(other)]
    # When two commands are handled in one batch
    response = world.handle(*records)
    # Then processing is unchanged
    assert response == {"batchItemFailures": []}
    assert world.calls == [cmd.id, other.id]
    # And each record ran in its own subsegment, named after its SQS message id
    assert opened == [f"## message {record['messageId']}" for record in records]


def test_the_dedup_record_expires_after_the_configured_lifetime(world: World) -> None:
    # Given a consumer whose dedup records live one hour
    cmd = create("clock")
    # When a command is handled
    world.handle(record_of(cmd))
    # Then its record (with the order in one transaction) expires one hour from now, and holds the outcome
    [(expires_at, stored)] = world.store.records.values()
    assert abs(expires_at - (int(time.time()) + 3600)) <= 2
    assert json.loads(stored.outcome)["o"]["result"]["order_id"] == "o-clock"


def test_a_command_with_an_unusable_partition_key_is_dead_lettered_and_answered_in_a_valid_group(world: World) -> None:
    # Given a command whose partitionkey cannot be a MessageGroupId, with an allowed replyto
    cmd = create("book", key="customer 1 with spaces")
    # When it is handled
    response = world.handle(record_of(cmd))
    # Then it is dead-lettered naming the partitionkey, and the handler never ran
    assert response == {"batchItemFailures": []}
    [dead] = world.dead_letters()
    assert dead["MessageAttributes"]["failure-field"]["StringValue"] == "partitionkey"
    assert world.calls == []
    # And the failure reply went out in a group derived from the request's identity, which SQS accepts
    [sent] = world.sqs.to(REPLIES)
    assert sent["MessageGroupId"] == dedup_id_of(cmd.source, cmd.id)
    [reply] = world.replies()
    assert reply.correlationid == cmd.id
    assert ReplyOutcome.from_data(reply.data).error_code == dead["MessageAttributes"]["failure-code"]["StringValue"]


def test_a_run_past_its_deadline_commits_nothing_and_its_retry_applies_the_command_once(world: World) -> None:
    # Given an invocation whose deadline has passed while the handler ran (Lambda timed it out; its threads go on)
    envelope = create("late")
    expired = FakeLambdaContext(timeout_seconds=0.0)
    # When the abandoned run reaches its commit
    response = world.consumer.handle(sqs_event([record_of(envelope)]), expired)
    # Then it commits nothing, sends nothing and reports the record failed (the retry owns the message now)
    assert len(failed_ids(response)) == 1
    assert world.store.items("orders") == [] and world.store.records == {}
    assert world.replies() == [] and world.publisher.published == []
    # And the retry, inside its deadline, applies it once and answers
    assert world.handle(record_of(envelope, receive_count=2)) == {"batchItemFailures": []}
    assert len(world.store.items("orders")) == 1
    assert [r.correlationid for r in world.replies()] == [envelope.id]
