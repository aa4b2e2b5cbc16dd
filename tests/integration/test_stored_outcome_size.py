"""What the example commands store, on moto DynamoDB: every item a command writes (the state item carrying its dedup
record, or the dedup record of its own) stays under 1 KB, one write unit, sized as DynamoDB sizes items (attribute
names plus values, :func:`benchmarks.units.item_size`), because the stored outcome keeps only what cannot be derived
(messaging.outbox). The example handlers run as Lambda runs them: their modules, configured by the environment."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from benchmarks.units import item_size
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope, ReplyOutcome, command, reply_to
from messaging.unit_of_work import APPLIED_OUTCOME, RECORD_OUTCOME
from tests.support.aws import (
    AWS_ENV,
    create_fifo_queue,
    create_fifo_topic,
    create_idempotency_table,
    create_state_table,
)
from tests.support.lambda_context import FakeLambdaContext
from tests.support.sqs_events import sqs_event, synthetic_record

pytestmark = pytest.mark.integration
codec = CloudEventJsonCodec()
ONE_WRITE_UNIT = 1024
CUSTOMER = "customer-4711"
LINES = [{"sku": "book", "quantity": 1, "unit_price": "12.50"}]  # the bench's and the demo's order


@dataclass
class Cloud:
    dynamodb: Any
    sqs: Any
    env: dict[str, str]
    replies: str
    saga_queue: str
    billing_queue: str

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        names = self.dynamodb.list_tables()["TableNames"]
        return {name: self.dynamodb.scan(TableName=name, ConsistentRead=True)["Items"] for name in names}

    def run(self, module_name: str, state_table: str, envelope: Envelope, monkeypatch: pytest.MonkeyPatch,
            **env: str) -> list[dict[str, Any]]:
        """Handle ``envelope`` with a fresh copy of the handler module; return the items it wrote or changed."""
        for name, value in {**self.env, "STATE_TABLE_NAME": state_table, **env}.items():
            monkeypatch.setenv(name, value)
        module: ModuleType = importlib.reload(importlib.import_module(module_name))
        for cached in vars(module).values():
            if hasattr(cached, "cache_clear"):
                cached.cache_clear()  # the services built on first use, with this table
        before = self.tables()
        record = synthetic_record(codec.encode(envelope), group_id=envelope.partitionkey or "g")
        response = module.lambda_handler(sqs_event([record]), FakeLambdaContext())
        assert response == {"batchItemFailures": []}
        after = self.tables()
        return [item for name, items in after.items() for item in items if item not in before.get(name, [])]


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        dynamodb, sqs, sns = boto3.client("dynamodb"), boto3.client("sqs"), boto3.client("sns")
        scheduler = boto3.client("scheduler")
        for table in ("orders-state", "billing-credit-state", "order-sagas-state"):
            create_state_table(dynamodb, table)
        create_idempotency_table(dynamodb, "idempotency")
        queues = {name: create_fifo_queue(sqs, name) for name in
                  ("replies", "order-sagas", "billing-commands", "inventory-commands", "dead-letters")}
        scheduler.create_schedule_group(Name="delayed")
        env = {
            "IDEMPOTENCY_TABLE_NAME": "idempotency",
            "EVENT_TOPIC_ARN": create_fifo_topic(sns, "order-events"),
            "DEAD_LETTER_QUEUE_URL": queues["dead-letters"],
            "REPLY_TO_ALLOWLIST": ",".join([queues["replies"], queues["order-sagas"]]),
            "SAGA_QUEUE_URL": queues["order-sagas"],
            "BILLING_COMMAND_QUEUE_URL": queues["billing-commands"],
            "INVENTORY_COMMAND_QUEUE_URL": queues["inventory-commands"],
            "SCHEDULE_GROUP_NAME": "delayed",
            "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/scheduler",
            "QUOTE_RESPONDER_NAME": "economy",
        }
        yield Cloud(dynamodb, sqs, env, queues["replies"], queues["order-sagas"], queues["billing-commands"])


def request(type_: str, data: dict[str, Any], replyto: str, key: str = CUSTOMER, **kwargs: Any) -> Envelope:
    return command(type_, data, source="/web/checkout", partitionkey=key, replyto=replyto, **kwargs)


def stored_outcome(items: list[dict[str, Any]]) -> dict[str, Any]:
    [outcome] = [item.get(APPLIED_OUTCOME, item.get(RECORD_OUTCOME)) for item in items
                 if APPLIED_OUTCOME in item or RECORD_OUTCOME in item]
    loaded: dict[str, Any] = json.loads(outcome["S"])
    return loaded


def assert_one_write_unit(items: list[dict[str, Any]]) -> dict[str, int]:
    sizes = {"/".join(str(v) for v in (item.get("sk") or item.get("id") or {}).values()): item_size(item)
             for item in items}
    assert items, "the command wrote nothing"
    by_attribute = {name: item_size({name: value}) for item in items for name, value in item.items()}
    assert max(sizes.values()) < ONE_WRITE_UNIT, f"{sizes} {by_attribute}"

    return sizes


def test_orders_commands_store_items_under_one_write_unit(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the example CreateOrder (one line, as the bench and the demo send it) with a reply address
    create = request("orders.CreateOrder", {"customer_id": CUSTOMER, "lines": LINES}, cloud.replies)
    # When the Orders function handles it
    written = cloud.run("orders.handler", "orders-state", create, monkeypatch)
    # Then the order item carries the dedup record and its outcome in under 1 KB, and the outcome keeps the result
    # and the event's own fields, not the reply's or the event's JSON
    assert_one_write_unit(written)
    outcome = stored_outcome(written)
    order_id = outcome["o"]["result"]["order_id"]
    assert outcome["e"] == [{"y": "orders.OrderCreated", "r": 1, "d": {"lines": LINES, "item_count": 1}}]
    # And so does the CancelOrder of that order
    cancel = request("orders.CancelOrder", {"customer_id": CUSTOMER, "order_id": order_id, "reason": "changed mind"},
                     cloud.replies)
    assert_one_write_unit(cloud.run("orders.handler", "orders-state", cancel, monkeypatch))


def test_billing_credit_commands_store_items_under_one_write_unit(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the credit commands of one customer, in the order the saga sends them
    commands = [
        request("billing.SetCreditLimit", {"customer_id": CUSTOMER, "limit": "500.00"}, cloud.replies),
        request("billing.ReserveCredit", {"customer_id": CUSTOMER, "order_id": "o-1", "amount": "12.50"},
                cloud.saga_queue),
        request("billing.ReleaseCredit", {"customer_id": CUSTOMER, "order_id": "o-1"}, cloud.saga_queue),
    ]
    for envelope in commands:
        # When Billing handles each
        written = cloud.run("billing.credit_handler", "billing-credit-state", envelope, monkeypatch)
        # Then every item it writes is one write unit
        assert_one_write_unit(written)
        assert stored_outcome(written)["o"]["outcome"] == "success"


def test_a_quote_stores_nothing(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a quote request (a pure function of the request: no dedup record)
    quote = request("quotes.RequestQuote", {"weight_kg": "2.5", "destination": "DE"}, cloud.replies)
    # When a responder answers it, Then nothing is written
    assert cloud.run("quotes.handler", "orders-state", quote, monkeypatch) == []


def test_the_place_order_saga_s_outcomes_are_compact_and_its_own_records_one_write_unit(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The saga's start rides its dedup record on the saga's state item, which holds 879 bytes before any outcome
    (the saga's body and the dedup attributes): its two sends (the ReserveCredit command and the timeout's schedule,
    about 830 bytes compact) keep that item at 2 write units (3 in the wire-JSON form). The later transitions keep a
    dedup record of their own, one write unit."""
    # Given a PlaceOrder (it starts a saga: a ReserveCredit command, a scheduled timeout, the state)
    place = request("orders.PlaceOrder", {"customer_id": CUSTOMER, "lines": LINES}, cloud.replies)
    # When the orchestrator starts it
    [state] = cloud.run("order_saga.handler", "order-sagas-state", place, monkeypatch)
    # Then the state item with the outcome is 2 write units, the sends stored without their derived attributes
    assert item_size(state) <= 2 * ONE_WRITE_UNIT
    sends = stored_outcome([state])["s"]
    assert [send["m"]["type"] for send in sends] == ["billing.ReserveCredit", "saga.Timeout"]
    assert not any({"source", "time", "specversion"} & set(send["m"]) for send in sends)
    # And when Billing's reply arrives, the transition's own dedup record (its outcome: the next command) is one
    # write unit
    [sent] = cloud.sqs.receive_message(QueueUrl=cloud.billing_queue)["Messages"]
    reply = reply_to(codec.decode(sent["Body"]), ReplyOutcome.success({"reserved": "12.50"}), source="/billing-credit")
    written = cloud.run("order_saga.handler", "order-sagas-state", reply, monkeypatch)
    [record] = [item for item in written if RECORD_OUTCOME in item]
    assert item_size(record) < ONE_WRITE_UNIT
