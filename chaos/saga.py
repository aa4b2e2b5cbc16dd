"""The saga phase of a chaos run: PlaceOrder sagas (the order saga: reserve credit at billing, reserve stock at
inventory, 30 s deadline) under the run's faults, some refused, some with a participant held back past the deadline;
then the saga figures (:mod:`chaos.saga_check`).

1. Reference data, by the commands anyone uses (``billing.SetCreditLimit``, ``inventory.Restock``): customers with a
   limit of 1000.00 and one without any, SKUs with 1000 units and one with a single unit. The customers are
   ``saga-<seed>-...``, so no CreateOrder of the run's workload shares their shard (nor their credit).
2. The sagas of the shares ``approve`` (within credit and stock), ``credit`` (2 x 999.00 for a customer with a 1000.00
   limit, or any amount for the customer without a limit) and ``stock`` (an unknown SKU, or 5 of the single unit),
   sent to ``order-sagas`` a few at a time as requests with the reply queue as ``replyto``, then drained.
3. The ``held`` share: inventory's event source mapping is disabled (``UpdateEventSourceMapping``), the sagas start,
   billing reserves their credit, their stock reservations wait in inventory's queue, the drain moves the local clock
   to their deadlines (the timeouts' schedules fire) and they are rejected; then the mapping is enabled again, the late
   reservations are applied and must be released.
4. Read back: every saga record (the saga table), the participants' reservations and counters (their tables), the
   answers (the reply store, and every reply delivered to the reply queue), and every write a participant made that
   took effect (recorded from the calls, :class:`ParticipantWrites`).

With ``--saga naive`` the orchestrator is :mod:`chaos.naive.order_saga` (its state and its sends as separate writes,
fresh ids, no version condition); the participants stay the product's.

Example::

    writes = ParticipantWrites(outputs)
    figures = SagaPhase(cloud, outputs, history, writes, sagas=40, seed=7, drain=drain).run()
    figures.verdict().ok, figures.summary()["sagas"]   # True, 40
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chaos.check import Reply, Verdict
from chaos.history import History, writes_of
from chaos.readback import scan
from chaos.saga_check import (
    CREDIT,
    RELEASE,
    RESERVE,
    SHARES,
    STOCK,
    ParticipantWrite,
    PlannedSaga,
    Reservation,
    SagaRecord,
    SagaWorld,
    check_sagas,
    outcome_label,
)
from localcloud import LocalCloud
from messaging.client import MessagingClient
from messaging.reply_store import DynamoDbReplyStore
from messaging.saga import DynamoDbSagaRepository

NAIVE_SAGA_HANDLERS = {"order_saga.handler.lambda_handler": "chaos.naive.order_saga.lambda_handler"}
"""The product's orchestrator -> the baseline's, for ``--saga naive``."""
SAGAS = ("ours", "naive")
SOURCE = "/chaos/sagas"
LIMIT = Decimal("1000.00")
PLENTY, SCARCE = 1000, 1
START_CHUNK = 10
"""PlaceOrder requests sent between two drains."""

log = logging.getLogger(__name__)


@dataclass
class SagaFigures:
    """What the saga phase found: the plan, the world read back, and its verdict."""

    saga: str
    world: SagaWorld
    seconds: float = 0.0
    """Wall time of the phase (set-up, sagas, read back)."""
    _verdict: Verdict | None = field(default=None, repr=False)

    def verdict(self) -> Verdict:
        """The saga invariants (:data:`chaos.saga_check.SAGA_INVARIANTS`), for the run's verdict."""
        if self._verdict is None:
            self._verdict = check_sagas(self.world)
        return self._verdict

    def shares(self) -> dict[str, int]:
        return dict(Counter(saga.share for saga in self.world.planned))

    def outcomes(self) -> dict[str, int]:
        """How the sagas ended, by their answer: ``approved``, the rejection's code, ``unanswered``."""
        counts = Counter(outcome_label(self.world.answers.get(s.saga_id, ())) for s in self.world.planned)
        return dict(sorted(counts.items()))

    def summary(self) -> dict[str, Any]:
        """The keys the run's JSON line gains besides the invariants' figures."""
        return {"saga": self.saga, "sagas": len(self.world.planned), "saga_shares": self.shares(),
                "saga_outcomes": self.outcomes(), "saga_seconds": round(self.seconds, 1)}


