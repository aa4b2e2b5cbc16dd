"""The saga checker on hand-written worlds: a clean one passes, and each saga invariant, broken alone, flips that
invariant and the verdict (and no other); the recorder reads the participants' real writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

import pytest

from billing.credit import CreditService
from billing.models import ReleaseCredit, ReserveCredit, SetCreditLimit
from chaos.check import Reply, Verdict
from chaos.saga import ParticipantWrites, plan
from chaos.saga_check import (
    RELEASE,
    RESERVE,
    SAGA_INVARIANTS,
    ParticipantWrite,
    PlannedSaga,
    Reservation,
    SagaRecord,
    SagaWorld,
    approved,
    check_sagas,
    outcome_label,
    rejected,
)
from inventory.models import ReleaseStock, ReserveStock, Restock
from inventory.service import InventoryService
from messaging import unit_of_work as uow
from messaging.state_items import InMemoryStateItems
from messaging.unit_of_work import DedupRecord, InMemoryCommitter

pytestmark = pytest.mark.unit

D = Decimal


def answer(saga_id: str, data: dict[str, object], *, reply_id: str | None = None) -> Reply:
    return Reply.of("/order-saga", reply_id or f"r-{saga_id}", data)


@dataclass
class World:
    """A clean scenario: one saga per share, each ended as it must, every reservation and counter consistent.

    ``s-ok`` approved (credit 10.00 and 2 of sku-a held); ``s-cr`` refused by credit (nothing reserved); ``s-st``
    refused by stock (credit reserved, then released); ``s-hd`` timed out with inventory held back (credit released;
    the stock reserved late, then released)."""

    planned: list[PlannedSaga] = field(default_factory=lambda: [
        PlannedSaga("s-ok", "approve", "c-1", D("10.00"), {"sku-a": 2}),
        PlannedSaga("s-cr", "credit", "c-1", D("1998.00"), {"sku-a": 2}),
        PlannedSaga("s-st", "stock", "c-2", D("3.00"), {"none": 1}),
        PlannedSaga("s-hd", "held", "c-2", D("5.00"), {"sku-a": 1}),
    ])
    records: dict[str, SagaRecord] = field(default_factory=lambda: {
        "s-ok": SagaRecord("completed", {"credit": "done", "stock": "done"}),
        "s-cr": SagaRecord("rejected", {"credit": "refused", "stock": "pending"}),
        "s-st": SagaRecord("rejected", {"credit": "compensated", "stock": "refused"}),
        "s-hd": SagaRecord("rejected", {"credit": "compensated", "stock": "compensated"}),
    })
    answers: dict[str, list[Reply]] = field(default_factory=lambda: {
        "s-ok": [answer("s-ok", approved("s-ok")), answer("s-ok", approved("s-ok"))],  # a redelivered copy
        "s-cr": [answer("s-cr", rejected("credit", "credit_limit_exceeded"))],
        "s-st": [answer("s-st", rejected("stock", "out_of_stock"))],
        "s-hd": [answer("s-hd", rejected("stock", "timeout"))],
    })
    credit: dict[str, Reservation] = field(default_factory=lambda: {
        "s-ok": Reservation("reserved", amount=D("10.00"), customer="c-1"),
        "s-st": Reservation("released", amount=D("3.00"), customer="c-2"),
        "s-hd": Reservation("released", amount=D("5.00"), customer="c-2"),
    })
    stock: dict[str, Reservation] = field(default_factory=lambda: {
        "s-ok": Reservation("reserved", lines={"sku-a": 2}),
        "s-hd": Reservation("released", lines={"sku-a": 1}),
    })
    credit_reserved: dict[str, Decimal] = field(default_factory=lambda: {"c-1": D("10.00"), "c-2": D("0.00")})
    stock_available: dict[str, int] = field(default_factory=lambda: {"sku-a": 98})
    restocked: dict[str, int] = field(default_factory=lambda: {"sku-a": 100})
    writes: list[ParticipantWrite] = field(default_factory=lambda: [
        ParticipantWrite("credit", "s-ok", RESERVE), ParticipantWrite("stock", "s-ok", RESERVE),
        ParticipantWrite("credit", "s-st", RESERVE), ParticipantWrite("credit", "s-st", RELEASE),
        ParticipantWrite("credit", "s-hd", RESERVE), ParticipantWrite("credit", "s-hd", RELEASE),
        ParticipantWrite("stock", "s-hd", RESERVE), ParticipantWrite("stock", "s-hd", RELEASE),
    ])
    reference_wrong: list[str] = field(default_factory=list)

    def verdict(self) -> Verdict:
        return check_sagas(SagaWorld(self.planned, self.records, self.answers, self.credit, self.stock,
                                     self.credit_reserved, self.stock_available, self.restocked, self.writes,
                                     self.reference_wrong))


def test_a_clean_world_holds_every_saga_invariant() -> None:
    # Given one saga per share, each ended as it must with what its participants hold consistent
    verdict = World().verdict()
    # Then every saga invariant holds, in report order
    assert verdict.ok, verdict.details
    assert [i.name for i in verdict] == [name for name, _ in SAGA_INVARIANTS]


def _credit_held_again(saga_id: str, customer: str, amount: str) -> Callable[[World], None]:
    """The saga's credit reservation still held, the customer's counter holding it too, its release never written."""
    def change(world: World) -> None:
        world.credit[saga_id] = replace(world.credit[saga_id], status="reserved")
        world.credit_reserved[customer] += D(amount)
        world.writes.remove(ParticipantWrite("credit", saga_id, RELEASE))
    return change


def _late_stock_kept(world: World) -> None:
    world.stock["s-hd"] = replace(world.stock["s-hd"], status="reserved")
    world.stock_available["sku-a"] -= 1
    world.writes.remove(ParticipantWrite("stock", "s-hd", RELEASE))


def _approved_but_stock_released(world: World) -> None:
    world.stock["s-ok"] = replace(world.stock["s-ok"], status="released")
    world.stock_available["sku-a"] += 2
    world.writes.append(ParticipantWrite("stock", "s-ok", RELEASE))


def _unanswered_with_record(status: str, credit: str) -> Callable[[World], None]:
    """The credit-refused saga's record left ``status`` (its credit step ``credit``), its PlaceOrder unanswered."""
    def change(world: World) -> None:
        world.records["s-cr"] = SagaRecord(status, {"credit": credit, "stock": "pending"})
        del world.answers["s-cr"]
    return change


