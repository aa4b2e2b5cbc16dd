from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cli_fixtures import outputs_for
from moto import mock_aws

from cli.app import Connection, main
from cli.endpoints import Endpoints
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope, Kind, ReplyOutcome, command, reply_to
from messaging.errors import ReplyTimeout
from messaging.reply_store import DynamoDbReplyStore

ASSEMBLY = Path(__file__).parent / "fixtures" / "assembly"
ORDER = '{"customer_id": "c-1", "lines": [{"sku": "b", "quantity": 1, "unit_price": "1.00"}]}'
CANCEL = '{"customer_id": "c-1", "order_id": "o-1"}'
CREATED = json.dumps({"order_id": "o-1", "customer_id": "c-1", "status": "open", "total": "1.00", "currency": "EUR",
                      "item_count": 1, "lines": [{"sku": "b", "quantity": 1, "unit_price": "1.00"}]})
QUOTE = '{"weight_kg": "1.5", "destination": "DE"}'
CREATED = ('{"order_id": "o-1", "customer_id": "c-1", "total": "1.00", "currency": "EUR", "item_count": 1, '
           '"lines": [{"sku": "b", "quantity": 1, "unit_price": "1.00"}]}')


@dataclass(frozen=True)
class FakeReply:
    envelope: Envelope
    outcome: ReplyOutcome
    correlation_id: str
    responder: str


def reply_from(responder: str, outcome: ReplyOutcome, request_id: str = "req-1") -> FakeReply:
    request = command("quotes.RequestQuote", {}, source="/cli", partitionkey="c-1", id=request_id)
    envelope = reply_to(request, outcome, source=responder)
    return FakeReply(envelope, outcome, request_id, responder)