class ParticipantWrites:
    """Every write of billing's credit and inventory's stock that took effect, as reservations and releases per order
    (a :data:`chaos.faults.CallRecorder`: the fault injector hands it each call that took effect)."""

    def __init__(self, outputs: dict[str, Any]) -> None:
        self.tables = {outputs["BillingCreditTableName"]: CREDIT, outputs["InventoryTableName"]: STOCK}
        self.writes: list[ParticipantWrite] = []
        self._lock = threading.Lock()

    def record_call(self, function: str, service: str, operation: str, params: dict[str, Any]) -> None:
        if service != "dynamodb":
            return
        for table, item in writes_of(operation, params):
            step = self.tables.get(table)
            if step is None:
                continue
            write = _reservation_write(step, item)
            if write is not None:
                with self._lock:
                    self.writes.append(write)


def _reservation_write(step: str, item: dict[str, Any]) -> ParticipantWrite | None:
    """A write that reserves (status ``reserved``) or releases (``released``) an order's reservation, else None."""
    pk, sk = (str(item.get(name, {}).get("S", "")) for name in ("pk", "sk"))
    status = str(item.get("status", {}).get("S", ""))
    order_id = sk.removeprefix("RESERVATION#") if step == CREDIT else pk.removeprefix("RESERVATION#")
    is_reservation = sk.startswith("RESERVATION#") if step == CREDIT else pk.startswith("RESERVATION#")
    if not is_reservation or status not in ("reserved", "released"):
        return None
    return ParticipantWrite(step, order_id, RESERVE if status == "reserved" else RELEASE)


@dataclass(frozen=True)
class _Order:
    share: str
    customer: str
    lines: tuple[tuple[str, int, str], ...]
    """(sku, quantity, unit price)."""

    @property
    def amount(self) -> Decimal:
        return sum((Decimal(price) * quantity for _, quantity, price in self.lines), Decimal(0)).quantize(
            Decimal("0.01"))

    def data(self) -> dict[str, Any]:
        lines = [{"sku": sku, "quantity": quantity, "unit_price": price} for sku, quantity, price in self.lines]
        return {"customer_id": self.customer, "lines": lines}


