"""The invariants of the saga scenario (:mod:`chaos.saga`), checked from what the participants hold, what they wrote,
the saga records and the answers the PlaceOrder requests got - never from what the orchestrator says it did alone.

Each planned saga belongs to one share: ``approve`` (credit and stock suffice), ``credit`` (over its customer's limit,
or a customer without one), ``stock`` (an unknown SKU, or more than its stock) or ``held`` (inventory's trigger is
stopped until the deadline has passed). Under faults any saga may also end by its deadline (a retried message waits
out its visibility timeout, and the local clock jumps past the deadline meanwhile), so every share may be rejected with
code ``timeout``; nothing else is left to chance. The figures, each 0 on a sound run:

- ``sagas_unfinished``: a saga whose record is missing or not ended (``completed`` / ``rejected``; ``failed`` is
  an operator's job, and nothing here may fail), or whose PlaceOrder got no answer;
- ``compensations_missing``: a step of a saga that did not end approved still held at its participant (credit or
  stock reserved for it), or a step its record shows done although the saga was rejected;
- ``compensations_duplicated``: a release applied more than once at a participant (two writes that took effect
  releasing one order's reservation), or a customer's reserved credit below / a SKU's stock above what its
  reservations leave (released twice);
- ``steps_applied_twice``: a reservation applied more than once for one saga step (two writes that took effect
  reserving one order at one participant), or a customer's reserved credit above / a SKU's stock below what its
  reservations account for;
- ``saga_answers_wrong``: a PlaceOrder answered more than once (distinct replies), answered other than its saga
  record ended, answered ``approved`` while a participant does not hold its reservation, or rejected at a step or
  with a code its share cannot produce.

Example:
    >>> from decimal import Decimal
    >>> saga = PlannedSaga("s-1", "credit", "c-1", Decimal("50.00"), {"pen": 1})
    >>> world = SagaWorld(planned=[saga], records={"s-1": SagaRecord("rejected", {"credit": "refused",
    ...     "stock": "pending"})}, answers={"s-1": [Reply.of("/saga", "r-1", rejected("credit",
    ...     "credit_limit_exceeded"))]}, credit={}, stock={}, credit_reserved={"c-1": Decimal(0)},
    ...     stock_available={"pen": 5}, restocked={"pen": 5}, writes=[])
    >>> verdict = check_sagas(world)
    >>> verdict.ok, verdict.figures()["sagas_unfinished"]
    (True, 0)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chaos.check import Reply, Verdict

CREDIT, STOCK = "credit", "stock"
"""The order saga's steps, which name their participants here (billing's credit, inventory's stock)."""
STEPS = (CREDIT, STOCK)
RESERVE, RELEASE = "reserve", "release"
SHARES = ("approve", "credit", "stock", "held")
TIMEOUT = "timeout"
REJECTIONS: Mapping[str, frozenset[tuple[str, str]]] = {
    "approve": frozenset({(CREDIT, TIMEOUT), (STOCK, TIMEOUT)}),
    "credit": frozenset({(CREDIT, "credit_limit_exceeded"), (CREDIT, TIMEOUT)}),
    "stock": frozenset({(STOCK, "out_of_stock"), (CREDIT, TIMEOUT), (STOCK, TIMEOUT)}),
    "held": frozenset({(CREDIT, TIMEOUT), (STOCK, TIMEOUT)}),
}
"""Share -> the (step, code) pairs it may be rejected with; only the ``approve`` share may be approved."""

SAGA_INVARIANTS: tuple[tuple[str, str], ...] = (
    ("sagas_unfinished", "sagas not ended, or their PlaceOrder not answered, by the end of the run"),
    ("compensations_missing", "steps of sagas not approved still held at their participant (or shown done)"),
    ("compensations_duplicated", "compensations applied more than once at a participant"),
    ("steps_applied_twice", "saga steps applied more than once at a participant"),
    ("saga_answers_wrong", "PlaceOrder answers duplicated, other than the saga's end, or not its share's"),
    ("reference_data_wrong", "credit limits or stock not as the scenario set them (a SetCreditLimit or Restock lost "
                             "or applied twice)"),
)
"""The saga scenario's invariants, in report order (name, meaning)."""


@dataclass(frozen=True)
class PlannedSaga:
    """A saga the harness started: its id (the PlaceOrder's), share, customer, credit amount and stock lines."""

    saga_id: str
    share: str
    customer: str
    amount: Decimal
    lines: Mapping[str, int]


@dataclass(frozen=True)
class SagaRecord:
    """A saga's stored record as an operator reads it: its status and each step's."""

    status: str
    steps: Mapping[str, str]


