"""The bench's second baseline through the local cloud: the tuned consumers run by their templates' Handler, keep
an idempotency record only where a handler is not naturally idempotent, and still apply every redelivery once;
the scale-out assembly wraps the Billing consumer, product's or baseline's, in a fixed latency."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.requesters import TunedRequester
from benchmarks.scaleout import prepare_scaleout
from benchmarks.styles import order_created, order_data
from benchmarks.tuned.assembly import prepare_tuned
from chaos.naive.common import cloud_event
from localcloud import LocalCloud

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tuned(example_assembly: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    prepared = prepare_tuned(example_assembly, tmp_path_factory.mktemp("tuned") / "assembly", function_timeout=30)
    with LocalCloud() as cloud:
        cloud.deploy(prepared)
        cloud.start_pollers()
        yield cloud


def _items(cloud: LocalCloud, table_output: str, pk: str) -> list[dict[str, Any]]:
    return list(
        cloud.client("dynamodb").query(
            TableName=cloud.outputs[table_output],
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
        )["Items"]
    )


def _send_twice(cloud: LocalCloud, queue_output: str, event: dict[str, Any]) -> None:
    """The same CloudEvent delivered twice (two SQS messages: a producer's retry after the dedup window)."""
    for _ in range(2):
        cloud.client("sqs").send_message(
            QueueUrl=cloud.outputs[queue_output],
            MessageBody=json.dumps(event),
            MessageGroupId=event["partitionkey"],
            MessageDeduplicationId=uuid.uuid4().hex,
        )


def test_the_tuned_functions_run_their_tuned_handlers(tuned: LocalCloud) -> None:
    handlers = sorted(f.spec.handler for f in tuned.functions.values())
    # the example consumers run the tuned baseline; the others (sagas, the HTTP API, the relay) are the product's
    assert not {"orders.handler.lambda_handler", "billing.handler.lambda_handler", "quotes.handler.lambda_handler",
                "notifications.handler.lambda_handler", "reply_router.handler.lambda_handler"} & set(handlers)
    assert [h for h in handlers if h.startswith("benchmarks.tuned.")] == [
        "benchmarks.tuned.billing.lambda_handler",
        "benchmarks.tuned.notifications.lambda_handler",
        "benchmarks.tuned.orders.lambda_handler",
        "benchmarks.tuned.quotes.lambda_handler",
        "benchmarks.tuned.quotes.lambda_handler",
        "benchmarks.tuned.quotes.lambda_handler",
        "benchmarks.tuned.reply_router.lambda_handler",
    ]


def test_a_redelivered_create_order_makes_one_order_and_one_reply(tuned: LocalCloud) -> None:
    # Given a request of the tuned requester, delivered twice
    customer = f"c-{uuid.uuid4().hex[:8]}"
    requester = TunedRequester(tuned, tuned.outputs)
    event = cloud_event(
        "orders.CreateOrder", "/test", order_data(customer), customer, kind="command",
        replyto=tuned.outputs["ReplyQueueUrl"],
    )
    _send_twice(tuned, "OrdersCommandQueueUrl", event)
    # When the system has processed both
    assert tuned.drain(timeout=60, advance_clock=True)
    requester.wait(event["id"], 1, timeout=5)
    # Then CreateOrder's idempotency record kept it to one order, one invoice, one notification and one reply
    assert len(_items(tuned, "OrdersTableName", f"CUSTOMER#{customer}")) == 1
    assert len(_items(tuned, "BillingTableName", f"CUSTOMER#{customer}")) == 1
    assert len(_items(tuned, "NotificationsTableName", f"CUSTOMER#{customer}")) == 1
    assert requester.replies(event["id"]) == 1


def test_handlers_without_an_idempotency_record_apply_a_redelivery_once(tuned: LocalCloud) -> None:
    # Given an OrderCreated delivered twice to billing, and a RequestQuote delivered twice to every responder
    customer = f"c-{uuid.uuid4().hex[:8]}"
    created = cloud_event("orders.OrderCreated", "/orders", order_created(customer, 1), customer, kind="event")
    _send_twice(tuned, "BillingQueueUrl", created)
    quote = cloud_event(
        "quotes.RequestQuote", "/test", {"weight_kg": "2.5", "destination": "DE"}, customer, kind="command",
        replyto=tuned.outputs["ReplyQueueUrl"],
    )
    for responder in ("Standard", "Express", "Economy"):
        _send_twice(tuned, f"Quote{responder}QueueUrl", quote)
    # When all is processed
    assert tuned.drain(timeout=60, advance_clock=True)
    # Then the ledger holds one invoice (its key is the order's), and each responder's reply is stored once (its id
    # derived from the request, the router's key the reply's)
    assert len(_items(tuned, "BillingTableName", f"CUSTOMER#{customer}")) == 1
    assert TunedRequester(tuned, tuned.outputs).replies(quote["id"]) == 3


@pytest.mark.parametrize(("consumer", "wrapped"), [
    ("ours", "billing.handler.lambda_handler"),
    ("baseline", "chaos.naive.billing.lambda_handler"),
])
def test_the_scaleout_assembly_wraps_the_billing_consumer_in_a_fixed_latency(
    example_assembly: Path, tmp_path: Path, consumer: str, wrapped: str
) -> None:
    # When the scale-out assembly is prepared for a side
    prepared = prepare_scaleout(example_assembly, tmp_path / "assembly", consumer, 0.05)
    # Then Billing's function runs the latency wrapper around that side's handler, from a code directory holding both
    template = json.loads((prepared / "Billing.template.json").read_text())
    (function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert function["Properties"]["Handler"] == "benchmarks.latency.lambda_handler"
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["BENCH_WRAPPED_HANDLER"] == wrapped
    assert variables["BENCH_LATENCY_MS"] == "50"
    code = Path(function["Metadata"]["aws:asset:path"])
    assert (code / "benchmarks" / "latency.py").is_file()
    assert (code / wrapped.rsplit(".", 1)[0].replace(".", "/")).with_suffix(".py").is_file()
