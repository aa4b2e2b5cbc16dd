"""Structure-aware fuzz of the consumer: batches of valid CreateOrder commands and mutations of them (attributes
dropped or set to hostile values, data fields broken, bodies truncated, corpus cases, random text) through the orders
consumer on in-memory fakes. Whatever comes in: no crash and no retry, every record is applied, dead-lettered with a
catalogued code, or a duplicate of one applied before; each message group keeps its order; replies go only to the
allowed reply queue."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging.failures import CODES
from tests.support.hostile import ORDERS_DLQ, REPLIES, build_corpus_world, load_corpus, valid_command
from tests.support.lambda_context import FakeLambdaContext
from tests.support.sqs_events import sqs_event, synthetic_record

pytestmark = pytest.mark.unit

BATCH = 10
EXAMPLES = 120
"""120 batches of 10 records: 1,200 generated records per run (about 3 s)."""
GROUPS = ("customer-1", "customer-2", "customer-3")
ATTRIBUTES = (
    "specversion", "id", "source", "type", "kind", "schemaversion", "datacontenttype", "time", "partitionkey",
    "replyto", "data", "correlationid", "dataref", "subject", "data_base64", "Bad-Ext",
)  # fmt: skip
HOSTILE_TEXT = st.sampled_from(
    [
        "", "0.3", "2", "1.7", "command", "event", "reply", "document", "orders.Teleport", "orders.CreateOrder",
        REPLIES, "https://sqs.eu-west-1.amazonaws.com/666666666666/evil.fifo", "application/xml", "last tuesday",
        "2026-11-30T10:00:00Z", "customer 42", "customer-2", "\udc80", "x" * 300, "s3://claims-bucket/claims/x",
        "/web", "not a uri ::: %zz", "orders.Create\x00Order",
    ]
)  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12) | HOSTILE_TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)
MUTATIONS = st.one_of(
    st.tuples(st.just("drop"), st.sampled_from(ATTRIBUTES)),
    st.tuples(st.just("set"), st.sampled_from(ATTRIBUTES), JSON_VALUES),
    st.tuples(st.just("data"), st.sampled_from(["customer_id", "lines", "currency", "extra"]), JSON_VALUES),
    st.tuples(st.just("line"), st.sampled_from(["sku", "quantity", "unit_price"]), JSON_VALUES),
    st.tuples(st.just("truncate"), st.floats(min_value=0, max_value=1)),
    st.tuples(st.just("corpus"), st.sampled_from([c for c in load_corpus() if c.target == "commands"])),
    st.tuples(st.just("text"), st.text(max_size=40)),
)
RECORDS = st.lists(st.tuples(st.sampled_from(GROUPS), st.lists(MUTATIONS, max_size=3)), min_size=BATCH, max_size=BATCH)


def render(group: str, mutations: list[Any]) -> str:
    """A valid CreateOrder of ``group`` with ``mutations`` applied, as the body SQS delivers."""
    document = valid_command(group, REPLIES)
    raw: str | None = None
    for mutation in mutations:
        kind = mutation[0]
        if kind == "drop":
            document.pop(mutation[1], None)
        elif kind == "set":
            document[mutation[1]] = mutation[2]
        elif kind == "data" and isinstance(document.get("data"), dict):
            document["data"][mutation[1]] = mutation[2]
        elif kind == "line":
            lines = document["data"].get("lines") if isinstance(document.get("data"), dict) else None
            if isinstance(lines, list) and lines and isinstance(lines[0], dict):
                lines[0][mutation[1]] = mutation[2]
        elif kind == "truncate":
            text = json.dumps(document)
            raw = text[: int(len(text) * mutation[1])]
        elif kind == "corpus":
            raw = mutation[1].body(group, replies_url=REPLIES)
        elif kind == "text":
            raw = mutation[1]
    return raw if raw is not None else json.dumps(document)


def identity(body: str) -> tuple[Any, Any]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None, None
    return (document.get("source"), document.get("id")) if isinstance(document, dict) else (None, None)


def test_fuzzed_batches_never_crash_never_retry_lose_nothing_and_keep_group_order() -> None:
    seen = {"records": 0, "dead": 0, "applied": 0}

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(RECORDS)
    def one_batch(batch: list[tuple[str, list[Any]]]) -> None:
        # Given a batch of generated records (valid commands and mutations of them), each in its FIFO group
        world = build_corpus_world()
        records = [
            synthetic_record(render(group, mutations), group_id=group, message_id=str(uuid.uuid4()))
            for group, mutations in batch
        ]
        # When the orders consumer handles it
        response = world.orders.handle(sqs_event(records), FakeLambdaContext())
        # Then nothing is retried (every failure here is permanent) and nothing crashed
        assert response == {"batchItemFailures": []}
        dead = {
            call["MessageAttributes"]["source-message-id"]["StringValue"]: call["MessageAttributes"]["failure-code"]
            for call in world.sqs.to(ORDERS_DLQ)
        }
        # And every dead letter carries a catalogued code, and nothing is sent anywhere but the DLQ and the replies
        assert {code["StringValue"] for code in dead.values()} <= set(CODES)
        assert {call["QueueUrl"] for call in world.sqs.sent} <= {ORDERS_DLQ, REPLIES}
        # And every record not dead-lettered was applied once (a redelivery of an identity is replayed, not run
        # again), and each group's were applied in their order
        survivors = [identity(r["body"]) for r in records if r["messageId"] not in dead]
        firsts = list(dict.fromkeys(survivors))
        applied = list(world.applied)
        assert sorted(map(repr, applied)) == sorted(map(repr, firsts))
        for group in GROUPS:
            mine = [identity(r["body"]) for r in records if r["attributes"]["MessageGroupId"] == group]
            in_group = [key for key in firsts if key in mine]
            assert [key for key in applied if key in in_group] == in_group, group
        seen["records"] += len(records)
        seen["dead"] += len(dead)
        seen["applied"] += len(applied)

    one_batch()
    # Then at least 1,000 records were generated, and both outcomes were exercised
    assert seen["records"] >= 1000
    assert seen["dead"] > 100 and seen["applied"] > 100

