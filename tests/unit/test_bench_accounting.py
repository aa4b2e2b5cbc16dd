"""The bench's accounting: billed units per call (items sized before and after a write), SNS deliveries, Lambda
invocations and their logs, the dated price table and its components, roles of the counted calls, the scale-out
efficiency."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import pytest

from benchmarks.calls import CallCounter, _delivery_counter, billed_units
from benchmarks.pricing import COMPONENTS, PRICES, PRICES_AS_OF, USD_PER_UNIT, cost_components, cost_usd
from benchmarks.scaleout import Cell, diagonal, efficiency, grid, serial_seconds
from benchmarks.units import ItemSizes, item_size

pytestmark = pytest.mark.unit


def test_sqs_and_sns_bill_one_request_per_64_kib_chunk_of_payload() -> None:
    # Given a 100 KiB message sent alone and ten 1 KiB messages sent in one batch
    big = billed_units("sqs", "SendMessage", {"MessageBody": "x" * 100 * 1024}, {})
    batch = billed_units("sqs", "SendMessageBatch", {"Entries": [{"MessageBody": "x" * 1024}] * 10}, {})
    published = billed_units("sns", "PublishBatch", {"PublishBatchRequestEntries": [{"Message": "y" * 70_000}]}, {})
    # Then the first costs two requests, the batch one, the publish two plus its payload bytes
    assert big == {"sqs_requests": 2.0}
    assert batch == {"sqs_requests": 1.0}
    assert published == {"sns_requests": 2.0, "sns_payload_bytes": 70_000.0}


def test_a_transaction_costs_twice_the_write_units_of_its_items() -> None:
    # Given the same 1.5 KiB item put alone and inside a transaction
    item = {"pk": {"S": "x" * 1500}}
    alone = billed_units("dynamodb", "PutItem", {"Item": item}, {})
    transacted = billed_units("dynamodb", "TransactWriteItems", {"TransactItems": [{"Put": {"Item": item}}]}, {})
    # Then the transaction costs double
    assert alone == {"dynamodb_wru": 2.0}
    assert transacted == {"dynamodb_wru": 4.0}


def test_reads_cost_per_4_kib_and_half_when_eventually_consistent() -> None:
    items = [{"body": {"S": "z" * 5000}}]
    assert billed_units("dynamodb", "Query", {"ConsistentRead": True}, {"Items": items}) == {"dynamodb_rru": 2.0}
    assert billed_units("dynamodb", "Query", {}, {"Items": items}) == {"dynamodb_rru": 1.0}


def test_cost_multiplies_units_by_the_dated_prices() -> None:
    units = {"sqs_requests": 1_000_000.0, "dynamodb_wru": 1_000_000.0, "unknown": 5.0}
    assert cost_usd(units) == pytest.approx(1_000_000 * (USD_PER_UNIT["sqs_requests"] + USD_PER_UNIT["dynamodb_wru"]))


def test_calls_are_filed_under_function_client_or_poller_by_thread_and_others_are_ignored() -> None:
    # Given a counter and calls from a function thread, a poller thread, the client and an unrelated thread
    counter = CallCounter()

    def call_from(name: str) -> None:
        args = ("sqs", "SendMessage", {"MessageBody": "m"}, {})
        thread = threading.Thread(target=counter.record, args=args, name=name)
        thread.start()
        thread.join()

    call_from("lambda:orders")
    call_from("poller:orders.fifo")
    call_from("esm:orders_0")
    call_from("unrelated")
    counter.record("sqs", "ReceiveMessage", {}, {})  # this thread, not marked as the client
    with counter.as_client():
        counter.record("dynamodb", "Query", {}, {"Items": []})
    # Then each is filed under its role, and the unmarked calls are not counted
    assert counter.calls == {
        ("function", "sqs:SendMessage"): 1,
        ("poller", "sqs:SendMessage"): 2,
        ("client", "dynamodb:Query"): 1,
    }
    assert counter.by_operation() == {"sqs:SendMessage": 1, "dynamodb:Query": 1}
    # And the pollers' requests are billed as the Lambda service's receives and deletes
    assert counter.unit_totals(("poller",)) == {"sqs_poller_requests": 2.0}


def test_scaleout_efficiency_is_the_worst_speedup_over_the_serial_drain_and_its_bound() -> None:
    # Given one group drained in 2.4 s by one consumer and 2 s by two (one batch at a time either way), two groups in
    # 1 s by two consumers (ideal) and 1.6 s by four (bound: 2)
    cells = [Cell(1, 1, 2.4), Cell(1, 2, 2.0), Cell(2, 2, 1.0), Cell(2, 4, 1.6)]
    # Then the serial drain is the fastest one-group cell, and the worst cell is four consumers: 1.25 over 2
    assert serial_seconds(cells) == 2.0
    assert efficiency(cells) == pytest.approx(0.625)


def test_scaleout_needs_a_one_group_cell_and_grids_hold_the_reference_cells() -> None:
    with pytest.raises(ValueError, match="one message group"):
        efficiency([Cell(2, 2, 1.0)])
    assert len(grid()) == 16
    assert diagonal((1, 2, 8)) == [(1, 1), (1, 2), (2, 2), (8, 8)]


class FakeTables:
    """What the tables hold, by (table, pk): what the bench reads from moto's backend."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def stored_size(self, table: str, key_or_item: Mapping[str, Any]) -> int:
        item = self.items.get((table, key_or_item["pk"]["S"]))
        return 0 if item is None else item_size(item)