class FakeMessaging:
    """The MessagingClient API the CLI uses, recording calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.error: BaseException | None = None
        self.reply: FakeReply | None = reply_from("/orders", ReplyOutcome.success({"order_id": "o-1"}))

    def _call(self, name: str, *args: Any, traceparent: str | None = None, **kwargs: Any) -> None:
        self.calls.append((name, args, {**kwargs, **({"traceparent": traceparent} if traceparent else {})}))
        if self.error is not None:
            raise self.error

    def notify(self, queue_url: str, type: str, data: Any, *, partitionkey: str, kind: Kind,
               traceparent: str | None = None, deliver_at: datetime | None = None) -> Envelope:
        later = {"deliver_at": deliver_at} if deliver_at is not None else {}
        self._call("notify", queue_url, type, data, partitionkey=partitionkey, kind=kind, traceparent=traceparent,
                   **later)
        return command(type, data, source="/cli", partitionkey=partitionkey, id="m-1")

    def send(self, queue_url: str, type: str, data: Any, *, partitionkey: str, traceparent: str | None = None,
             deliver_at: datetime | None = None) -> str:
        later = {"deliver_at": deliver_at} if deliver_at is not None else {}
        self._call("send", queue_url, type, data, partitionkey=partitionkey, traceparent=traceparent, **later)
        return "req-1"

    def get_reply(self, correlation_id: str) -> FakeReply | None:
        self._call("get_reply", correlation_id)
        return self.reply

    def request(self, queue_url: str, type: str, data: Any, *, partitionkey: str, timeout: float,
                traceparent: str | None = None) -> FakeReply:
        self._call("request", queue_url, type, data, partitionkey=partitionkey, timeout=timeout,
                   traceparent=traceparent)
        assert self.reply is not None
        return self.reply

    def publish(self, topic_arn: str, type: str, data: Any, *, partitionkey: str, kind: Kind,
                traceparent: str | None = None) -> Envelope:
        self._call("publish", topic_arn, type, data, partitionkey=partitionkey, kind=kind, traceparent=traceparent)
        return Envelope(type=type, source="/cli", kind=kind, data=data, id="e-1", partitionkey=partitionkey)

    def scatter_gather(self, topic_arn: str, type: str, data: Any, *, partitionkey: str, window: float,
                       min_replies: int | None, traceparent: str | None = None) -> list[FakeReply]:
        self._call("scatter_gather", topic_arn, type, data, partitionkey=partitionkey, window=window,
                   min_replies=min_replies, traceparent=traceparent)
        return [
            reply_from("/quotes/standard", ReplyOutcome.success({"price": 10})),
            reply_from("/quotes/express", ReplyOutcome.failure("no_capacity", "fully booked")),
        ]


class FakeConnection:
    def __init__(self, args: argparse.Namespace, messaging: FakeMessaging) -> None:
        self.args = args
        self.endpoints = Endpoints.from_outputs(outputs_for())
        self.messaging = messaging


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def fake() -> FakeMessaging:
    return FakeMessaging()


def run(argv: list[str], fake: FakeMessaging | None = None) -> Result:
    out, err = io.StringIO(), io.StringIO()
    connect: Any = (lambda args: FakeConnection(args, fake)) if fake is not None else Connection
    code = main(argv, connect=connect, stdout=out, stderr=err)
    return Result(code, out.getvalue(), err.getvalue())


# ------------------------------------------------------------------------------------------------- arguments (unit)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["request", "orders-command", "orders.CreateOrder", "-k", "customer 42"], "is not 1-128 letters, digits"),
        (["notify", "orders-command", "t", "-k", "c", "--kind", "event"], "invalid choice: 'event'"),
        (["send", "orders-command", "t", "-k", "c", "--data", "{nope"], "argument -d/--data: not JSON"),
        (["notify", "orders-command", "t", "-k", "c", "--data", "[1]"], "must be a JSON object, not list"),
        (["request", "q", "t", "-k", "c", "--timeout", "-1"], "must be greater than 0"),
        (["scatter-gather", "t", "t", "-k", "c", "--min-replies", "x"], "'x' is not an integer"),
        (["topology", "--format", "png"], "invalid choice: 'png'"),
        (["dlq"], "required: ACTION"),
        ([], "required: COMMAND"),
    ],
)
def test_bad_arguments_exit_2_with_a_one_line_error(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given bad arguments / When the CLI parses them
    with pytest.raises(SystemExit) as raised:
        main(argv)
    # Then it exits 2 with the usage and exactly one error line, no traceback
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert raised.value.code == 2
    assert len(errors) == 1 and expected in errors[0]
    assert "Traceback" not in err


# ------------------------------------------------------------------------------------------------- messaging (unit)


@pytest.mark.unit
def test_send_resolves_the_queue_name_and_prints_the_correlation_id(fake: FakeMessaging) -> None:
    # Given a fake client / When a command is sent by queue name with JSON output
    result = run(["send", "orders-command", "orders.CreateOrder", "-k", "c-1", "-d", ORDER, "--json"], fake)
    # Then the queue URL came from the outputs and the correlation id is printed as JSON
    assert result.code == 0
    assert fake.calls == [("send", (outputs_for()["OrdersCommandQueueUrl"], "orders.CreateOrder", json.loads(ORDER)),
                           {"partitionkey": "c-1"})]
    assert json.loads(result.out)["correlation_id"] == "req-1"


@pytest.mark.unit
def test_the_hint_after_send_repeats_where_the_system_is(fake: FakeMessaging) -> None:
    # Given a send to a local cloud server of the stage dev
    argv = ["--endpoint-url", "http://localhost:4567", "send", "orders-command", "orders.CreateOrder", "-k", "c-1",
            "-d", ORDER]
    result = run([*argv, "--stage", "dev"], fake)
    # Then the hint on stderr is a command that reaches the same system
    assert result.code == 0 and result.out.strip() == "req-1"
    assert "reply with: python -m cli --endpoint-url http://localhost:4567 --stage dev reply req-1" in result.err


@pytest.mark.unit
def test_json_flag_is_accepted_before_the_subcommand(fake: FakeMessaging) -> None:
    # Given --json before the subcommand / When notify runs / Then the output is JSON
    result = run(["--json", "notify", "orders-command", "orders.CancelOrder", "-k", "c-1", "-d", CANCEL], fake)
    assert json.loads(result.out) == {"id": "m-1", "type": "orders.CancelOrder", "kind": "command",
                                      "partitionkey": "c-1", "source": "/cli", "dataref": None, "traceparent": None}


@pytest.mark.unit
def test_request_prints_the_reply_and_progress_goes_to_stderr(fake: FakeMessaging) -> None:
    # Given a client that answers / When a blocking request runs
    result = run(["request", "orders-command", "orders.CreateOrder", "-k", "c-1", "--timeout", "3", "-d", ORDER], fake)
    # Then the reply is a table on stdout and the wait was shown on stderr
    assert result.code == 0
    assert result.out.splitlines()[0].split() == ["RESPONDER", "OUTCOME", "RESULT", "/", "ERROR"]
    assert '/orders    success  {"order_id":"o-1"}' in result.out
    assert "waiting for the reply to orders.CreateOrder (up to 3.0s)" in result.err
    assert fake.calls[0][2]["timeout"] == 3.0


@pytest.mark.unit
def test_request_timeout_exits_1_with_one_line(fake: FakeMessaging) -> None:
    # Given a client whose request times out
    fake.error = ReplyTimeout("req-9", 0.5)
    # When the request runs
    result = run(["request", "orders-command", "orders.CreateOrder", "-k", "c-1", "-q", "-d", ORDER], fake)
    # Then the exit code is 1 and stderr holds one line
    assert result.code == 1
    assert result.err == "error: timed out: no reply to req-9 within 0.5s\n"


@pytest.mark.unit
def test_a_failure_reply_is_shown_and_exits_1_for_request_and_reply(fake: FakeMessaging) -> None:
    # Given a command that is answered with a failure
    fake.reply = reply_from("/orders", ReplyOutcome.failure("order_not_found", "no such order"))
    # When it is requested, and when its reply is fetched later
    requested = run(["request", "orders-command", "orders.CancelOrder", "-k", "c-1", "-q", "-d", CANCEL], fake)
    fetched = run(["reply", "req-1"], fake)
    # Then both show the failure and exit 1
    for result in (requested, fetched):
        assert result.code == 1
        assert "order_not_found: no such order" in result.out


@pytest.mark.unit
def test_reply_not_there_yet_exits_3(fake: FakeMessaging) -> None:
    # Given no reply stored yet / When it is asked for
    fake.reply = None
    result = run(["reply", "req-1", "--json"], fake)
    # Then the exit code says "not yet" and the JSON says no outcome
    assert result.code == 3
    assert json.loads(result.out) == {"correlation_id": "req-1", "outcome": None}


@pytest.mark.unit
def test_scatter_gather_lists_every_responder(fake: FakeMessaging) -> None:
    # Given responders that answer / When scatter-gather runs with a minimum
    result = run(["scatter-gather", "quote-requests", "quotes.RequestQuote", "-k", "c-1", "-w", "1", "-n", "2",
                  "--json", "-d", QUOTE], fake)
    # Then each reply is listed with its outcome, and the window and minimum reached the client
    replies = json.loads(result.out)
    assert [(r["responder"], r["outcome"]) for r in replies] == [("/quotes/standard", "success"),
                                                                 ("/quotes/express", "failure")]
    assert replies[1]["error"] == {"code": "no_capacity", "message": "fully booked"}
    assert fake.calls[0][2] == {"partitionkey": "c-1", "window": 1.0, "min_replies": 2}


@pytest.mark.unit
def test_publish_takes_a_topic_name_and_a_kind(fake: FakeMessaging) -> None:
    # Given a fake client / When an event is published by topic name
    argv = ["publish", "order-events", "orders.OrderCreated", "-k", "c-1", "--kind", "event", "-d", CREATED]
    result = run(argv, fake)
    # Then the ARN came from the outputs and the kind is typed
    assert result.code == 0
    assert fake.calls[0][1][0] == outputs_for()["OrderEventsTopicArn"]
    assert fake.calls[0][2]["kind"] is Kind.EVENT
    assert result.out.startswith("published orders.OrderCreated (event) id=e-1")


@pytest.mark.unit
def test_aws_errors_are_one_line_and_exit_1(fake: FakeMessaging) -> None:
    # Given an AWS error from the client
    fake.error = ClientError({"Error": {"Code": "AWS.SimpleQueueService.NonExistentQueue", "Message": "no queue"}},
                             "SendMessage")
    # When a command is sent
    result = run(["notify", "orders-command", "orders.CancelOrder", "-k", "c-1", "-d", CANCEL], fake)
    # Then one line names the operation and the code
    assert result.code == 1
    assert result.err == "error: SendMessage failed: AWS.SimpleQueueService.NonExistentQueue: no queue\n"


@pytest.mark.unit
def test_unknown_queue_name_is_a_usage_error_in_one_line(fake: FakeMessaging) -> None:
    # Given a queue name that is not in the outputs / When used / Then one line lists the known names, exit 2
    result = run(["notify", "nope", "orders.CancelOrder", "-k", "c-1", "-d", CANCEL], fake)
    assert result.code == 2
    assert result.err.startswith("error: unknown queue 'nope' (known: ")
    assert result.err.count("\n") == 1


@pytest.mark.unit
def test_a_topic_where_a_queue_is_expected_gets_a_hint_and_the_reverse_too(fake: FakeMessaging) -> None:
    # When a topic is named where a queue is expected / Then exit 2 and one line says what to do instead
    result = run(["send", "order-events", "orders.CreateOrder", "-k", "c-1", "-d", ORDER], fake)
    assert result.code == 2
    assert result.err.startswith("error: 'order-events' is a topic, not a queue: publish to it with `publish`")
    assert result.err.count("\n") == 1
    # When a queue is named where a topic is expected / Then the same, the other way round
    result = run(["publish", "orders-command", "orders.OrderCreated", "-k", "c-1", "-d", CREATED], fake)
    assert result.code == 2
    assert result.err.startswith("error: 'orders-command' is a queue, not a topic: send to it with `notify`")


@pytest.mark.unit
def test_missing_outputs_file_is_one_line(tmp_path: Path) -> None:
    # Given an outputs file without the reply channel
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"OrdersCommandQueueUrl": "u"}))
    # When a command needs the endpoints / Then one line names the missing outputs
    result = run(["--outputs", str(path), "status"])
    assert result.code == 1
    assert result.err == "error: stack output(s) missing: OrderEventsTopicArn, QuoteRequestsTopicArn, ...\n"


# ------------------------------------------------------------------------------------------------- topology (unit)


@pytest.mark.unit
def test_topology_writes_a_markdown_page_with_mermaid(tmp_path: Path) -> None:
    # Given the fixture assembly / When the topology is written to a file
    target = tmp_path / "topology.md"
    result = run(["topology", "--assembly", str(ASSEMBLY), "-o", str(target)])
    # Then the file is a Markdown page with a Mermaid flowchart and stderr says what was written
    assert result.code == 0
    assert target.read_text().startswith("# Messaging topology\n\n```mermaid\nflowchart LR")
    assert "7 nodes, 7 edges" in result.err


@pytest.mark.unit
@pytest.mark.parametrize(("fmt", "start"), [("dot", "digraph messaging {"), ("mermaid", "flowchart LR")])
def test_topology_formats_on_stdout(fmt: str, start: str) -> None:
    # Given the fixture assembly / When rendered to stdout / Then it is the requested format
    result = run(["topology", "--assembly", str(ASSEMBLY), "--format", fmt])
    assert result.out.startswith(start)


@pytest.mark.unit
def test_topology_json_lists_nodes_and_edges() -> None:
    # Given the fixture assembly / When rendered with --json / Then nodes and edges are plain JSON
    document = json.loads(run(["topology", "--assembly", str(ASSEMBLY), "--json"]).out)
    assert len(document["nodes"]) == 7 and len(document["edges"]) == 7


@pytest.mark.unit
def test_topology_svg_without_graphviz_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no Graphviz on PATH
    monkeypatch.setenv("PATH", "")
    # When SVG is asked for / Then one line says what to do
    result = run(["topology", "--assembly", str(ASSEMBLY), "--format", "svg"])
    assert result.code == 1
    assert result.err.startswith("error: Graphviz 'dot' not found") and result.err.count("\n") == 1


@pytest.mark.unit
def test_topology_without_an_assembly_is_one_line(tmp_path: Path) -> None:
    # Given no cdk.out / When topology runs / Then one line says to synthesize
    result = run(["topology", "--assembly", str(tmp_path / "cdk.out")])
    assert result.code == 1 and "run `make synth`" in result.err


# ------------------------------------------------------------------------------------------- status and dlq (moto)


@pytest.fixture
def deployed(aws_env: None, tmp_path: Path) -> Iterator[tuple[Path, Any, dict[str, str]]]:
    """Queues of a small deployment on moto and an outputs file naming them."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        urls: dict[str, tuple[str | None, str | None]] = {}
        for name in ("orders-command", "billing"):
            dlq = sqs.create_queue(QueueName=f"{name}-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
            url = sqs.create_queue(QueueName=f"{name}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
            urls["OrdersCommand" if name == "orders-command" else "Billing"] = (url, dlq)
        outputs = outputs_for(urls)
        outputs.pop("ReplyQueueUrl")
        outputs["ReplyQueueUrl"] = sqs.create_queue(QueueName="reply.fifo", Attributes={"FifoQueue": "true"})[
            "QueueUrl"
        ]
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps(outputs))
        yield path, sqs, outputs


@pytest.mark.integration
def test_status_table_and_json(deployed: tuple[Path, Any, dict[str, str]]) -> None:
    # Given two messages in the orders queue and one in the billing DLQ
    path, sqs, outputs = deployed
    for n in range(2):
        sqs.send_message(QueueUrl=outputs["OrdersCommandQueueUrl"], MessageBody="{}", MessageGroupId="g",
                         MessageDeduplicationId=str(n))
    sqs.send_message(QueueUrl=outputs["BillingDeadLetterQueueUrl"], MessageBody="{}", MessageGroupId="g",
                     MessageDeduplicationId="x")
    # When the status is shown as a table and as JSON
    table_result = run(["status", "--outputs", str(path)])
    json_result = run(["status", "--outputs", str(path), "--json"])
    # Then the table has a row per queue with n/a for the unknown age, and the JSON the same numbers
    rows = {line.split()[0]: line.split()[1:] for line in table_result.out.splitlines()[1:]}
    assert rows["OrdersCommand"] == ["2", "0", "0", "n/a", "n/a"]
    assert rows["Billing"] == ["0", "0", "1", "n/a", "n/a"]
    statuses = {s["name"]: s for s in json.loads(json_result.out)}
    assert statuses["Billing"]["dead_letters"] == 1 and statuses["Billing"]["oldest_age_seconds"] is None


@pytest.mark.integration
def test_dlq_list_and_redrive_through_the_cli(deployed: tuple[Path, Any, dict[str, str]]) -> None:
    # Given two dead letters of one group with failure attributes
    path, sqs, outputs = deployed
    for n in range(2):
        sqs.send_message(
            QueueUrl=outputs["BillingDeadLetterQueueUrl"],
            MessageBody=json.dumps({"id": f"e-{n}", "type": "orders.OrderCreated"}),
            MessageGroupId="c-1",
            MessageDeduplicationId=f"d-{n}",
            MessageAttributes={"failure-code": {"DataType": "String", "StringValue": "invalid_payload"},
                               "failure-reason": {"DataType": "String", "StringValue": "total: field required"}},
        )
    # When the DLQ is listed
    listed = run(["dlq", "list", "billing", "--outputs", str(path)])
    # Then each message shows its group, type and failure, and they are left in place
    lines = listed.out.splitlines()
    assert lines[0].split()[:3] == ["GROUP", "SENT", "(UTC)"]
    assert "c-1" in lines[1] and "orders.OrderCreated" in lines[1] and "invalid_payload" in lines[1]
    assert "total: field required" in lines[2]
    assert "2 message(s) in" in listed.err
    # When a dry run is made, naming the DLQ / Then it counts both, shows progress, and moves none
    dry = run(["dlq", "redrive", "billing-dlq.fifo", "--dry-run", "--outputs", str(path)])
    assert dry.out.strip() == (
        "dry run: would move 2, skipped 0, failed 0 of the 2 message(s) in Billing's DLQ at the start (1 group(s))"
    )
    assert dry.err.splitlines()[-1] == "redrive Billing: 2/2 would move, 0 skipped, 0 failed"
    assert "Messages" not in sqs.receive_message(QueueUrl=outputs["BillingQueueUrl"])
    # When they are redriven
    redriven = run(["dlq", "redrive", "billing", "--outputs", str(path), "--json"])
    # Then both moved back to the billing queue in order
    assert json.loads(redriven.out)["moved"] == 2
    received = sqs.receive_message(QueueUrl=outputs["BillingQueueUrl"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["id"] for m in received] == ["e-0", "e-1"]


# ------------------------------------------------------------------------------ the real client on moto (integration)


@pytest.fixture
def messaging_stack(deployed: tuple[Path, Any, dict[str, str]]) -> tuple[Path, Any, dict[str, str]]:
    """The deployment plus the reply table, so the CLI runs the real MessagingClient."""
    path, sqs, outputs = deployed
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName=outputs["ReplyTableName"],
        KeySchema=[
            {"AttributeName": "correlationid", "KeyType": "HASH"},
            {"AttributeName": "replyid", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[{"AttributeName": "correlationid", "AttributeType": "S"},
                              {"AttributeName": "replyid", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return path, sqs, outputs


@pytest.mark.integration
def test_send_then_reply_with_the_real_client(messaging_stack: tuple[Path, Any, dict[str, str]]) -> None:
    # Given the CLI sends a command with replyto
    path, sqs, outputs = messaging_stack
    sent = run(["send", "orders-command", "orders.CreateOrder", "-d", ORDER, "--outputs", str(path), "--json"])
    correlation_id = json.loads(sent.out)["correlation_id"]
    # Then the command is on the queue with the reply queue as replyto, its partitionkey taken from customer_id
    [message] = sqs.receive_message(QueueUrl=outputs["OrdersCommandQueueUrl"])["Messages"]
    request = json.loads(message["Body"])
    assert (request["id"], request["replyto"], request["partitionkey"]) == (correlation_id, outputs["ReplyQueueUrl"],
                                                                           "c-1")
    # When no reply is stored yet / Then `reply` exits 3
    assert run(["reply", correlation_id, "--outputs", str(path)]).code == 3
    # When the orders service's reply is stored (as the reply router does)
    envelope = CloudEventJsonCodec().decode(message["Body"])
    DynamoDbReplyStore(outputs["ReplyTableName"], boto3.client("dynamodb", region_name="us-east-1")).put(
        reply_to(envelope, ReplyOutcome.success({"order_id": "o-7"}), source="/orders"), 3600
    )
    # Then `reply` shows it
    shown = run(["reply", correlation_id, "--outputs", str(path), "--json"])
    assert shown.code == 0
    assert json.loads(shown.out) | {"time": None} == {
        "correlation_id": correlation_id, "responder": "/orders", "outcome": "success",
        "reply_id": json.loads(shown.out)["reply_id"], "type": "orders.CreateOrder.Reply", "time": None,
        "result": {"order_id": "o-7"}, "traceparent": json.loads(shown.out)["traceparent"],
    }
    # And the reply continues the trace the command started
    assert json.loads(shown.out)["traceparent"][3:35] == request["traceparent"][3:35]


@pytest.mark.integration
def test_request_without_a_responder_times_out_with_exit_1(messaging_stack: tuple[Path, Any, dict[str, str]]) -> None:
    # Given no service consumes the orders queue / When a blocking request waits briefly
    path, _, _ = messaging_stack
    result = run(["request", "orders-command", "orders.CreateOrder", "-k", "c-1", "--timeout", "0.3",
                  "-d", ORDER, "--outputs", str(path)])
    # Then it times out with exit 1 and one error line after the progress lines
    assert result.code == 1
    assert result.err.splitlines()[-1].startswith("error: timed out: no reply to ")
    assert result.err.splitlines()[0] == "waiting for the reply to orders.CreateOrder (up to 0.3s)"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-k", "c-2", "-d", ORDER], "partitionkey 'c-2' is not data.customer_id"),
        (["-d", "{}"], "data does not match CreateOrder: data.customer_id: Field required"),
    ],
)
def test_a_partition_key_that_contradicts_the_declared_shard_key_is_refused_before_sending(
    messaging_stack: tuple[Path, Any, dict[str, str]], argv: list[str], expected: str
) -> None:
    # Given the real client / When a CreateOrder goes with another key than its customer_id, or without either
    path, sqs, outputs = messaging_stack
    result = run(["send", "orders-command", "orders.CreateOrder", *argv, "--outputs", str(path)])
    # Then the CLI refuses with one line and exit 2, and nothing was sent
    assert (result.code, result.err.count("\n")) == (2, 1)
    assert expected in result.err
    assert "Messages" not in sqs.receive_message(QueueUrl=outputs["OrdersCommandQueueUrl"])


@pytest.mark.unit
def test_data_over_the_documented_maximum_is_refused_before_sending(fake: FakeMessaging, tmp_path: Path) -> None:
    # Given a JSON file over 5 MiB
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"blob": "x" * (5 * 1024 * 1024)}))
    # When it is sent / Then argparse refuses it in one line with exit 2, and the client was never called
    with pytest.raises(SystemExit) as raised:
        run(["notify", "orders-command", "t", "-k", "c", "-d", f"@{big}"], fake)
    assert raised.value.code == 2
    assert fake.calls == []


@pytest.mark.integration
def test_injected_endpoints_and_clients_serve_an_in_process_cloud(deployed: tuple[Path, Any, dict[str, str]]) -> None:
    # Given endpoints and clients from an in-process cloud (here: moto), not from the arguments
    _, _, outputs = deployed
    endpoints = Endpoints.from_outputs(outputs)

    def connect(args: argparse.Namespace) -> Connection:
        return Connection(
            args, endpoints=endpoints, client_factory=lambda name: boto3.client(name, region_name="us-east-1")
        )

    out, err = io.StringIO(), io.StringIO()
    # When status runs without --outputs or --stacks
    code = main(["status", "billing", "--json", "--no-age"], connect=connect, stdout=out, stderr=err)
    # Then it used the injected endpoints
    assert code == 0
    assert [s["name"] for s in json.loads(out.getvalue())] == ["Billing"]


# ---------------------------------------------------------------------------------------------------------- trace


class FakeLogs:
    """CloudWatch Logs with one processed command that emitted one event, applied by billing."""

    LINES = {
        "/aws/lambda/orders": [
            (1000, {"message": "message processed", "service": "orders", "cloudevent_id": "c-1",
                    "cloudevent_type": "orders.CreateOrder", "correlationid": "c-1", "kind": "command",
                    "duplicate": False, "event_ids": ["e-1"]}),
        ],
        "/aws/lambda/billing": [
            (1200, {"message": "message processed", "service": "billing", "cloudevent_id": "e-1",
                    "cloudevent_type": "orders.OrderCreated", "correlationid": "e-1", "kind": "event",
                    "duplicate": False}),
        ],
    }

    def describe_log_groups(self, **_: Any) -> dict[str, Any]:
        return {"logGroups": [{"logGroupName": name} for name in self.LINES]}

    def filter_log_events(self, *, logGroupName: str, filterPattern: str, **_: Any) -> dict[str, Any]:  # noqa: N803
        term = filterPattern.strip('"')
        return {"events": [{"timestamp": at, "message": json.dumps(doc)}
                           for at, doc in self.LINES[logGroupName] if term in json.dumps(doc)]}


class EmptyQueues:
    """SQS whose queues hold nothing (the peek of ``trace`` receives nothing), and Lambda with no triggers."""

    def receive_message(self, **_: Any) -> dict[str, Any]:
        return {"Messages": []}

    def change_message_visibility_batch(self, **_: Any) -> None:
        raise AssertionError("nothing was received")


class LogsConnection(FakeConnection):
    def client(self, service: str) -> Any:
        assert service in ("logs", "sqs", "lambda")
        return FakeLogs() if service == "logs" else EmptyQueues()


def run_trace(argv: list[str]) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, connect=lambda args: LogsConnection(args, FakeMessaging()), stdout=out, stderr=err)
    return Result(code, out.getvalue(), err.getvalue())


@pytest.mark.unit
def test_trace_prints_each_hop_and_follows_the_emitted_event() -> None:
    # When the command's journey is traced
    result = run_trace(["trace", "c-1"])
    # Then it lists the command processed by orders and its event processed by billing, in order, and exits 0
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert "c-1" in lines[0] and "2 hop(s)" in lines[0]
    assert "orders" in lines[1] and "published 1 event(s)" in lines[1]
    assert "billing" in lines[2] and "(event of c-1)" in lines[2]


@pytest.mark.unit
def test_trace_of_an_unknown_id_exits_1_with_one_line() -> None:
    result = run_trace(["trace", "nope", "--since", "5"])
    assert result.code == 1
    assert result.err.strip().splitlines() == [
        "error: no queue holds nope and no log line of the last 5 minutes mentions it"]


@pytest.mark.unit
def test_trace_json_lists_the_hops() -> None:
    result = run_trace(["trace", "c-1", "--json"])
    document = json.loads(result.out)
    assert [hop["service"] for hop in document["hops"]] == ["orders", "billing"]
    assert document["messages"] == ["c-1", "e-1"]