BREAKS: dict[str, list[tuple[str, Callable[[World], None]]]] = {
    "sagas_unfinished": [
        ("a PlaceOrder never answered", lambda w: w.answers.__delitem__("s-cr")),
        ("a saga record still running, unanswered", _unanswered_with_record("running", "running")),
        ("no saga record", lambda w: w.records.__delitem__("s-cr")),
        ("a saga parked failed, unanswered", _unanswered_with_record("failed", "refused")),
    ],
    "compensations_missing": [
        ("credit still reserved for a saga refused by stock", _credit_held_again("s-st", "c-2", "3.00")),
        ("credit still reserved for a timed-out saga", _credit_held_again("s-hd", "c-2", "5.00")),
        ("a late stock reservation never released", _late_stock_kept),
        ("a rejected saga's record shows a step done", lambda w: w.records.update(
            {"s-st": SagaRecord("rejected", {"credit": "done", "stock": "refused"})})),
    ],
    "compensations_duplicated": [
        ("credit released twice", lambda w: w.writes.append(ParticipantWrite("credit", "s-st", RELEASE))),
        ("stock released twice", lambda w: w.writes.append(ParticipantWrite("stock", "s-hd", RELEASE))),
        ("a customer's counter below its reservations", lambda w: w.credit_reserved.update({"c-1": D("5.00")})),
        ("a SKU's stock above what its reservations leave", lambda w: w.stock_available.update({"sku-a": 99})),
    ],
    "steps_applied_twice": [
        ("credit reserved twice for one saga", lambda w: w.writes.append(ParticipantWrite("credit", "s-ok", RESERVE))),
        ("stock reserved twice for one saga", lambda w: w.writes.append(ParticipantWrite("stock", "s-hd", RESERVE))),
        ("a customer's counter above its reservations", lambda w: w.credit_reserved.update({"c-1": D("20.00")})),
        ("a SKU's stock below what its reservations leave", lambda w: w.stock_available.update({"sku-a": 96})),
    ],
    "saga_answers_wrong": [
        ("answered twice, differently", lambda w: w.answers["s-ok"].append(
            answer("s-ok", rejected("stock", "timeout"), reply_id="r-2"))),
        ("the same answer twice under two ids", lambda w: w.answers["s-cr"].append(
            answer("s-cr", rejected("credit", "credit_limit_exceeded"), reply_id="r-2"))),
        ("approved while its stock was released", _approved_but_stock_released),
        ("rejected with a code its share cannot give", lambda w: w.answers.update(
            {"s-cr": [answer("s-cr", rejected("stock", "out_of_stock"))]})),
        ("approved though over credit", lambda w: w.answers.update({"s-cr": [answer("s-cr", approved("s-cr"))]})),
        ("rejected while its record completed", lambda w: w.records.update(
            {"s-cr": SagaRecord("completed", {"credit": "refused", "stock": "pending"})})),
        ("a failure instead of the saga's result", lambda w: w.answers.update({"s-hd": [answer(
            "s-hd", {"outcome": "failure", "error": {"code": "state_conflict", "message": "x"}})]})),
    ],
    "reference_data_wrong": [
        ("a Restock applied twice", lambda w: w.reference_wrong.append("sku-a")),
        ("a SetCreditLimit lost", lambda w: w.reference_wrong.append("c-2")),
    ],
}


def test_every_saga_invariant_has_a_break() -> None:
    # Then no saga invariant goes untested below
    assert set(BREAKS) == {name for name, _ in SAGA_INVARIANTS}