@dataclass(frozen=True)
class Reservation:
    """What a participant holds for an order: ``status`` (``reserved`` / ``released``), the credit ``amount`` and
    ``customer`` (billing), or the stock ``lines`` (inventory)."""

    status: str
    amount: Decimal = Decimal(0)
    customer: str = ""
    lines: Mapping[str, int] = field(default_factory=dict)

    @property
    def held(self) -> bool:
        return self.status == "reserved"


@dataclass(frozen=True)
class ParticipantWrite:
    """A participant's write that took effect: ``step`` (which participant), the order, ``reserve`` or ``release``."""

    step: str
    order_id: str
    action: str


@dataclass
class SagaWorld:
    """What the scenario left behind (read through AWS APIs) and what the participants wrote while it ran."""

    planned: Sequence[PlannedSaga]
    records: Mapping[str, SagaRecord]
    """Saga id -> its record (absent: no record)."""
    answers: Mapping[str, Sequence[Reply]]
    """Saga id -> the answers its PlaceOrder got (read from the reply store and delivered to the reply queue)."""
    credit: Mapping[str, Reservation]
    """Order (saga) id -> billing's credit reservation."""
    stock: Mapping[str, Reservation]
    """Order (saga) id -> inventory's stock reservation."""
    credit_reserved: Mapping[str, Decimal]
    """Customer -> billing's ``reserved`` counter."""
    stock_available: Mapping[str, int]
    """SKU -> inventory's ``available`` count."""
    restocked: Mapping[str, int]
    """SKU -> what the harness restocked it with."""
    writes: Sequence[ParticipantWrite]
    reference_wrong: Sequence[str] = ()
    """Customers and SKUs whose limit or stock, read back after the set-up, is not what the scenario sent."""


def approved(order_id: str) -> dict[str, Any]:
    """The reply data of an approved PlaceOrder."""
    return {"outcome": "success", "result": {"status": "approved", "order_id": order_id}}


def rejected(step: str, code: str) -> dict[str, Any]:
    """The reply data of a rejected PlaceOrder."""
    return {"outcome": "success", "result": {"status": "rejected", "step": step, "code": code}}


def answer_of(data: Any) -> dict[str, Any] | None:
    """The saga's result in a reply's data (None when the reply is not a success with a result)."""
    if not isinstance(data, dict) or data.get("outcome") != "success" or not isinstance(data.get("result"), dict):
        return None
    result: dict[str, Any] = data["result"]
    return result


def outcome_label(answers: Sequence[Reply]) -> str:
    """``approved``, the rejection's code, ``unanswered`` or ``ambiguous`` (more than one distinct answer)."""
    contents = {reply.data_json for reply in answers}
    if not contents:
        return "unanswered"
    if len(contents) > 1:
        return "ambiguous"
    result = answer_of(next(iter(answers)).data) or {}
    return "approved" if result.get("status") == "approved" else str(result.get("code", "other"))


def check_sagas(world: SagaWorld) -> Verdict:
    verdict = Verdict()
    for name, meaning in SAGA_INVARIANTS:
        verdict.declare(name, meaning)
    for saga in world.planned:
        answers = _distinct(world.answers.get(saga.saga_id, ()))
        record = world.records.get(saga.saga_id)
        _unfinished(saga, record, answers, verdict)
        ended_approved = any((answer_of(a.data) or {}).get("status") == "approved" for a in answers)
        _compensations(saga, record, ended_approved, world, verdict)
        _answers(saga, record, answers, world, verdict)
    _twice(world, verdict)
    for name in world.reference_wrong:
        verdict.count("reference_data_wrong", example=f"{name}: not as the set-up command set it")
    return verdict


def _distinct(answers: Sequence[Reply]) -> list[Reply]:
    return sorted(set(answers), key=lambda reply: (reply.source, reply.id, reply.data_json))


def _unfinished(saga: PlannedSaga, record: SagaRecord | None, answers: Sequence[Reply], verdict: Verdict) -> None:
    if record is None:
        verdict.count("sagas_unfinished", example=f"saga {saga.saga_id} ({saga.share}): no saga record")
    elif record.status not in ("completed", "rejected"):
        verdict.count("sagas_unfinished", example=f"saga {saga.saga_id} ({saga.share}): {record.status}, steps "
                                                  f"{dict(record.steps)}")
    elif not answers:
        verdict.count("sagas_unfinished", example=f"saga {saga.saga_id} ({saga.share}): {record.status}, its "
                                                  "PlaceOrder never answered")