def test_an_update_is_billed_on_the_larger_of_the_item_before_and_after_not_on_its_key() -> None:
    # Given a stored 2.5 KiB item that an update shrinks to a few bytes
    tables = FakeTables()
    tables.items[("t", "k")] = {"pk": {"S": "k"}, "body": {"S": "x" * 2500}}
    counter = CallCounter(items=tables)
    params = {"TableName": "t", "Key": {"pk": {"S": "k"}}, "UpdateExpression": "REMOVE body"}
    with counter.as_client():
        before = counter.sizes_before("dynamodb", "UpdateItem", params)
        tables.items[("t", "k")] = {"pk": {"S": "k"}}  # what the call does
        counter.record("dynamodb", "UpdateItem", params, {}, before)
    # Then it costs the three units of the item before, not the one unit of its key
    assert before == (len("pk") + len("k") + len("body") + 2500,)
    assert counter.unit_totals() == {"dynamodb_wru": 3.0}


def test_a_put_over_a_larger_item_and_a_failed_condition_are_billed_on_the_stored_item() -> None:
    # Given a stored 3 KiB item
    tables = FakeTables()
    tables.items[("t", "k")] = {"pk": {"S": "k"}, "body": {"S": "x" * 3000}}
    small = {"TableName": "t", "Item": {"pk": {"S": "k"}}}
    counter = CallCounter(items=tables)
    with counter.as_client():
        # When a conditional put of a small item is refused, and then a put replaces it
        counter.record("dynamodb", "PutItem", small, {}, counter.sizes_before("dynamodb", "PutItem", small), True)
        before = counter.sizes_before("dynamodb", "PutItem", small)
        tables.items[("t", "k")] = small["Item"]
        counter.record("dynamodb", "PutItem", small, {}, before)
    # Then each costs the three units of the stored item
    assert counter.unit_totals() == {"dynamodb_wru": 6.0}


def test_a_transaction_bills_each_item_twice_on_its_larger_size() -> None:
    sizes = ItemSizes(before=(0, 1500), after=(100, 600))
    params = {
        "TransactItems": [
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}}}},
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "b"}}}},
        ]
    }
    assert billed_units("dynamodb", "TransactWriteItems", params, {}, sizes=sizes) == {"dynamodb_wru": 6.0}


def test_receives_that_return_nothing_are_counted_apart_and_s3_requests_by_tier() -> None:
    assert billed_units("sqs", "ReceiveMessage", {}, {"Messages": [{"Body": "m"}]}) == {"sqs_requests": 1.0}
    assert billed_units("sqs", "ReceiveMessage", {}, {}) == {"sqs_empty_receives": 1.0}
    assert billed_units("s3", "PutObject", {}, {}) == {"s3_tier1_requests": 1.0}
    assert billed_units("s3", "GetObject", {}, {}) == {"s3_tier2_requests": 1.0}
    assert billed_units("s3", "DeleteObject", {}, {}) == {}


def test_an_sns_delivery_is_counted_when_its_filter_policy_matches() -> None:
    # Given moto's delivery to two SQS subscriptions, one whose filter policy refuses the message
    counter = CallCounter()
    delivered: list[str] = []

    def original(self: Any, message: str, *args: Any, **kwargs: Any) -> None:
        delivered.append(self.endpoint)

    publish = _delivery_counter(counter, original)
    refuses = SimpleNamespace(matches=lambda attributes, message: False)
    matching = SimpleNamespace(protocol="sqs", endpoint="billing", _filter_policy_matcher=None)
    filtered = SimpleNamespace(protocol="sqs", endpoint="notifications", _filter_policy_matcher=refuses)
    # When a function publishes a 100-byte message
    thread = threading.Thread(
        target=lambda: [publish(s, "m" * 100, "id-1", message_attributes={}) for s in (matching, filtered)],
        name="lambda:orders",
    )
    thread.start()
    thread.join()
    # Then moto delivers both ways, and one delivery (its bytes, its request on the queue) is billed to the function
    assert delivered == ["billing", "notifications"]
    assert counter.unit_totals() == {"sns_deliveries": 1.0, "sns_delivered_bytes": 100.0, "sqs_deliveries": 1.0}


def test_an_invocation_bills_a_request_gb_seconds_at_its_memory_and_its_log_bytes() -> None:
    # Given an invocation of a 512 MB arm64 function that ran 40.2 ms and wrote two log lines
    counter = CallCounter()
    counter.record_invocation(
        "orders", memory_mb=512, architecture="arm64", duration_seconds=0.0402, log_messages=["START x", "é"]
    )
    # Then it bills one request, 41 ms at half a GB, and the lines' UTF-8 bytes plus 26 each
    units = counter.unit_totals()
    assert units["lambda_requests"] == 1.0
    assert units["lambda_gb_seconds_arm64"] == pytest.approx(0.041 * 0.5)
    assert units["logs_ingested_bytes"] == (7 + 26) + (2 + 26)
    assert counter.log_bytes == {"orders": 61}


def test_the_price_table_is_dated_cites_aws_pricing_pages_and_sums_by_component() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", PRICES_AS_OF)
    assert all(p.source.startswith("https://aws.amazon.com/") and "pricing" in p.source for p in PRICES.values())
    assert {p.component for p in PRICES.values()} == set(COMPONENTS)
    units = {"sqs_requests": 1e6, "sqs_poller_requests": 2e6, "lambda_gb_seconds_arm64": 1e6, "sqs_empty_receives": 9}
    components = cost_components(units)
    assert components == pytest.approx({"sqs_send": 0.5, "sqs_receive_delete": 1.0, "lambda_duration": 13.3334})
    assert cost_usd(units) == pytest.approx(sum(components.values()))
