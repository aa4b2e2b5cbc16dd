"""A short seeded chaos run through the local cloud: the product holds every invariant, the naive consumer, producer
and saga orchestrator break the ones they must."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from chaos.faults import FaultRates, Sabotage
from chaos.run import ChaosConfig, ChaosRun, Report

pytestmark = [pytest.mark.chaos, pytest.mark.slow]

# Higher rates than the default run, so that a short run meets every kind of fault. The naive run needs no timeouts
# (each costs a function timeout of wall time) to break: crashes and ambiguous writes are enough. Three messages per
# group in flight (send_chunk): at these rates, a group of eight in flight at once pushed a valid message to
# maxReceiveCount (10) behind the failed batches of its group, and the checker counted it (valid_in_dlq).
RATES = FaultRates(transient=0.04, ambiguous=0.02, crash=0.02, timeout=0.01)
SHORT = {"messages": 60, "shards": 8, "seed": 5, "poison_rate": 0.2, "duplicate_rate": 0.3, "function_timeout": 2,
         "send_chunk": 24, "producer_orders": 40, "sagas": 16}
SAGA_INVARIANTS = ("sagas_unfinished", "compensations_missing", "compensations_duplicated", "steps_applied_twice",
                   "saga_answers_wrong", "reference_data_wrong")


@pytest.fixture(scope="module")
def ours(example_assembly: Path) -> Report:
    return ChaosRun(ChaosConfig(consumer="ours", rates=RATES, **SHORT), example_assembly).run()  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def naive(example_assembly: Path) -> Report:
    config = ChaosConfig(consumer="naive", rates=replace(RATES, timeout=0.0),
                         **{**SHORT, "producer_orders": 0, "sagas": 0})  # type: ignore[arg-type]
    return ChaosRun(config, example_assembly).run()


@pytest.fixture(scope="module")
def naive_producer(example_assembly: Path) -> Report:
    config = ChaosConfig(consumer="ours", producer="naive", rates=replace(RATES, timeout=0.0),
                         **{**SHORT, "messages": 10, "producer_orders": 60, "sagas": 0})  # type: ignore[arg-type]
    return ChaosRun(config, example_assembly).run()


@pytest.fixture(scope="module")
def naive_saga(example_assembly: Path) -> Report:
    config = ChaosConfig(consumer="ours", saga="naive", rates=replace(RATES, timeout=0.0),
                         **{**SHORT, "messages": 10, "producer_orders": 0, "sagas": 24})  # type: ignore[arg-type]
    return ChaosRun(config, example_assembly).run()


def test_every_fault_kind_and_every_kind_of_message_was_sent(ours: Report) -> None:
    # Given the short seeded run of the product under faults
    summary = ours.summary()
    # Then every kind of fault happened at least once
    for kind in ("transient", "ambiguous", "crash", "timeout", "entry_failed", "duplicate_in_window",
                 "duplicate_after_window", "duplicate_redrive", "poison"):
        assert ours.faults.get(kind, 0) > 0, kind
    # And the workload held claim checks, cancels racing their creates, and poison the consumer must answer
    workload = summary["workload"]
    assert workload["claim_checked"] > 0 and workload["racing_cancels"] > 0, workload
    assert {"shard_key_mismatch", "dataref_missing"} <= set(workload["poison"]), workload
    # And duplicates are counted where they were delivered
    assert sum(summary["duplicates_delivered"].values()) > 0


def test_the_product_holds_every_invariant(ours: Report) -> None:
    # Given the product's consumers under every kind of fault
    summary = ours.summary()
    # Then every invariant has the figure it must have: nothing lost, duplicated, reordered or unidentifiable,
    # every reply as expected, every poison message (and only those) in a DLQ, each answered as it must be
    assert {name: summary[name] for name in summary["invariants"]} == summary["invariants"], ours.verdict.details
    assert summary["poison_in_dlq"] == summary["poison_injected"] > 0
    assert ours.verdict.ok


# What the consumer of the Powertools documentation must break, whatever the interleaving: it never answers a poison
# request (failure_replies_missing), it cannot read a claim check, so those creates end in the DLQ after
# maxReceiveCount receives (valid_in_dlq, lost), it checks no shard key, so a mismatched CreateOrder is applied instead
# of dead-lettered (poison_in_dlq short), and it draws order ids at random, so a crash after its write makes a second
# order on the retry (duplicate_effects).
NAIVE_BREAKS = ("failure_replies_missing", "valid_in_dlq", "lost", "duplicate_effects")
"""What the naive consumer must break in the short run. Not ``poison_in_dlq``: its poison reaches the DLQ after
maxReceiveCount retries, so whether every one is there by the end depends on how the run's threads drain (it broke
in most runs, not in all)."""


@pytest.mark.slow  # the longer of the two short runs (its claim checks and poison go round maxReceiveCount times)
def test_the_same_checks_catch_the_consumer_written_from_the_powertools_documentation(naive: Report) -> None:
    # Given the baseline consumer (idempotent_function per record, write, publish, reply) under the same faults
    summary = naive.summary()
    assert summary["workload"]["claim_checked"] > 0 and "shard_key_mismatch" in summary["workload"]["poison"]
    # Then the checker reports each invariant it must break
    violated = set(naive.verdict.violated())
    assert set(NAIVE_BREAKS) <= violated, (violated, summary)
    assert not naive.verdict.ok


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sabotage", "broken"),
    [
        (Sabotage(drop_conditions=True), "duplicate_effects"),
        (Sabotage(publish_drop_rate=Sabotage.PUBLISH_DROP_RATE), "lost"),
    ],
    ids=["drop-conditions", "drop-publishes"],
)
def test_a_product_whose_writes_lose_their_conditions_or_whose_publishes_are_dropped_fails_the_run(
    example_assembly: Path, sabotage: Sabotage, broken: str
) -> None:
    # Given the product with its DynamoDB conditions stripped, or with SNS publishes acknowledged and dropped
    config = ChaosConfig(consumer="ours", rates=replace(RATES, timeout=0.0), sabotage=sabotage, **SHORT)  # type: ignore[arg-type]
    # When the short run checks it
    report = ChaosRun(config, example_assembly).run()
    # Then the checker fails it, on the invariant that sabotage breaks
    assert broken in report.verdict.violated(), report.summary()
    assert report.summary()["sabotage"] == sabotage.describe()
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


def test_sagas_under_faults_end_answered_compensated_and_applied_once(ours: Report) -> None:
    # Given PlaceOrder sagas under the same faults: some refused by credit or stock, some whose inventory was held
    # back past the deadline
    summary = ours.summary()
    shares = summary["saga_shares"]
    assert summary["sagas"] == 16 and set(shares) == {"approve", "credit", "stock", "held"}, shares
    # Then every saga ended and was answered once, nothing is left reserved for a saga not approved, and no
    # reservation or release was applied twice at a participant
    assert {name: summary[name] for name in SAGA_INVARIANTS} == dict.fromkeys(SAGA_INVARIANTS, 0), ours.verdict.details
    outcomes = summary["saga_outcomes"]
    assert sum(outcomes.values()) == 16 and "unanswered" not in outcomes, outcomes
    # And the held-back ones (at least) were rejected by the deadline
    assert outcomes.get("timeout", 0) >= shares["held"], outcomes


@pytest.mark.slow
def test_the_same_checks_catch_an_orchestrator_that_saves_its_state_then_sends(naive_saga: Report) -> None:
    # Given the baseline orchestrator (the same transitions; PutItem of the state, then the sends with fresh ids, no
    # version condition) under faults, with the product's participants
    summary = naive_saga.summary()
    assert summary["saga"] == "naive" and summary["sagas"] == 24
    # Then at least one saga invariant is broken (a send lost after the state moved on leaves a saga unfinished or a
    # reservation held) and the run fails
    broken = set(naive_saga.verdict.violated()) & set(SAGA_INVARIANTS)
    assert broken, (naive_saga.verdict.details, summary)
    assert not summary["ok"]