def plan(sagas: int, seed: int) -> tuple[list[_Order], dict[str, Decimal], dict[str, int]]:
    """The orders of ``sagas`` sagas over the shares, the credit limits and the restocks they need.

    Example:
        >>> orders, limits, stock = plan(40, seed=7)
        >>> sorted(Counter(order.share for order in orders).items()), len(limits), len(stock)
        ([('approve', 19), ('credit', 8), ('held', 5), ('stock', 8)], 10, 6)
    """
    rng = random.Random(seed * 104729 + 17)
    held = max(1, sagas // 8) if sagas >= 4 else 0
    refused = max(1, sagas // 5) if sagas >= 3 else 0
    counts = {"held": held, "credit": refused, "stock": refused}
    counts["approve"] = max(0, sagas - sum(counts.values()))
    customers = [f"saga-{seed}-c{n:02d}" for n in range(max(1, sagas // 4))]
    no_limit = f"saga-{seed}-nolimit"
    skus = [f"saga-{seed}-sku{n:02d}" for n in range(max(1, sagas // 8))]
    scarce = f"saga-{seed}-scarce"
    orders: list[_Order] = []
    for share in SHARES:
        for n in range(counts[share]):
            customer = customers[rng.randrange(len(customers))]
            lines = tuple((sku, rng.randint(1, 3), rng.choice(("4.50", "7.25", "9.90")))
                          for sku in rng.sample(skus, min(len(skus), rng.randint(1, 2))))
            if share == "credit":
                if n % 2:
                    customer, lines = no_limit, lines[:1]
                else:
                    lines = ((lines[0][0], 2, "999.00"),)
            elif share == "stock":
                lines = ((f"saga-{seed}-none{n:02d}", 1, "3.00"),) if n % 2 else ((scarce, 5, "3.00"),)
            orders.append(_Order(share, customer, lines))
    rng.shuffle(orders)
    orders.sort(key=lambda order: order.share == "held")  # the held share runs last, on its own
    return orders, dict.fromkeys(customers, LIMIT), {**dict.fromkeys(skus, PLENTY), scarce: SCARCE}


class SagaPhase:
    """Sets up, starts the sagas, holds inventory back for the ``held`` share, reads back (module docstring)."""

    def __init__(self, cloud: LocalCloud, outputs: dict[str, Any], history: History, writes: ParticipantWrites, *,
                 sagas: int, seed: int, drain: Callable[[str], None], saga: str = "ours") -> None:
        self.cloud = cloud
        self.outputs = outputs
        self.history = history
        self.writes = writes
        self.sagas = sagas
        self.seed = seed
        self.drain = drain
        self.saga = saga
        self.client = MessagingClient(outputs["ReplyQueueUrl"],
                                      DynamoDbReplyStore(outputs["ReplyTableName"], client=cloud.client("dynamodb")),
                                      source=SOURCE, sqs_client=cloud.client("sqs"))

    def run(self) -> SagaFigures:
        started = time.monotonic()
        orders, limits, restocks = plan(self.sagas, self.seed)
        reference_wrong, restocked = self._set_up(limits, restocks)
        planned: list[PlannedSaga] = []
        normal = [order for order in orders if order.share != "held"]
        for start in range(0, len(normal), START_CHUNK):
            planned += self._start(normal[start : start + START_CHUNK])
            self.drain(f"sagas: {len(planned)}/{len(orders)} started")
        held = [order for order in orders if order.share == "held"]
        if held:
            with self._held_back(self.outputs["InventoryCommandQueueArn"]):
                planned += self._start(held)
                self.drain(f"sagas: {len(held)} with inventory held back past their deadline")
            self.drain("sagas: inventory runs again, the late reservations arrive")
        world = dataclasses.replace(self._read_back(planned, restocked), reference_wrong=reference_wrong)
        return SagaFigures(self.saga, world, time.monotonic() - started)

    # ------------------------------------------------------------------------------------------------- phases
    def _set_up(self, limits: dict[str, Decimal], restocks: dict[str, int]) -> tuple[list[str], dict[str, int]]:
        """Send the credit limits and the stock; return what did not come out as sent (a product that lost or
        doubled a set-up command: ``reference_data_wrong``) and the stock each SKU holds now, which the stock
        counters are then judged against (so a doubled Restock is counted once, there)."""
        for customer, limit in limits.items():
            self.client.notify(self.outputs["BillingCommandQueueUrl"], "billing.SetCreditLimit",
                               {"customer_id": customer, "limit": str(limit)}, partitionkey=customer)
        for sku, quantity in restocks.items():
            self.client.notify(self.outputs["InventoryCommandQueueUrl"], "inventory.Restock",
                               {"sku": sku, "quantity": quantity}, partitionkey=sku)
        self.drain(f"sagas: {len(limits)} credit limits and {len(restocks)} SKUs set up")
        credit, _ = self._credit()
        stock, _ = self._stock()
        wrong = [c for c in limits if c not in credit] + [s for s in restocks if stock.get(s) != restocks[s]]
        if wrong:
            log.warning("the saga scenario's reference data did not come out as sent: %s", ", ".join(wrong))
        return wrong, {sku: int(stock.get(sku, 0)) for sku in restocks}

    def _start(self, orders: list[_Order]) -> list[PlannedSaga]:
        started = []
        for order in orders:
            saga_id = self.client.send(self.outputs["OrderSagasQueueUrl"], "orders.PlaceOrder", order.data(),
                                       partitionkey=order.customer)
            started.append(PlannedSaga(saga_id, order.share, order.customer, order.amount, dict(_quantities(order))))
        return started

    @contextmanager
    def _held_back(self, queue_arn: str) -> Iterator[None]:
        """The queue's event source mapping disabled inside the block (what ``aws lambda
        update-event-source-mapping --no-enabled`` does), enabled again after it."""
        mapping = next((m for m in self.cloud.deployment.mappings if m.event_source_arn == queue_arn), None)
        if mapping is None:
            raise RuntimeError(f"no event source mapping reads {queue_arn}: the saga scenario cannot hold it back")
        self.cloud.update_mapping(dataclasses.replace(mapping, enabled=False))
        try:
            yield
        finally:
            self.cloud.update_mapping(dataclasses.replace(mapping, enabled=True))

    # ---------------------------------------------------------------------------------------------- read back
    def _credit(self) -> tuple[dict[str, Decimal], dict[str, Reservation]]:
        """Billing's ``reserved`` counter per customer and its reservations per order."""
        counters: dict[str, Decimal] = {}
        reservations: dict[str, Reservation] = {}
        for item in scan(self.cloud.client("dynamodb"), self.outputs["BillingCreditTableName"]):
            customer, sk = item["pk"]["S"].removeprefix("CUSTOMER#"), item["sk"]["S"]
            if sk == "CREDIT":
                counters[customer] = Decimal(item["reserved"]["N"])
            elif sk.startswith("RESERVATION#"):
                reservations[sk.removeprefix("RESERVATION#")] = Reservation(
                    item["status"]["S"], amount=Decimal(item["amount"]["N"]), customer=customer)
        return counters, reservations

    def _stock(self) -> tuple[dict[str, int], dict[str, Reservation]]:
        """Inventory's ``available`` per SKU and its reservations per order."""
        available: dict[str, int] = {}
        reservations: dict[str, Reservation] = {}
        for item in scan(self.cloud.client("dynamodb"), self.outputs["InventoryTableName"]):
            pk = item["pk"]["S"]
            if pk.startswith("SKU#"):
                available[pk.removeprefix("SKU#")] = int(item["available"]["N"])
            elif pk.startswith("RESERVATION#"):
                reservations[pk.removeprefix("RESERVATION#")] = Reservation(
                    item["status"]["S"], lines=json.loads(item["lines"]["S"]))
        return available, reservations

    def _answers(self, saga_ids: set[str]) -> dict[str, list[Reply]]:
        """Saga id -> the answers to its PlaceOrder: what the reply store gives a client, and every reply delivered
        to the reply queue (a copy the store kept only once still counts if its content differs)."""
        answers: dict[str, list[Reply]] = {saga_id: [] for saga_id in saga_ids}
        for saga_id in saga_ids:
            for reply in self.client.get_replies(saga_id):
                answers[saga_id].append(Reply.of(reply.envelope.source, reply.envelope.id, reply.envelope.data))
        for delivery in self.history.deliveries:
            if delivery.queue_arn != self.outputs["ReplyQueueArn"]:
                continue
            parsed = Reply.parse(delivery.body)
            if parsed is not None and parsed[0] in answers:
                answers[parsed[0]].append(parsed[1])
        return answers

    def _read_back(self, planned: list[PlannedSaga], restocks: dict[str, int]) -> SagaWorld:
        repository = DynamoDbSagaRepository(self.outputs["OrderSagaTableName"], client=self.cloud.client("dynamodb"))
        records = {}
        for saga in planned:
            state = repository.get(saga.saga_id)
            if state is not None:
                records[saga.saga_id] = SagaRecord(state.status, dict(state.steps))
        counters, credit = self._credit()
        available, stock = self._stock()
        return SagaWorld(
            planned=planned, records=records, answers=self._answers({s.saga_id for s in planned}), credit=credit,
            stock=stock, credit_reserved=counters, stock_available=available, restocked=restocks,
            writes=list(self.writes.writes),
        )


def _quantities(order: _Order) -> Counter[str]:
    quantities: Counter[str] = Counter()
    for sku, quantity, _ in order.lines:
        quantities[sku] += quantity
    return quantities


def render_sagas(figures: SagaFigures) -> str:
    """The saga line of the run's report (its invariants are listed with the run's, from the verdict)."""
    shares = figures.shares()
    outcomes = ", ".join(f"{label} {count}" for label, count in figures.outcomes().items())
    return (
        f"sagas ({figures.saga} orchestrator): {len(figures.world.planned)} PlaceOrder - {shares.get('approve', 0)} "
        f"within credit and stock, {shares.get('credit', 0)} over credit, {shares.get('stock', 0)} out of stock, "
        f"{shares.get('held', 0)} with inventory held back past the deadline; answers: {outcomes}; "
        f"{figures.seconds:.1f} s"
    )
