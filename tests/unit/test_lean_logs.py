"""The consumers' lean log lines (messaging.logs): what a line leaves out, what it keeps, and that the journey of a
message (``fifo-messaging trace``, the console) still reads from them."""

from __future__ import annotations

import io
import json
import logging
import sys
import time
import uuid
from typing import Any

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from cli.trace import trace
from messaging.logs import LeanFormatter, consumer_logger
from tests.support.consumer_world import World, build_world, create, record_of

pytestmark = pytest.mark.unit

SAMPLED = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.fixture
def world() -> World:
    w = build_world()
    w.consumer._logger = consumer_logger(f"orders-lean-{uuid.uuid4().hex}", stream=w.logs)
    return w


class LinesAsLogs:
    """A CloudWatch Logs client over one log group holding ``lines`` (FilterLogEvents by a quoted term)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def describe_log_groups(self, **kwargs: Any) -> dict[str, Any]:
        return {"logGroups": [{"logGroupName": "/aws/lambda/orders"}]}

    def filter_log_events(self, **kwargs: Any) -> dict[str, Any]:
        term = kwargs["filterPattern"].strip('"')
        now = int(time.time() * 1000)
        found = [{"timestamp": now + n, "message": line} for n, line in enumerate(self.lines) if term in line]
        return {"events": found}


def test_a_line_keeps_level_message_service_and_its_keys_and_nothing_repeated(world: World) -> None:
    # Given a command handled by a consumer with its own logger
    cmd = create("ink")
    world.handle(record_of(cmd))
    # Then each line has no location and no timestamp (CloudWatch Logs stamps every event)
    lines = world.log_lines()
    assert lines and all("location" not in line and "timestamp" not in line for line in lines)
    [processed] = [line for line in lines if line["message"] == "message processed"]
    assert set(processed) == {"level", "message", "service", "sqs_message_id", "cloudevent_id", "cloudevent_type",
                              "trace_id", "kind", "event_ids", "reply_id", "outcome"}
    assert processed["level"] == "INFO" and processed["service"].startswith("orders-lean-")


def test_the_xray_trace_id_is_logged_only_while_xray_records_the_invocation(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    logger = consumer_logger(f"xray-{uuid.uuid4().hex}", stream=stream)
    # Given Lambda's trace header of an invocation that is not sampled, then of one that is
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", SAMPLED.replace("Sampled=1", "Sampled=0"))
    logger.info("not sampled")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", SAMPLED)
    logger.info("sampled")
    # Then only the sampled invocation's line links to its X-Ray trace
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert "xray_trace_id" not in first
    assert second["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"


def test_exceptions_and_structured_messages_are_logged_as_powertools_does() -> None:
    stream = io.StringIO()
    logger = consumer_logger(f"errors-{uuid.uuid4().hex}", stream=stream)
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("processing failed; SQS will retry")
    logger.info({"kind": "a dict message"})
    logger.info('{"json": "text"}')
    failed, as_dict, as_json = (json.loads(line) for line in stream.getvalue().splitlines())
    assert failed["exception_name"] == "ValueError" and "boom" in failed["exception"]
    assert failed["level"] == "ERROR" and "location" not in failed
    assert as_dict["message"] == {"kind": "a dict message"}
    assert as_json["message"] == {"json": "text"}


def test_the_journey_of_a_request_reads_from_the_lean_lines(world: World) -> None:
    # Given a request handled, the event it emitted consumed, and its reply routed, all in lean lines
    cmd = create("journey")
    world.handle(record_of(cmd))
    created = world.publisher.published[0]
    world.handle(record_of(created))
    [reply] = world.replies()
    world.handle(record_of(reply))
    lines = world.logs.getvalue().splitlines()
    # When trace follows the request's id (its correlation id)
    journey = trace(LinesAsLogs(lines), cmd.id)
    # Then it finds the request, the event it emitted and the stored reply, as before
    hops = [(hop.message_id, hop.what, hop.detail) for hop in journey.hops]
    assert (cmd.id, "processed", f"published 2 event(s), replied {reply.id} (success)") in hops
    assert (created.id, "processed", "") in hops
    assert (reply.id, "reply stored", f"for request {cmd.id}") in hops
    # And a redelivery of the request is told apart
    world.handle(record_of(cmd, receive_count=2))
    again = trace(LinesAsLogs(world.logs.getvalue().splitlines()), cmd.id)
    assert [hop.what for hop in again.hops if hop.message_id == cmd.id] == [
        "processed", "duplicate delivery, stored outcome replayed"]


def test_a_lean_line_is_the_powertools_line_without_location_and_timestamp() -> None:
    # Given the stock Powertools formatter and the lean one, with the same thread keys
    stock, lean = LambdaPowertoolsFormatter(service="same"), LeanFormatter(service="same")
    lean.thread_safe_append_keys(cloudevent_id="c-1", trace_id="t" * 32, empty=None, level_copy="%(levelname)s")
    try:
        try:
            raise KeyError("missing")
        except KeyError:
            failure = sys.exc_info()
        records = [
            logging.LogRecord("same", logging.INFO, __file__, 1, "message processed", None, None),
            logging.LogRecord("same", logging.WARNING, __file__, 2, "moved %s", ("away",), None),
            logging.LogRecord("same", logging.ERROR, __file__, 3, "failed", None, failure),
            logging.LogRecord("same", logging.INFO, __file__, 4, {"a": 1}, None, None),
        ]
        records[0].__dict__.update(kind="command", event_ids=["e-1"], duplicate=None, outcome="success")
        # When each formats the same records
        for record in records:
            expected = json.loads(stock.format(record))
            # Then the lines are the same but for the keys the lean one leaves out
            assert json.loads(lean.format(record)) == {
                k: v for k, v in expected.items() if k not in ("location", "timestamp")
            }
    finally:
        lean.thread_safe_clear_keys()


def test_the_metrics_line_holds_zero_counters_once_a_minute(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given batches handled within one minute, then one in the next minute
    now = [1_800_000_000.0]
    monkeypatch.setattr("messaging.consumer.time.time", lambda: now[0])
    world.handle(record_of(create("first")))
    now[0] += 10
    world.handle(record_of(create("second")))
    now[0] += 60
    world.handle(record_of(create("third")))
    # Then the minute's first line holds every counter (zeros included: the dashboard shows 0, not a gap), the
    # others only what their batch moved
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = [[m["Name"] for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]] for doc in emf]
    every = ["MessagesProcessed", "MessagesDeadLettered", "MessagesRetried", "DuplicateDeliveries", "RepliesSent"]
    assert names == [every, ["MessagesProcessed", "RepliesSent"], every]
    assert [doc["MessagesDeadLettered"] for doc in (emf[0], emf[2])] == [[0.0], [0.0]]
    assert len(json.dumps(emf[1])) < len(json.dumps(emf[0])) - 150
