"""The chaos checker on hand-written histories: a clean history passes, and each clause of the verdict, broken alone,
flips that invariant and the verdict (and no other invariant)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest

from chaos.check import INVARIANTS, FinalState, Reply, StoredOrder, Verdict, check
from chaos.history import Effect, Sent

pytestmark = pytest.mark.unit

SOURCE = "/chaos/client"
POISON_ANSWERED = '{"id": "p-5", "specversion": "0.3", "kind": "command"}'
POISON_SILENT = '{"id": "p-6", "broken'


def success(order_id: str, status: str, total: str = "7.00") -> dict[str, object]:
    return {"outcome": "success", "result": {"order_id": order_id, "customer_id": "c-1", "status": status,
                                              "total": total, "currency": "EUR"}}


def failure(code: str) -> dict[str, object]:
    return {"outcome": "failure", "error": {"code": code, "message": "fixed text"}}


def reply(correlation_id: str, data: dict[str, object], *, source: str = "/orders") -> Reply:
    return Reply.of(source, f"r-{correlation_id}", data)


@dataclass
class Run:
    """A clean run: two creates (one asks for a reply), a cancel and a second cancel of the same order (both ask),
    a poison request that must be answered (in the DLQ, answered) and one that must not (in the DLQ)."""

    sent: list[Sent] = field(default_factory=lambda: [
        Sent(1, "c-1", "create", "m-1", correlation_id="m-1", body='{"id": "m-1"}', source=SOURCE, total="7.00"),
        Sent(2, "c-1", "create", "m-2", body='{"id": "m-2"}', source=SOURCE, total="7.00"),
        Sent(3, "c-1", "cancel", "m-3", correlation_id="m-3", order_tag=1, body='{"id": "m-3"}', source=SOURCE,
             total="7.00"),
        Sent(4, "c-1", "cancel", "m-4", correlation_id="m-4", order_tag=1, body='{"id": "m-4"}', source=SOURCE),
        Sent(5, "c-1", "poison", "p-5", correlation_id="p-5", body=POISON_ANSWERED, source=SOURCE,
             failure_code="invalid_attribute"),
        Sent(6, "c-1", "poison", "p-6", correlation_id="p-6", body=POISON_SILENT, source=SOURCE),
    ])
    effects: list[Effect] = field(default_factory=lambda: [
        Effect(1, "orders", "order_created", "1", "c-1", "orders"),
        Effect(2, "orders", "order_created", "2", "c-1", "orders"),
        Effect(3, "billing", "invoice", "o-1", "c-1", "billing"),
        Effect(4, "notifications", "notification", "o-1", "c-1", "notifications"),
        Effect(5, "orders", "order_cancelled", "3", "c-1", "orders"),
        Effect(6, "billing", "invoice", "o-2", "c-1", "billing"),
        Effect(7, "notifications", "notification", "o-2", "c-1", "notifications"),
        Effect(8, "billing", "credit_note", "o-1", "c-1", "billing"),
    ])
    state: FinalState = field(default_factory=lambda: FinalState(
        orders=[StoredOrder("o-1", "c-1", 1, "cancelled", 3), StoredOrder("o-2", "c-1", 2, "open", None)],
        invoices={"o-1", "o-2"},
        credit_notes={"o-1"},
        notifications={"o-1", "o-2"},
        replies={
            "m-1": [reply("m-1", success("o-1", "open"))],
            "m-3": [reply("m-3", success("o-1", "cancelled"))],
            "m-4": [reply("m-4", failure("order_already_cancelled"))],
            "p-5": [reply("p-5", failure("invalid_attribute"))],
            "p-6": [],
        },
        dead_letters=[POISON_ANSWERED, POISON_SILENT],
        delivered_replies={
            "m-1": [reply("m-1", success("o-1", "open")), reply("m-1", success("o-1", "open"))],  # a copy
            "m-3": [reply("m-3", success("o-1", "cancelled"))],
            "m-4": [reply("m-4", failure("order_already_cancelled"))],
            "p-5": [reply("p-5", failure("invalid_attribute"))],
        },
    ))

    def verdict(self) -> Verdict:
        return check(self.sent, self.effects, self.state)


def test_a_clean_history_holds_every_invariant() -> None:
    # Given a run where each command and event was applied once, in order, each request answered as expected
    verdict = Run().verdict()
    # Then every invariant holds, with the poison expectation named
    assert verdict.ok, verdict.details
    assert [i.name for i in verdict] == [name for name, _ in INVARIANTS]
    assert verdict.invariant("poison_in_dlq").expected == 2


def _set_replies(correlation_id: str, *replies: Reply, delivered: bool = False) -> Callable[[Run], None]:
    def change(run: Run) -> None:
        target = run.state.delivered_replies if delivered else run.state.replies
        target = {**target, correlation_id: list(replies)}
        if delivered:
            run.state.delivered_replies = target
        else:
            run.state.replies = target
    return change


def _drop_effect(index: int) -> Callable[[Run], None]:
    return lambda run: run.effects.pop(index) and None


BREAKS: dict[str, list[tuple[str, Callable[[Run], None]]]] = {
    "lost": [
        ("a create without its order", lambda run: setattr(run.state, "orders", run.state.orders[:1])
         or setattr(run.state, "invoices", {"o-1"}) or setattr(run.state, "notifications", {"o-1"})
         or setattr(run, "effects", [e for e in run.effects if "2" not in e.key])),
        ("a cancel not applied", lambda run: setattr(
            run.state, "orders", [StoredOrder("o-1", "c-1", 1, "open", None), run.state.orders[1]])
         or setattr(run.state, "credit_notes", set())
         or setattr(run, "effects", [e for e in run.effects if e.kind not in ("order_cancelled", "credit_note")])
         or _set_replies("m-3", reply("m-3", failure("order_already_cancelled")))(run)),
        ("an order cancelled by the second cancel, not the first", lambda run: setattr(
            run.state, "orders", [StoredOrder("o-1", "c-1", 1, "cancelled", 4), run.state.orders[1]])
         or setattr(run, "effects", [replace(e, key="4") if e.kind == "order_cancelled" else e
                                     for e in run.effects])),
        ("an invoice missing", lambda run: run.state.invoices.discard("o-2")),
        ("a confirmation missing", lambda run: run.state.notifications.discard("o-2")),
        ("a credit note missing", lambda run: run.state.credit_notes.discard("o-1")),
    ],
    "duplicate_effects": [
        ("an invoice written twice", lambda run: run.effects.append(
            Effect(9, "billing", "invoice", "o-2", "c-1", "billing"))),
        ("two orders for one create", lambda run: run.state.orders.append(StoredOrder("o-2b", "c-1", 2, "open", None))
         or run.state.invoices.add("o-2b") or run.state.notifications.add("o-2b")),
    ],
    "reorders": [
        ("the second create applied before the first", lambda run: setattr(run, "effects", [
            replace(e, seq={1: 2, 2: 1}.get(e.seq, e.seq)) for e in run.effects])),
        ("billing invoiced o-2 before o-1", lambda run: setattr(run, "effects", [
            replace(e, seq={3: 6, 6: 3}.get(e.seq, e.seq)) for e in run.effects])),
        ("the credit note before the invoice of a later order", lambda run: setattr(run, "effects", [
            replace(e, seq={8: 5.5}.get(e.seq, e.seq)) for e in run.effects])),  # type: ignore[dict-item]
    ],
    "unidentifiable": [
        ("an order effect without a command tag", lambda run: run.effects.append(
            Effect(9, "orders", "order_created", "ORDER#o-9", "c-1", "orders"))),
        ("a subscriber effect on an order not in the table", lambda run: run.effects.append(
            Effect(9, "notifications", "notification", "o-9", "c-1", "notifications"))),
    ],
    "valid_in_dlq": [
        ("a valid command in a DLQ", lambda run: run.state.dead_letters.append('{"id": "m-2"}')),
        ("an event of a valid message in a DLQ", lambda run: run.state.dead_letters.append(
            json.dumps({"source": "/orders", "id": "e-1", "type": "orders.OrderCreated"}))),
        ("a body nobody sent", lambda run: run.state.dead_letters.append("garbage")),
        ("a poison body's prefix does not count as poison", lambda run: run.state.dead_letters.append(
            POISON_SILENT[:-1])),
    ],
    "poison_in_dlq": [
        ("a poison message not in a DLQ", lambda run: run.state.dead_letters.remove(POISON_SILENT)),
    ],
    "replies_missing": [
        ("a create's reply missing", _set_replies("m-1")),
        ("a refused cancel's failure reply missing", _set_replies("m-4")),
    ],
    "replies_duplicated": [
        ("a second reply with another id", _set_replies(
            "m-1", reply("m-1", success("o-1", "open")), Reply.of("/orders", "r-other", success("o-1", "open")))),
        ("a second reply delivered, not stored", _set_replies(
            "m-3", reply("m-3", success("o-1", "cancelled")), Reply.of("/orders", "r-x", success("o-1", "cancelled")),
            delivered=True)),
    ],
    "replies_wrong": [
        ("a wrong total", _set_replies("m-1", reply("m-1", success("o-1", "open", total="8.00")))),
        ("another order's id", _set_replies("m-1", reply("m-1", success("o-2", "open")))),
        ("an applied cancel answered with a failure", _set_replies("m-3", reply("m-3", failure("state_conflict")))),
        ("a refused cancel answered with success", _set_replies("m-4", reply("m-4", success("o-1", "cancelled")))),
        ("a copy with the same id and other content, delivered", _set_replies(
            "m-1", reply("m-1", success("o-1", "open")), reply("m-1", failure("state_conflict")), delivered=True)),
    ],
    "failure_replies_missing": [
        ("a poison request not answered", _set_replies("p-5")),
    ],
    "failure_replies_wrong": [
        ("another failure code", _set_replies("p-5", reply("p-5", failure("invalid_payload")))),
        ("a poison request answered with success", _set_replies("p-5", reply("p-5", success("o-9", "open")))),
        ("a poison request that must not be answered, answered", _set_replies(
            "p-6", reply("p-6", failure("not_json")), delivered=True)),
    ],
}


def test_every_invariant_has_a_break() -> None:
    # Then no clause of the verdict goes untested below
    assert set(BREAKS) == {name for name, _ in INVARIANTS}


@pytest.mark.parametrize(
    ("invariant", "change"),
    [pytest.param(name, change, id=f"{name}: {what}") for name, cases in BREAKS.items() for what, change in cases],
)
def test_each_invariant_broken_alone_flips_it_and_the_verdict(invariant: str, change: Callable[[Run], None]) -> None:
    # Given the clean run with one thing broken
    run = Run()
    change(run)
    # When it is checked
    verdict = run.verdict()
    # Then exactly that invariant is violated, and the run fails
    assert verdict.violated() == [invariant], verdict.details
    assert not verdict.ok


def test_a_copy_of_a_reply_with_the_same_id_and_content_is_one_reply() -> None:
    # Given a reply delivered three times (redeliveries, the same id and content), stored once
    run = Run()
    _set_replies("m-3", *[reply("m-3", success("o-1", "cancelled"))] * 3, delivered=True)(run)
    # Then nothing is violated
    assert run.verdict().ok


def test_a_scenario_merges_its_invariants_into_the_verdict() -> None:
    # Given the run's verdict and a scenario's own, with one named expectation
    verdict = Run().verdict()
    scenario = Verdict()
    scenario.declare("outbox_events_published", "events the outbox published", expected=3)
    scenario.count("outbox_events_published", 3)
    # When they are merged / Then the scenario's invariant is one of the run's, and it flips the verdict alone
    verdict.merge(scenario)
    assert verdict.ok and verdict.expectations()["outbox_events_published"] == 3
    scenario.count("outbox_events_published", example="one published twice")
    assert verdict.violated() == ["outbox_events_published"]
    with pytest.raises(ValueError, match="declared twice"):
        verdict.merge(scenario)