@pytest.mark.parametrize(
    ("invariant", "change"),
    [pytest.param(name, change, id=f"{name}: {what}") for name, cases in BREAKS.items() for what, change in cases],
)
def test_each_saga_invariant_broken_alone_flips_it_and_the_verdict(
    invariant: str, change: Callable[[World], None]
) -> None:
    # Given the clean world with one thing broken
    world = World()
    change(world)
    # When it is checked
    verdict = world.verdict()
    # Then exactly that invariant is violated, and the run fails
    assert verdict.violated() == [invariant], verdict.details
    assert not verdict.ok


def test_one_fault_seen_in_the_writes_and_in_the_counter_counts_once() -> None:
    # Given credit reserved twice for one saga: two writes, and the counter holding the amount twice
    world = World()
    world.writes.append(ParticipantWrite("credit", "s-ok", RESERVE))
    world.credit_reserved["c-1"] += D("10.00")
    # Then it is one step applied twice, with both signs of it in the examples
    verdict = world.verdict()
    assert verdict.violated() == ["steps_applied_twice"] and verdict["steps_applied_twice"] == 1
    assert len(verdict.invariant("steps_applied_twice").examples) == 2


def test_outcomes_are_labelled_by_the_answer() -> None:
    # Then an answer reads as approved or its code; none, or two different ones, say so
    assert outcome_label([answer("s", approved("s"))]) == "approved"
    assert outcome_label([answer("s", rejected("stock", "timeout"))]) == "timeout"
    assert outcome_label([]) == "unanswered"
    assert outcome_label([answer("s", approved("s")), answer("s", rejected("stock", "timeout"))]) == "ambiguous"


def _writes_of_commits(service_call: Callable[[], object], committer: InMemoryCommitter) -> list[dict[str, object]]:
    """The TransactWriteItems parameters the consumer's commit would send for what ``service_call`` stages."""
    with uow.unit_of_work() as work:
        service_call()
    writes = list(work.writes)
    committer.commit(writes, DedupRecord(key=f"k-{len(committer.records)}", check="c", outcome="{}", expires_at=2**31))
    return [uow._transact_item(write) for write in writes]  # the request the real commit sends


def test_the_recorder_reads_reservations_and_releases_from_the_participants_real_writes() -> None:
    # Given billing's credit and inventory's stock on in-memory tables named as the stacks' outputs say
    committer = InMemoryCommitter()
    credit = CreditService(InMemoryStateItems(committer, "credit-table"))
    stock = InventoryService(InMemoryStateItems(committer, "inventory-table"))
    recorder = ParticipantWrites({"BillingCreditTableName": "credit-table", "InventoryTableName": "inventory-table"})
    calls = [
        _writes_of_commits(lambda: credit.set_limit(SetCreditLimit(customer_id="c-1", limit=D("50"))), committer),
        _writes_of_commits(lambda: stock.restock(Restock(sku="pen", quantity=5)), committer),
        _writes_of_commits(lambda: credit.reserve(
            ReserveCredit(customer_id="c-1", order_id="s-1", amount=D("10.00"))), committer),
        _writes_of_commits(lambda: stock.reserve(
            ReserveStock(order_id="s-1", lines=[{"sku": "pen", "quantity": 2}])), committer),  # type: ignore[list-item]
        _writes_of_commits(lambda: credit.release(ReleaseCredit(customer_id="c-1", order_id="s-1")), committer),
        _writes_of_commits(lambda: stock.release(ReleaseStock(order_id="s-1")), committer),
    ]
    # When each commit's TransactWriteItems is handed to the recorder as a call that took effect
    for items in calls:
        recorder.record_call("billing-credit", "dynamodb", "TransactWriteItems", {"TransactItems": items})
    recorder.record_call("billing-credit", "sqs", "SendMessage", {"QueueUrl": "q"})
    # Then it saw one reservation and one release at each participant, and nothing else (limits, restocks, counters)
    assert recorder.writes == [
        ParticipantWrite("credit", "s-1", RESERVE), ParticipantWrite("stock", "s-1", RESERVE),
        ParticipantWrite("credit", "s-1", RELEASE), ParticipantWrite("stock", "s-1", RELEASE),
    ]


def test_the_plan_refuses_by_design_what_its_shares_say() -> None:
    # Given the plan of 40 sagas
    orders, limits, restocks = plan(40, seed=7)
    # Then the credit share asks for more than a limit, or of a customer without one; the stock share asks for an
    # unknown SKU or more than the scarce one holds; the others fit both
    for order in orders:
        skus = [sku for sku, _, _ in order.lines]
        if order.share == "credit":
            assert order.customer not in limits or order.amount > limits[order.customer]
        elif order.share == "stock":
            assert any(sku not in restocks or quantity > restocks[sku] for sku, quantity, _ in order.lines)
        else:
            assert order.customer in limits and order.amount * 10 < limits[order.customer]
            assert all(sku in restocks and restocks[sku] >= 1000 for sku in skus)
    # And no customer is one of the CreateOrder workload's (chaos-<seed>-NNNN) or the producers'
    assert all(order.customer.startswith("saga-7-") for order in orders)
