"""The failure policy on in-memory fakes: failure replies for every permanent failure of a command with an allowed
replyto (also when it did not decode), safe reply messages, declared shard keys, broker rejections that are the
sender's fault, oversize events, and the invariants one-line mutants break (identity, reply ids, allowlist,
metrics)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from messaging.consumer import MessageContext
from messaging.envelope import ReplyOutcome, command, reply_id_for
from messaging.failures import CODES, FAILURE_ATTRIBUTES, REDRIVE_RUN_ATTRIBUTE, UNKNOWN_CODE
from messaging.fifo import dedup_id_of
from tests.support.consumer_world import DLQ, REPLIES, World, build_world, codec, create, record_of
from tests.support.sqs_events import failed_ids, synthetic_record

pytestmark = pytest.mark.unit

SAFE_MESSAGES = {code.message for code in CODES.values()}


@pytest.fixture
def world() -> Iterator[World]:
    w = build_world(shard_keys={"orders.CreateOrder": "sku"})
    yield w
    w.consumer.logger.thread_safe_clear_keys()


def wire(**changes: Any) -> str:
    """A CreateOrder with an allowed replyto whose shard key matches, as JSON, with ``changes`` applied."""
    document = json.loads(codec.encode(create("customer-1", key="customer-1")))
    document.update(changes)
    return json.dumps(document)


def failure_of(world: World) -> tuple[str, str, str]:
    """(correlation id, code, message) of the one failure reply sent."""
    [reply] = world.replies()
    outcome = ReplyOutcome.from_data(reply.data)
    assert not outcome.ok
    return reply.correlationid or "", outcome.error_code or "", outcome.error_message or ""


def dead_code(world: World) -> str:
    [dead] = world.dead_letters()
    return str(dead["MessageAttributes"]["failure-code"]["StringValue"])


@pytest.mark.parametrize(
    ("fault", "body", "code"),
    [
        ("wrong specversion", wire(specversion="0.3"), "invalid_attribute"),
        ("invalid time", wire(time="2026-13-45T99:00:00Z"), "invalid_attribute"),
        ("future schemaversion", wire(schemaversion="2"), "unsupported_schema_version"),
        ("lone surrogate in data", wire(data={"sku": "\udc80"}), "invalid_encoding"),
        ("missing type", json.dumps({k: v for k, v in json.loads(wire()).items() if k != "type"}), "not_cloudevent"),
        ("bad extension name", wire(**{"Bad-Name": "x"}), "invalid_attribute"),
    ],
)
def test_a_command_that_does_not_decode_still_gets_a_failure_reply_with_its_code(
    world: World, fault: str, body: str, code: str
) -> None:
    # Given a command with an allowed replyto whose body breaks the contract (it cannot be decoded)
    request_id = json.loads(body)["id"]
    # When it is handled
    response = world.handle(synthetic_record(body, group_id="customer-1"))
    # Then it is dead-lettered, and the requester hears the code under its correlation id
    assert response == {"batchItemFailures": []}
    assert dead_code(world) == code
    correlation_id, reply_code, message = failure_of(world)
    assert (correlation_id, reply_code) == (request_id, code)
    # And the message is the code's fixed text (plus the field name), never the exception's
    assert message.split(" (field: ")[0] in SAFE_MESSAGES
    assert "2026-13-45" not in message and "Traceback" not in message


def test_the_failure_reply_message_never_carries_exception_text_but_the_log_has_the_detail(world: World) -> None:
    # Given a command whose time makes the parser raise with its own text
    body = wire(time="not-a-time-at-all")
    record = synthetic_record(body, group_id="customer-1")
    # When it is handled
    world.handle(record)
    # Then the requester gets a fixed message
    _, code, message = failure_of(world)
    assert code == "invalid_attribute"
    assert message == f"{CODES['invalid_attribute'].message} (field: time)"
    # And the detail went to the log with the SQS message id, and to the DLQ attributes
    [warning] = [line for line in world.log_lines() if line["message"] == "message moved to the dead-letter queue"]
    assert warning["sqs_message_id"] == record["messageId"]
    assert "'not-a-time-at-all' is not an RFC 3339 timestamp" in warning["failure_reason"]
    [dead] = world.dead_letters()
    assert dead["MessageAttributes"]["failure-reason"]["StringValue"] == warning["failure_reason"]
    assert "not-a-time" not in message and "int()" not in message


def test_a_command_with_an_unknown_type_and_a_replyto_outside_the_allowlist_gets_no_reply(world: World) -> None:
    # Given a command of an unknown type whose replyto is not allowed (the type check comes first)
    evil = "https://sqs.eu-west-1.amazonaws.com/666666666666/attacker.fifo"
    cmd = command("orders.Teleport", {}, source="/web", partitionkey="c-1", replyto=evil)
    # When it is handled
    world.handle(record_of(cmd))
    # Then it is dead-lettered as unknown_type and nothing at all is sent to the attacker's queue
    assert dead_code(world) == "unknown_type"
    assert world.sqs.to(evil) == []
    assert [call["QueueUrl"] for call in world.sqs.sent] == [DLQ]


def test_an_undecodable_command_with_a_replyto_outside_the_allowlist_gets_no_reply(world: World) -> None:
    # Given a broken command asking for a reply on a queue that is not allowed
    evil = "https://sqs.eu-west-1.amazonaws.com/666666666666/attacker.fifo"
    world.handle(synthetic_record(wire(specversion="9", replyto=evil)))
    # Then only the DLQ heard of it
    assert [call["QueueUrl"] for call in world.sqs.sent] == [DLQ]


def test_a_partitionkey_that_is_not_the_declared_shard_key_is_dead_lettered_and_answered(world: World) -> None:
    # Given CreateOrder declares its shard key (here: sku) and a command carries another partitionkey
    cmd = create("customer-1", key="customer-2")
    # When it is handled
    response = world.handle(record_of(cmd))
    # Then the handler never ran, the message is dead-lettered and the requester hears partitionkey_mismatch
    assert response == {"batchItemFailures": []}
    assert world.calls == []
    assert dead_code(world) == "partitionkey_mismatch"
    assert failure_of(world)[:2] == (cmd.id, "partitionkey_mismatch")
    # And a matching key goes through
    ok = create("customer-3", key="customer-3")
    world.handle(record_of(ok))
    assert world.calls == [ok.id]


def test_a_publish_the_broker_refuses_for_good_is_dead_lettered_with_a_failure_reply_not_retried(
    world: World,
) -> None:
    # Given SNS refuses OrderCreated as the sender's fault (an invalid parameter)
    world.publisher.reject_types.add("orders.OrderCreated")
    world.publisher.rejection = ("InvalidParameter", "Invalid parameter: Message", True)
    cmd = create("customer-1", key="customer-1")
    # When the command is handled
    response = world.handle(record_of(cmd))
    # Then the record is not retried: it is in the DLQ with delivery_rejected, and the requester is answered
    assert response == {"batchItemFailures": []}
    [dead] = world.dead_letters()
    assert dead["MessageAttributes"]["failure-code"]["StringValue"] == "delivery_rejected"
    assert "InvalidParameter" in dead["MessageAttributes"]["failure-reason"]["StringValue"]
    assert failure_of(world)[:2] == (cmd.id, "delivery_rejected")
    # And a redrive after the cause is fixed replays the committed outcome: the handler does not run again
    world.publisher.reject_types.clear()
    world.handle(record_of(cmd, receive_count=1))
    assert world.calls == [cmd.id, cmd.id]
    [order] = world.store.items("orders")
    assert order["run"] == {"N": "1"}
    assert "orders.OrderCreated" in [e.type for e in world.publisher.published]


@pytest.mark.parametrize(
    ("code", "sender_fault"),
    [("Throttling", True), ("Throttled", True), ("RequestThrottled", True), ("InternalError", False)],
)
def test_throttling_and_server_errors_stay_transient(world: World, code: str, sender_fault: bool) -> None:
    # Given SNS throttles, or fails on its side
    world.publisher.reject_types.add("orders.OrderCreated")
    world.publisher.rejection = (code, "try again", sender_fault)
    record = record_of(create("customer-1", key="customer-1"))
    # When the command is handled
    response = world.handle(record)
    # Then SQS retries the record; nothing is dead-lettered
    assert failed_ids(response) == [record["messageId"]]
    assert world.dead_letters() == []


def test_a_reply_the_broker_refuses_for_good_dead_letters_the_request_and_the_record_is_handled(
    world: World,
) -> None:
    # Given the reply queue refuses sends as the sender's fault
    world.sqs.refuse_urls.add(REPLIES)
    # When a command asking for a reply there is handled
    response = world.handle(record_of(create("customer-1", key="customer-1")))
    # Then the record is not retried forever: it is dead-lettered (the failure reply was refused too, and logged)
    assert response == {"batchItemFailures": []}
    assert dead_code(world) == "delivery_rejected"
    assert any(line["message"] == "the failure reply was refused by the broker" for line in world.log_lines())


def test_an_event_over_the_channel_limit_is_refused_before_anything_is_committed(world: World) -> None:
    # Given a handler that emits a 300 KB event
    @world.consumer.command("orders.Export")
    def export(data: dict[str, Any], ctx: MessageContext) -> dict[str, Any]:
        world.calls.append("export")
        ctx.emit("orders.Exported", {"blob": "x" * 300_000})
        return {}

    cmd = command("orders.Export", {}, source="/web", partitionkey="c-1", replyto=REPLIES)
    # When the command is handled
    response = world.handle(record_of(cmd))
    # Then it is not retried: dead-lettered as message_too_large, answered, and nothing was committed or published
    assert response == {"batchItemFailures": []}
    assert world.calls == ["export"]
    assert dead_code(world) == "message_too_large"
    assert failure_of(world)[:2] == (cmd.id, "message_too_large")
    assert world.store.records == {}
    assert world.publisher.published == []


def test_dead_lettering_keeps_the_attributes_the_message_carried_within_the_sqs_limit(world: World) -> None:
    # Given a redriven poison message carrying the redrive's mark and nine other attributes
    record = synthetic_record("not json", group_id="g-1")
    carried = {f"note-{n}": {"stringValue": str(n), "dataType": "String"} for n in range(9)}
    record["messageAttributes"] = {REDRIVE_RUN_ATTRIBUTE: {"stringValue": "run-1", "dataType": "String"}, **carried}
    # When it is dead-lettered again
    world.handle(record)
    # Then the failure attributes and the redrive mark are there, and no more than SQS takes (10)
    [dead] = world.dead_letters()
    names = set(dead["MessageAttributes"])
    assert set(FAILURE_ATTRIBUTES) - {"failure-field"} <= names
    assert dead["MessageAttributes"][REDRIVE_RUN_ATTRIBUTE]["StringValue"] == "run-1"
    assert len(names) == 10


def test_two_sources_may_use_the_same_message_id_and_both_are_applied(world: World) -> None:
    # Given two requesters that happen to pick the same message id for the same command
    data = {"sku": "customer-1", "quantity": 1}
    first = command("orders.CreateOrder", data, source="/web", partitionkey="customer-1", replyto=REPLIES, id="m-1")
    second = command("orders.CreateOrder", data, source="/mobile", partitionkey="customer-1", replyto=REPLIES, id="m-1")
    # When both are handled
    world.handle(record_of(first))
    world.handle(record_of(second))
    # Then both ran and both committed: the dedup identity is (source, id), not the id alone
    assert world.calls == ["m-1", "m-1"]
    assert set(world.store.records) == {dedup_id_of("/web", "m-1"), dedup_id_of("/mobile", "m-1")}
    assert [ReplyOutcome.from_data(r.data).ok for r in world.replies()] == [True, True]


def test_reply_ids_are_derived_from_the_request_for_answers_that_keep_no_record(world: World) -> None:
    # Given a command handled without a dedup record (a pure function, like a quote)
    @world.consumer.command("quotes.RequestQuote", idempotent=False)
    def quote(data: dict[str, Any], ctx: MessageContext) -> dict[str, Any]:
        return {"price": "7.00"}

    request = command("quotes.RequestQuote", {}, source="/web", partitionkey="c-1", replyto=REPLIES)
    # When it is delivered twice, and a broken copy of another request is answered twice
    world.handle(record_of(request))
    world.handle(record_of(request, receive_count=2))
    broken = synthetic_record(wire(specversion="0.3"))
    world.handle(broken)
    world.handle(broken)
    # Then each request's replies share one id, derived from the request's source and id
    first, second, failure_1, failure_2 = world.replies()
    assert first.id == second.id == reply_id_for(request)
    assert failure_1.id == failure_2.id != first.id


def test_a_transient_failure_is_counted_as_retried(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a handler that fails with a transient error
    world.fail_next.append(ConnectionError("state table unreachable"))
    # When its command is handled
    world.handle(record_of(create("customer-1", key="customer-1")))
    # Then the invocation's metrics count one retried message
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [doc["MessagesRetried"] for doc in emf] == [[1.0]]


def test_the_docs_table_lists_every_failure_code_with_what_happens() -> None:
    # Given the failure-code table of docs/failure-codes.md
    page = (Path(__file__).resolve().parents[2] / "docs" / "failure-codes.md").read_text(encoding="utf-8")
    section = "| Code |" + page.split("\n| Code |", 1)[1].split("\n\n", 1)[0]
    rows = {line.split("|")[1].strip().strip("`"): line for line in section.splitlines() if line.startswith("| `")}
    # Then every catalogued code has its row, answered ("yes") exactly when the catalogue says so
    assert set(rows) == {*CODES, UNKNOWN_CODE.code}
    for code, entry in CODES.items():
        assert rows[code].split("|")[3].strip().startswith("yes") is entry.answered, code
