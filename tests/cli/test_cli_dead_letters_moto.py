"""Dead letters one by one and "where is my message", against SQS on moto: retry, delete and edit-retry of named
messages, counts per failure code, and a message found waiting (behind what, in which group) or dead-lettered."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cli import dead_letters as dl
from cli import queues as q
from cli.app import Connection, main
from cli.endpoints import Endpoints, QueueEndpoint
from cli.whereabouts import DEAD_LETTERED, WAITING, locate
from tests.cli.test_cli_queues_moto import dead_letter, drain, make_pair

pytestmark = pytest.mark.integration


@pytest.fixture
def sqs(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def ids_in(sqs: Any, url: str) -> list[str]:
    return [json.loads(m["Body"])["id"] for m in q.peek(sqs, url)]


def test_retry_moves_only_the_named_messages_back_and_delete_removes_only_the_named_ones(sqs: Any) -> None:
    # Given three dead letters of one group
    queue = make_pair(sqs, "orders")
    for n in range(3):
        dead_letter(sqs, queue, "alice", n)
    dlq = queue.dead_letter_url or ""
    sqs_id_of_second = next(m["MessageId"] for m in q.peek(sqs, dlq) if json.loads(m["Body"])["id"] == "alice-1")
    # When the first is retried by CloudEvent id and the second deleted by SQS message id
    retried = dl.retry(sqs, queue, ["alice-0"])
    deleted = dl.delete(sqs, queue, [sqs_id_of_second])
    # Then the first is back in the source queue, marked as redriven once, without its failure attributes
    assert (retried.done, retried.missing, deleted.done) == (["alice-0"], [], [sqs_id_of_second])
    [back] = drain(sqs, queue.url or "")
    assert json.loads(back["Body"])["id"] == "alice-0"
    assert back["MessageAttributes"][q.REDRIVE_COUNT_ATTRIBUTE]["StringValue"] == "1"
    assert "failure-code" not in back["MessageAttributes"]
    # And only the third stays in the DLQ, visible
    assert ids_in(sqs, dlq) == ["alice-2"]


def test_an_id_that_is_not_there_is_reported_missing_and_nothing_else_changes(sqs: Any) -> None:
    queue = make_pair(sqs, "orders")
    dead_letter(sqs, queue, "bob", 0)
    outcome = dl.delete(sqs, queue, ["no-such-id"])
    assert (outcome.done, outcome.missing) == ([], ["no-such-id"])
    assert ids_in(sqs, queue.dead_letter_url or "") == ["bob-0"]


def test_edit_retry_sends_the_corrected_body_with_the_same_source_and_id_and_refuses_another_identity(
    sqs: Any,
) -> None:
    # Given a dead letter whose data failed validation
    queue = make_pair(sqs, "orders")
    dead_letter(sqs, queue, "carol", 0)
    original = json.loads(q.peek(sqs, queue.dead_letter_url or "")[0]["Body"])
    # When a correction changes its id / Then it is refused and the dead letter stays
    with pytest.raises(dl.BadCorrection, match="must keep id 'carol-0'"):
        dl.edit_retry(sqs, queue, "carol-0", {**original, "id": "other"})
    assert ids_in(sqs, queue.dead_letter_url or "") == ["carol-0"]
    # When the corrected body keeps source and id
    corrected = {**original, "data": {"customer_id": "carol", "lines": []}}
    outcome = dl.edit_retry(sqs, queue, "carol-0", corrected)
    # Then the corrected message is in the source queue, in the same group, and the dead letter is gone
    assert outcome.done == ["carol-0"]
    [sent] = drain(sqs, queue.url or "")
    assert json.loads(sent["Body"]) == corrected
    assert sent["Attributes"]["MessageGroupId"] == "carol"
    assert ids_in(sqs, queue.dead_letter_url or "") == []


def test_count_by_code_counts_every_peeked_message(sqs: Any) -> None:
    queue = make_pair(sqs, "orders")
    for n, code in enumerate(("invalid_payload", "not_json", "invalid_payload")):
        dead_letter(sqs, queue, f"g{n}", n, code=code)
    listing = q.list_dead_letters(sqs, queue)
    assert dl.count_by_code(listing.messages) == {"invalid_payload": 2, "not_json": 1}


def test_locate_finds_a_waiting_message_behind_its_group_and_a_dead_letter_with_its_code(sqs: Any) -> None:
    # Given three commands waiting in one group (no consumer) and one dead letter redriven once before
    queue = make_pair(sqs, "orders")
    sent = []
    for n in range(3):
        body = json.dumps({"specversion": "1.0", "id": f"w-{n}", "source": "/t", "type": "orders.CreateOrder"})
        sent.append(sqs.send_message(QueueUrl=queue.url, MessageBody=body, MessageGroupId="dave",
                                     MessageDeduplicationId=f"w-{n}")["MessageId"])
    dead_letter(sqs, queue, "erin", 0, code="not_json")
    # When the third is looked for by SQS message id, and the dead letter by CloudEvent id
    waiting = locate(sqs, [queue], sent[2], trigger_state=lambda url: "disabled")
    dead = locate(sqs, [queue], "erin-0")
    # Then the third waits in the queue, behind the first two of its group, its trigger disabled
    assert waiting is not None and dead is not None
    assert (waiting.state, waiting.queue, waiting.group, waiting.ahead) == (WAITING, "orders.fifo", "dave",
                                                                           ("w-0", "w-1"))
    assert "behind 2 message(s) of its group (w-0, w-1); its trigger is disabled" in waiting.describe()
    # And the dead letter is in the DLQ with its code
    assert (dead.state, dead.queue, dead.failure_code) == (DEAD_LETTERED, "orders-dlq.fifo", "not_json")
    assert "failure not_json" in dead.describe()
    # And nothing was taken: every message is still visible where it was
    assert ids_in(sqs, queue.url or "") == ["w-0", "w-1", "w-2"]
    assert locate(sqs, [queue], "never-sent") is None


def cli(sqs: Any, queue: QueueEndpoint, argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    endpoints = Endpoints.from_outputs({
        "OrdersCommandQueueUrl": queue.url, "OrdersCommandDeadLetterQueueUrl": queue.dead_letter_url,
        "OrderEventsTopicArn": "arn:aws:sns:us-east-1:123456789012:order-events.fifo",
        "QuoteRequestsTopicArn": "arn:aws:sns:us-east-1:123456789012:quote-requests.fifo",
        "ReplyQueueUrl": queue.url, "ReplyTableName": "replies"})
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, connect=lambda args: Connection(args, endpoints=endpoints, client_factory=lambda _: sqs),
                stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_dlq_delete_without_yes_and_without_a_terminal_refuses_with_exit_2(
    sqs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a dead letter, and no terminal on stdin
    queue = make_pair(sqs, "orders")
    dead_letter(sqs, queue, "frank", 0)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    # When it is deleted without --yes / Then nothing is deleted, one line, exit 2
    code, _, err = cli(sqs, queue, ["dlq", "delete", "orders-command", "frank-0"])
    assert code == 2
    assert err.startswith("error: delete 1 message(s) from OrdersCommand's dead-letter queue for good: refused")
    assert ids_in(sqs, queue.dead_letter_url or "") == ["frank-0"]
    # When it is deleted with --yes / Then it is gone
    code, out, _ = cli(sqs, queue, ["dlq", "delete", "orders-command", "frank-0", "--yes"])
    assert (code, out.strip()) == (0, "deleted 1 message(s) of OrdersCommand's DLQ: frank-0")
    assert ids_in(sqs, queue.dead_letter_url or "") == []


def test_dlq_list_group_by_code_and_retry_through_the_cli(sqs: Any) -> None:
    queue = make_pair(sqs, "orders")
    for n, code in enumerate(("not_json", "invalid_payload", "not_json")):
        dead_letter(sqs, queue, f"g{n}", n, code=code)
    code, out, _ = cli(sqs, queue, ["dlq", "list", "orders-command", "--group-by", "code", "--json"])
    assert code == 0 and json.loads(out)["by_code"] == {"not_json": 2, "invalid_payload": 1}
    code, out, err = cli(sqs, queue, ["dlq", "retry", "orders-command", "g1-1", "nope"])
    assert code == 1
    assert out.strip() == "retried 1 message(s) of OrdersCommand's DLQ: g1-1"
    assert err.startswith("error: nope is not in OrdersCommand's DLQ")
