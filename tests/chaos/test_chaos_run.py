"""A short seeded chaos run through the local cloud: the product holds every invariant, the naive consumer does not."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from chaos.faults import FaultRates
from chaos.run import ChaosConfig, ChaosRun, Report

pytestmark = pytest.mark.chaos

# Higher rates than the default run, so that a short run meets every kind of fault. The naive run needs no timeouts
# (each costs a function timeout of wall time) to break: crashes and ambiguous writes are enough.
RATES = FaultRates(transient=0.04, ambiguous=0.02, crash=0.02, timeout=0.01)
SHORT = {"messages": 60, "shards": 8, "seed": 5, "poison_rate": 0.08, "duplicate_rate": 0.3, "function_timeout": 2,
         "producer_orders": 40}


@pytest.fixture(scope="module")
def ours(example_assembly: Path) -> Report:
    return ChaosRun(ChaosConfig(consumer="ours", rates=RATES, **SHORT), example_assembly).run()  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def naive(example_assembly: Path) -> Report:
    config = ChaosConfig(consumer="naive", rates=replace(RATES, timeout=0.0), **{**SHORT, "producer_orders": 0})  # type: ignore[arg-type]
    return ChaosRun(config, example_assembly).run()


@pytest.fixture(scope="module")
def naive_producer(example_assembly: Path) -> Report:
    config = ChaosConfig(consumer="ours", producer="naive", rates=replace(RATES, timeout=0.0),
                         **{**SHORT, "messages": 10, "producer_orders": 60})  # type: ignore[arg-type]
    return ChaosRun(config, example_assembly).run()


def test_every_fault_kind_was_injected(ours: Report) -> None:
    # Given the short seeded run of the product under faults
    # Then every kind of fault happened at least once
    for kind in ("transient", "ambiguous", "crash", "timeout", "duplicate_in_window", "duplicate_after_window",
                 "duplicate_redrive", "poison"):
        assert ours.faults.get(kind, 0) > 0, kind


def test_the_product_applies_every_command_once_in_shard_order_and_loses_nothing(ours: Report) -> None:
    # Given the product's consumers under every kind of fault
    summary = ours.summary()
    # Then nothing was lost, duplicated or reordered, every request got exactly one reply
    assert {name: summary[name] for name in ("lost", "duplicate_effects", "reorders", "valid_in_dlq",
                                             "replies_missing", "replies_duplicated")} == dict.fromkeys(
        ("lost", "duplicate_effects", "reorders", "valid_in_dlq", "replies_missing", "replies_duplicated"), 0
    ), dict(ours.verdict.details)
    # And every poison message, and only those, is in a dead-letter queue
    assert summary["poison_in_dlq"] == summary["poison_injected"] > 0
    assert ours.verdict.ok


def test_the_same_checks_catch_the_consumer_written_from_the_powertools_documentation(naive: Report) -> None:
    # Given the baseline consumer (idempotent_function per record, write, publish, reply) under the same faults
    summary = naive.summary()
    # Then the checker reports effects applied twice or lost
    assert summary["duplicate_effects"] > 0 or summary["lost"] > 0, summary
    assert not naive.verdict.ok


def test_producers_through_the_outbox_lose_duplicate_and_reorder_nothing(ours: Report) -> None:
    # Given orders posted through the HTTP front door under the same faults (API function, relay, consumers)
    summary = ours.summary()
    # Then every request answered 202 became one order, in each customer's order
    assert summary["producer_orders"] == 40
    assert summary["producer_duplicate_requests"] > 0
    assert {k: summary[k] for k in ("producer_lost", "producer_duplicates", "producer_reorders",
                                    "producer_unanswered")} == dict.fromkeys(
        ("producer_lost", "producer_duplicates", "producer_reorders", "producer_unanswered"), 0), ours.producer
    assert summary["ok"]


@pytest.mark.slow
def test_the_same_checks_catch_a_producer_that_saves_then_publishes(naive_producer: Report) -> None:
    # Given the baseline producer (save the request, then send the command; no outbox) under faults
    summary = naive_producer.summary()
    # Then requests answered 202 lost their order (or got two), and the run fails
    assert summary["producer_lost"] > 0 or summary["producer_duplicates"] > 0, summary
    assert not summary["ok"]
