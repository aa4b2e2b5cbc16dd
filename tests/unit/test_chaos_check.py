"""The chaos checker on hand-written histories: each invariant is found when broken, and a clean history passes."""

from __future__ import annotations

import pytest

from chaos.check import FinalState, StoredOrder, check
from chaos.history import Effect, Sent
from chaos.workload import POISON_MARKER

pytestmark = pytest.mark.unit


def sent_two_creates_and_a_cancel() -> list[Sent]:
    return [
        Sent(1, "c-1", "create", "m-1", correlation_id="m-1"),
        Sent(2, "c-1", "create", "m-2"),
        Sent(3, "c-1", "cancel", "m-3", correlation_id="m-3", order_tag=1),
    ]


def clean_effects() -> list[Effect]:
    return [
        Effect(1, "orders", "order_created", "1", "c-1", "orders"),
        Effect(2, "orders", "order_created", "2", "c-1", "orders"),
        Effect(3, "orders", "order_cancelled", "3", "c-1", "orders"),
        Effect(4, "billing", "invoice", "o-1", "c-1", "billing"),
        Effect(5, "billing", "invoice", "o-2", "c-1", "billing"),
        Effect(6, "billing", "credit_note", "o-1", "c-1", "billing"),
    ]


def clean_state(**changes: object) -> FinalState:
    state = FinalState(
        orders=[StoredOrder("o-1", "c-1", 1, "cancelled", 3), StoredOrder("o-2", "c-1", 2, "open", None)],
        invoices={"o-1", "o-2"},
        credit_notes={"o-1"},
        notifications={"o-1", "o-2"},
        replies={"m-1": 1, "m-3": 1},
        dead_letters=[],
    )
    for name, value in changes.items():
        setattr(state, name, value)
    return state


def test_a_clean_history_holds_every_invariant() -> None:
    # Given a history where each command and event was applied once, in order, with one reply each
    verdict = check(sent_two_creates_and_a_cancel(), clean_effects(), clean_state())
    # Then the verdict is clean
    assert verdict.ok, dict(verdict.details)


def test_a_missing_order_and_a_missing_invoice_count_as_lost() -> None:
    # Given the second CreateOrder left no order, and billing never invoiced the first
    state = clean_state(orders=[StoredOrder("o-1", "c-1", 1, "cancelled", 3)], invoices=set())
    verdict = check(sent_two_creates_and_a_cancel(), clean_effects(), state)
    # Then both are lost
    assert verdict.lost == 2 and not verdict.ok


def test_an_effect_written_twice_counts_as_a_duplicate_effect() -> None:
    # Given billing wrote the invoice of o-1 twice (a retry that did not know the first write took effect)
    effects = [*clean_effects(), Effect(7, "billing", "invoice", "o-1", "c-1", "billing")]
    verdict = check(sent_two_creates_and_a_cancel(), effects, clean_state())
    # Then the checker reports one duplicate
    assert verdict.duplicate_effects == 1 and not verdict.ok


def test_two_orders_for_one_create_count_as_a_duplicate_even_without_a_recorded_write() -> None:
    # Given the table holds two orders created by CreateOrder #2 (random order ids)
    state = clean_state()
    state.orders.append(StoredOrder("o-2b", "c-1", 2, "open", None))
    state.invoices.add("o-2b")
    state.notifications.add("o-2b")
    verdict = check(sent_two_creates_and_a_cancel(), clean_effects(), state)
    # Then it is a duplicate effect
    assert verdict.duplicate_effects == 1


def test_an_effect_applied_before_one_sent_earlier_in_its_shard_is_a_reorder() -> None:
    # Given the second CreateOrder of shard c-1 took effect before the first
    effects = clean_effects()
    effects[0], effects[1] = (
        Effect(2, "orders", "order_created", "1", "c-1", "orders"),
        Effect(1, "orders", "order_created", "2", "c-1", "orders"),
    )
    verdict = check(sent_two_creates_and_a_cancel(), effects, clean_state())
    # Then one reorder is found
    assert verdict.reorders == 1 and not verdict.ok


def test_valid_messages_in_a_dlq_and_poison_outside_it_are_both_reported() -> None:
    # Given a poison message that never reached a DLQ, and a valid command that did
    sent = [*sent_two_creates_and_a_cancel(), Sent(4, "c-1", "poison", "m-4")]
    state = clean_state(dead_letters=['{"id": "m-2", "type": "orders.CreateOrder"}'])
    verdict = check(sent, clean_effects(), state)
    # Then both are counted
    assert verdict.valid_in_dlq == 1
    assert (verdict.poison_injected, verdict.poison_in_dlq) == (1, 0)
    # And once the poison message is in a DLQ (and the valid one is not) that part holds
    fixed = check(sent, clean_effects(), clean_state(dead_letters=[f'{{"sku": "{POISON_MARKER}-4"}}']))
    assert fixed.ok, dict(fixed.details)


def test_a_request_with_no_reply_or_two_replies_is_reported() -> None:
    # Given the CreateOrder's reply is missing and the CancelOrder was answered twice
    verdict = check(sent_two_creates_and_a_cancel(), clean_effects(), clean_state(replies={"m-3": 2}))
    # Then both are reported
    assert (verdict.replies_missing, verdict.replies_duplicated) == (1, 1)
