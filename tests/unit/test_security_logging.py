"""Security of what the consumer writes to its logs: the INFO (and DEBUG) lines of a record name the message, never
its payload, whether the message is applied, answered, a duplicate, or dead-lettered."""

from __future__ import annotations

import json
from typing import Any

import pytest

from messaging.envelope import ReplyOutcome
from tests.support.hostile import REPLIES, build_corpus_world, codec, valid_command
from tests.support.lambda_context import FakeLambdaContext
from tests.support.sqs_events import sqs_event, synthetic_record

pytestmark = pytest.mark.unit

MARKER = "card-4111111111111111"


def _body(group: str, *, customer: str | None = None, **line: Any) -> str:
    document = valid_command(group, REPLIES)
    document["data"]["lines"][0].update(line)
    document["data"]["customer_id"] = customer or group
    return json.dumps(document)


@pytest.mark.parametrize(
    ("case", "body"),
    [
        ("applied", _body("customer-1", sku=MARKER)),
        ("invalid payload", _body("customer-1", sku=MARKER, quantity=MARKER)),
        ("partitionkey mismatch", _body("customer-2", customer="customer-3", sku=MARKER)),
    ],
)
def test_no_payload_reaches_an_info_log_line(case: str, body: str) -> None:
    # Given a command whose data holds a card number, handled twice (the second delivery is a duplicate)
    world = build_corpus_world()
    record = synthetic_record(body, group_id=json.loads(body)["partitionkey"])
    world.orders.handle(sqs_event([record]), FakeLambdaContext())
    world.orders.handle(sqs_event([{**record, "messageId": "redelivered"}]), FakeLambdaContext())
    # Then the consumer logged about the message at INFO
    lines = [json.loads(line) for line in world.logs.getvalue().splitlines() if line.strip()]
    info = [line for line in lines if line["level"] in ("INFO", "DEBUG")]
    assert info, case
    # And no INFO or DEBUG line carries any of its data
    assert not [line for line in info if MARKER in json.dumps(line)], case
    # And the failure reply, if any, does not echo it either
    replies = [codec.decode(call["MessageBody"]) for call in world.sqs.to(REPLIES)]
    failures = [reply.data for reply in replies if not ReplyOutcome.from_data(reply.data).ok]
    assert len(failures) == (0 if case == "applied" else 2)
    assert not [data for data in failures if MARKER in json.dumps(data)], case