def _compensations(saga: PlannedSaga, record: SagaRecord | None, ended_approved: bool, world: SagaWorld,
                   verdict: Verdict) -> None:
    if ended_approved:
        return
    for step, held in ((CREDIT, world.credit.get(saga.saga_id)), (STOCK, world.stock.get(saga.saga_id))):
        shown_done = (record is not None and record.status in ("rejected", "failed")
                      and record.steps.get(step) in ("done", "compensating"))
        if held is not None and held.held:
            verdict.count("compensations_missing", example=f"saga {saga.saga_id} ({saga.share}): {step} still "
                                                           f"reserved at its participant, saga not approved")
        elif shown_done:
            verdict.count("compensations_missing", example=f"saga {saga.saga_id} ({saga.share}): rejected with step "
                                                           f"{step} {record.steps.get(step) if record else ''}")


def _answers(saga: PlannedSaga, record: SagaRecord | None, answers: Sequence[Reply], world: SagaWorld,
             verdict: Verdict) -> None:
    if not answers:
        return  # sagas_unfinished counts it
    label = f"saga {saga.saga_id} ({saga.share})"
    if len(answers) > 1:
        verdict.count("saga_answers_wrong", example=f"{label}: answered {len(answers)} times: "
                                                    f"{', '.join(a.data_json[:80] for a in answers)}")
        return
    data = answers[0].data
    result = answer_of(data)
    if result is None:
        verdict.count("saga_answers_wrong", example=f"{label}: answered {answers[0].data_json[:120]}")
        return
    if result.get("status") == "approved":
        problem = None
        if saga.share != "approve" or result != approved(saga.saga_id)["result"]:
            problem = f"approved ({result}) though its share cannot be"
        elif record is not None and record.status != "completed":
            problem = f"approved while its record ended {record.status}"
        else:
            missing = [step for step, held in ((CREDIT, world.credit.get(saga.saga_id)),
                                               (STOCK, world.stock.get(saga.saga_id))) if held is None or not held.held]
            if missing:
                problem = f"approved, but {' and '.join(missing)} not held at the participant"
        if problem:
            verdict.count("saga_answers_wrong", example=f"{label}: {problem}")
        return
    step, code = result.get("step"), result.get("code")
    if result.get("status") != "rejected" or (step, code) not in REJECTIONS[saga.share]:
        verdict.count("saga_answers_wrong", example=f"{label}: answered {result}, not a rejection its share gives")
    elif record is not None and record.status != "rejected":
        verdict.count("saga_answers_wrong", example=f"{label}: rejected while its record is {record.status}")


def _twice(world: SagaWorld, verdict: Verdict) -> None:
    """Reservations and releases applied more than once: from the writes that took effect, and from the counters
    the participants keep beside their reservations (the larger of the two counts, as one fault shows in both)."""
    applied = Counter((w.step, w.order_id, w.action) for w in world.writes)
    from_writes = {RESERVE: 0, RELEASE: 0}
    for (step, order_id, action), count in sorted(applied.items()):
        if count > 1:
            from_writes[action] += count - 1
            name = "steps_applied_twice" if action == RESERVE else "compensations_duplicated"
            verdict.note(name, f"{step} of order {order_id}: {action} applied {count} times")
    from_counters = {RESERVE: 0, RELEASE: 0}
    customers = {saga.customer for saga in world.planned}
    held_credit: dict[str, Decimal] = defaultdict(Decimal)
    for reservation in world.credit.values():
        if reservation.held:
            held_credit[reservation.customer] += reservation.amount
    for customer in sorted(customers | set(held_credit)):
        counter = world.credit_reserved.get(customer, Decimal(0))
        if counter != held_credit[customer]:
            action = RESERVE if counter > held_credit[customer] else RELEASE
            from_counters[action] += 1
            verdict.note("steps_applied_twice" if action == RESERVE else "compensations_duplicated",
                         f"customer {customer}: {counter} credit reserved, its reservations hold "
                         f"{held_credit[customer]}")
    held_stock: dict[str, int] = defaultdict(int)
    for reservation in world.stock.values():
        if reservation.held:
            for sku, quantity in reservation.lines.items():
                held_stock[sku] += quantity
    for sku in sorted(set(world.restocked) | set(held_stock)):
        expected = world.restocked.get(sku, 0) - held_stock[sku]
        available = world.stock_available.get(sku, 0)
        if available != expected:
            action = RESERVE if available < expected else RELEASE
            from_counters[action] += 1
            verdict.note("steps_applied_twice" if action == RESERVE else "compensations_duplicated",
                         f"SKU {sku}: {available} available, {world.restocked.get(sku, 0)} restocked less "
                         f"{held_stock[sku]} reserved leaves {expected}")
    verdict.count("steps_applied_twice", max(from_writes[RESERVE], from_counters[RESERVE]))
    verdict.count("compensations_duplicated", max(from_writes[RELEASE], from_counters[RELEASE]))
