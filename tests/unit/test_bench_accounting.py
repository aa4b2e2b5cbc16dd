"""The bench's accounting: billed units per call, prices, roles of the counted calls, the scale-out efficiency."""

from __future__ import annotations

import threading

import pytest

from benchmarks.calls import CallCounter, billed_units
from benchmarks.pricing import USD_PER_UNIT, cost_usd
from benchmarks.scaleout import Cell, efficiency

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
    call_from("unrelated")
    counter.record("sqs", "ReceiveMessage", {}, {})  # this thread, not marked as the client
    with counter.as_client():
        counter.record("dynamodb", "Query", {}, {"Items": []})
    # Then each is filed under its role, and the unmarked calls are not counted
    assert counter.calls == {
        ("function", "sqs:SendMessage"): 1,
        ("poller", "sqs:SendMessage"): 1,
        ("client", "dynamodb:Query"): 1,
    }
    assert counter.by_operation() == {"sqs:SendMessage": 1, "dynamodb:Query": 1}


def test_scaleout_efficiency_is_the_worst_speedup_over_its_bound() -> None:
    # Given two groups drained in 2 s by one consumer, 1 s by two (ideal) and 1.6 s by four (bound: 2)
    cells = [Cell(2, 1, 2.0), Cell(2, 2, 1.0), Cell(2, 4, 1.6)]
    # Then the worst cell is four consumers: speed-up 1.25 over a bound of 2
    assert efficiency(cells) == pytest.approx(0.625)
