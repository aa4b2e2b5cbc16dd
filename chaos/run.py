"""One chaos run: the example system on the embedded local cloud, a seeded workload, injected faults, then the checks.

The run deploys the synthesized stacks with two changes made to a copy of the assembly, never to the product: every
function's timeout is cut to ``function_timeout`` seconds (so a timeout fault costs seconds, not half a minute), and
with ``consumer="naive"`` the Orders, Billing and Notifications functions run the baseline handlers of
:mod:`chaos.naive` from a code directory that holds ``functions/`` plus the ``chaos`` package.

Phases, each drained completely (including abandoned runs of timed-out invocations) before the next:

1. CreateOrder commands over the shards (some claim-checked), CancelOrder commands racing some of them (sent right
   after their create, for the order id the product derives from it), poison messages mixed into the same shards,
   some commands resent at once (inside the 5-minute deduplication window); sent :data:`SEND_CHUNK` at a time, so
   several messages per group are in flight together;
2. duplicates of applied messages: commands resent after the deduplication window (the local clock moves 301 s),
   and order events put into the subscribers' dead-letter queues and redriven with ``python -m cli dlq redrive``'s
   code;
3. CancelOrder commands for some of the orders phase 1 created (their ids are read back from the orders table),
   and a second one for some orders a racing cancel took.
4. PlaceOrder sagas (:mod:`chaos.saga`, ``sagas``): some refused by credit or stock, some with inventory held back
   past their deadline; with ``saga="naive"`` the orchestrator is :mod:`chaos.naive.order_saga`.

Faults (:mod:`chaos.faults`) are on during every phase. Every record a queue hands to a function is recorded
(:meth:`chaos.history.History.record_delivery`): duplicates are counted where they are delivered, and the checker
compares every reply delivered to the reply queue, besides those a client reads from the reply store.

A scenario module adds its phase and its invariants here: it runs inside :meth:`ChaosRun._exercise` and merges its
:class:`~chaos.check.Verdict` into the one :func:`~chaos.check.check` returns.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.check import Verdict, check
from chaos.faults import FUNCTION_THREAD_PREFIX, FaultInjector, FaultRates, Sabotage
from chaos.history import History, Sent, duplicate_deliveries
from chaos.producer import NAIVE_PRODUCER_HANDLERS, ProducerFigures, ProducerPhase
from chaos.readback import final_state, record_deliveries, stored_orders
from chaos.saga import NAIVE_SAGA_HANDLERS, ParticipantWrites, SagaFigures, SagaPhase
from chaos.workload import SOURCE, Outgoing, Workload, claim_checked, entry
from cli.endpoints import QueueEndpoint
from cli.queues import redrive
from localcloud import LocalCloud
from localcloud.awslambda.runtime import InvocationResult, LocalFunction
from messaging.claim_check import ClaimCheck
from messaging.envelope import Envelope
from messaging.reply_store import DynamoDbReplyStore

ROOT = Path(__file__).resolve().parent.parent
NAIVE_HANDLERS = {
    "orders.handler.lambda_handler": "chaos.naive.orders.lambda_handler",
    "billing.handler.lambda_handler": "chaos.naive.billing.lambda_handler",
    "notifications.handler.lambda_handler": "chaos.naive.notifications.lambda_handler",
    "quotes.handler.lambda_handler": "chaos.naive.quotes.lambda_handler",
    "reply_router.handler.lambda_handler": "chaos.naive.reply_router.lambda_handler",
}
BASELINE_IDEMPOTENCY_TABLE = {
    "Type": "AWS::DynamoDB::Table",
    "Properties": {
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
    },
}
"""The Powertools idempotency table the documentation pattern gives a function the product runs without one."""
FIFO_DEDUP_WINDOW_SECONDS = 300
SEND_CHUNK = 250
"""Messages sent between two drains: about five per group in flight at 50 shards, while the queues stay shallow
enough for moto (its cost grows with queue depth). Every message in flight behind a failed record of its group comes
back with its receive count raised, so at high fault rates a deep group can push a valid message to maxReceiveCount."""
DELIVERY_QUEUES = ("OrdersCommand", "Billing", "Notifications", "Reply")
"""The queues whose deliveries are counted (output ``<name>QueueArn``)."""


def _write_log(function: LocalFunction, result: InvocationResult) -> None:
    """The functions' own output goes to this process's stdout (the local cloud captures it per invocation)."""
    sys.stdout.write(result.log)


@dataclass(frozen=True)
class ChaosConfig:
    messages: int = 1000
    shards: int = 50
    seed: int = 7
    consumer: str = "ours"
    rates: FaultRates = field(default_factory=FaultRates)
    poison_rate: float = 0.03
    duplicate_rate: float = 0.05
    function_timeout: int = 3
    producer: str = "outbox"  # the producers through the HTTP front door (chaos.producer); "naive": no outbox
    producer_orders: int = 100
    drain_timeout: float = 300.0  # per phase chunk: a stall detector, generous for a loaded machine
    sabotage: Sabotage = field(default_factory=Sabotage)
    send_chunk: int = SEND_CHUNK
    saga: str = "ours"  # the order saga's orchestrator (chaos.saga); "naive": state and sends as separate writes
    sagas: int = 40  # PlaceOrder sagas of the saga phase (0: none)


@dataclass
class Report:
    config: ChaosConfig
    verdict: Verdict
    faults: dict[str, int]
    seconds: float
    invocations: int
    duplicates_delivered: dict[str, int] = field(default_factory=dict)
    workload: dict[str, Any] = field(default_factory=dict)
    producer: ProducerFigures | None = None
    sagas: SagaFigures | None = None

    def summary(self) -> dict[str, Any]:
        """The JSON line: each invariant's figure under its name, ``invariants`` (name -> the figure it must have),
        the faults injected, the duplicates each consumer received, and the run's size and time."""
        v = self.verdict
        summary: dict[str, Any] = {
            "consumer": self.config.consumer,
            "messages": self.config.messages,
            "shards": self.config.shards,
            "seed": self.config.seed,
            "faults": dict(sorted(self.faults.items())),
            "workload": dict(self.workload),
            "duplicates_delivered": dict(self.duplicates_delivered),
            **v.figures(),
            "poison_injected": v.invariant("poison_in_dlq").expected,
            "invariants": v.expectations(),
            "invocations": self.invocations,
            "seconds": round(self.seconds, 1),
            **(self.producer.summary() if self.producer else {}),
            **(self.sagas.summary() if self.sagas else {}),
            "ok": v.ok,
        }
        sabotage = self.config.sabotage.describe()
        if sabotage:
            summary["sabotage"] = sabotage
        return summary


Progress = Callable[[str], None]


def prepare_assembly(
    assembly: Path, target: Path, *, consumer: str, function_timeout: int, producer: str = "outbox",
    saga: str = "ours",
) -> Path:
    """Copy ``assembly`` into ``target`` with the functions' timeouts cut and, for the naive run, the baseline
    handlers in place of the product's (their code directory: ``functions/`` plus the ``chaos`` package)."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(assembly, target)
    naive_code: Path | None = None
    handlers = {**(NAIVE_HANDLERS if consumer == "naive" else {}),
                **(NAIVE_PRODUCER_HANDLERS if producer == "naive" else {}),
                **(NAIVE_SAGA_HANDLERS if saga == "naive" else {})}
    if handlers:
        naive_code = target / "naive-code"
        naive_code.mkdir()
        for source in (ROOT / "functions").iterdir():
            (naive_code / source.name).symlink_to(source)
        (naive_code / "chaos").symlink_to(ROOT / "chaos")
    for template_path in target.glob("*.template.json"):
        template = json.loads(template_path.read_text())
        resources = template.get("Resources", {})
        for logical_id, resource in list(resources.items()):
            if resource.get("Type") != "AWS::Lambda::Function":
                continue
            properties = resource["Properties"]
            properties["Timeout"] = function_timeout
            naive = handlers.get(properties.get("Handler", ""))
            if naive is not None and naive_code is not None:
                properties["Handler"] = naive
                resource.setdefault("Metadata", {})["aws:asset:path"] = str(naive_code)
                variables = properties.setdefault("Environment", {}).setdefault("Variables", {})
                if "IDEMPOTENCY_TABLE_NAME" not in variables:
                    table_id = f"{logical_id}BaselineIdempotency"
                    resources[table_id] = BASELINE_IDEMPOTENCY_TABLE
                    variables["IDEMPOTENCY_TABLE_NAME"] = {"Ref": table_id}
        template_path.write_text(json.dumps(template))
    return target


class ChaosRun:
    """The system under faults; :meth:`run` returns the :class:`Report`."""

    def __init__(self, config: ChaosConfig, assembly: Path, progress: Progress | None = None) -> None:
        self.config = config
        self.assembly = assembly
        self.progress = progress or (lambda _: None)
        self.rng = random.Random(config.seed)
        self.extra_faults: dict[str, int] = {}
        self._sent: dict[int, Outgoing] = {}
        self._racing = 0
        self._sagas: SagaFigures | None = None

    def run(self) -> Report:
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="chaos-") as scratch:
            prepared = prepare_assembly(
                self.assembly,
                Path(scratch) / "assembly",
                consumer=self.config.consumer,
                function_timeout=self.config.function_timeout,
                producer=self.config.producer,
                saga=self.config.saga,
            )
            with LocalCloud() as cloud:
                outputs = cloud.deploy(prepared).outputs
                for function in cloud.functions.values():
                    function.add_listener(_write_log)
                history = History(
                    tables={
                        outputs["OrdersTableName"]: "orders",
                        outputs["BillingTableName"]: "billing",
                        outputs["NotificationsTableName"]: "notifications",
                    }
                )
                for function in cloud.functions.values():
                    record_deliveries(function, history)
                self._writes = ParticipantWrites(outputs)

                def record_call(function: str, service: str, operation: str, params: dict[str, Any]) -> None:
                    history.record_call(function, service, operation, params)
                    self._writes.record_call(function, service, operation, params)

                injector = FaultInjector(
                    self.config.rates,
                    seed=self.config.seed,
                    function_timeout=self.config.function_timeout,
                    recorder=record_call,
                    sabotage=self.config.sabotage,
                )
                with injector.installed():
                    cloud.start_pollers()
                    verdict = self._exercise(cloud, outputs, history)
                    producer = ProducerPhase(
                        cloud, outputs, orders=self.config.producer_orders, customers=10, seed=self.config.seed,
                        duplicate_rate=0.2, producer=self.config.producer,
                        drain=lambda label: self._drain(cloud, label),
                    ).run() if self.config.producer_orders else None
                    if producer is not None:  # the producers' invariants join the run's verdict
                        verdict.merge(producer.verdict())
                    invocations = cloud.invocation_count
                    injector.enabled = False
                    cloud.stop_pollers()
        faults = {**injector.counts, **self.extra_faults}
        delivered = {
            name: duplicate_deliveries(history.deliveries, outputs[f"{name}QueueArn"]) for name in DELIVERY_QUEUES
        }
        return Report(
            self.config, verdict, faults, time.monotonic() - started, invocations, delivered, self._composition(),
            producer, self._sagas,
        )

    def _composition(self) -> dict[str, Any]:
        """What was sent: commands by kind, claim-checked creates, cancels racing their create, poison by kind."""
        sent = list(self._sent.values())
        poison = sorted(m.poison_kind or "" for m in sent if m.kind == "poison")
        return {
            "creates": sum(1 for m in sent if m.kind == "create"),
            "cancels": sum(1 for m in sent if m.kind == "cancel"),
            "claim_checked": sum(1 for m in sent if m.claim_checked),
            "racing_cancels": self._racing,
            "poison": {kind: poison.count(kind) for kind in sorted(set(poison))},
        }

    # ------------------------------------------------------------------------------------------------ phases
    def _exercise(self, cloud: LocalCloud, outputs: dict[str, Any], history: History) -> Verdict:
        sqs = cloud.client("sqs")
        workload = Workload.generate(
            messages=self.config.messages,
            shards=self.config.shards,
            seed=self.config.seed,
            poison_rate=self.config.poison_rate,
            reply_queue_url=outputs["ReplyQueueUrl"],
            claim_bucket=outputs["ClaimCheckBucketName"],
            # The product derives an order's id from its command, so a client can name it before it exists; the
            # naive consumer draws it at random, so nothing can race its creates.
            order_id_of=derived_order_id if self.config.consumer == "ours" else None,
        )
        orders_queue = outputs["OrdersCommandQueueUrl"]
        # Where a requester reads its replies (the reply router stores them by correlation id).
        self._replies = DynamoDbReplyStore(outputs["ReplyTableName"], client=cloud.client("dynamodb"))
        self._claims = ClaimCheck(outputs["ClaimCheckBucketName"], client=cloud.client("s3"))
        first = workload.first_phase()
        self._racing = sum(1 for m in first if m.kind == "cancel")
        self._send(cloud, sqs, orders_queue, first, history, "phase 1: create orders")
        self._late_duplicates(cloud, sqs, orders_queue, [self._sent[o.tag] for o in workload.creates])
        self._redrive_duplicates(cloud, sqs, outputs, history)
        order_ids = {
            o.create_tag: o.order_id
            for o in sorted(stored_orders(cloud.client("dynamodb"), outputs), key=lambda o: o.order_id)
            if o.create_tag is not None
        }
        cancels = workload.cancels(order_ids, self.rng)
        self._send(cloud, sqs, orders_queue, cancels, history, "phase 3: cancel orders")
        # A scenario module's phase runs before the final state is read; its verdict joins this one (merge).
        if self.config.sagas:
            self._sagas = SagaPhase(cloud, outputs, history, self._writes, sagas=self.config.sagas,
                                    seed=self.config.seed, saga=self.config.saga,
                                    drain=lambda label: self._drain(cloud, label)).run()
        self.progress("reading the final state back")
        state = final_state(cloud.client("dynamodb"), cloud.client("sqs"), outputs, history, self._replies)
        verdict = check(history.sent, history.effects, state)
        if self._sagas is not None:
            verdict.merge(self._sagas.verdict())
        return verdict

    def _send(  # noqa: PLR0917 - one phase's inputs
        self, cloud: LocalCloud, sqs: Any, queue_url: str, messages: list[Outgoing], history: History, label: str
    ) -> None:
        duplicates = 0
        messages = [claim_checked(m, self._claims) if m.claim_checked else m for m in messages]
        step = self.config.send_chunk
        for start in range(0, len(messages), step):
            chunk = messages[start : start + step]
            for message in chunk:
                self._sent[message.tag] = message
            wire: list[Outgoing] = []
            for message in chunk:
                wire.append(message)
                if message.kind != "poison" and self.rng.random() < self.config.duplicate_rate / 3:
                    wire.append(message)  # the same envelope again, inside the deduplication window
                    duplicates += 1
            for offset in range(0, len(wire), 10):
                batch = wire[offset : offset + 10]
                response = sqs.send_message_batch(
                    QueueUrl=queue_url, Entries=[{"Id": str(i), **entry(m)} for i, m in enumerate(batch)]
                )
                if response.get("Failed"):
                    raise RuntimeError(f"the harness could not send: {response['Failed']}")
            for message in chunk:
                envelope = message.envelope
                asks = envelope.replyto is not None if envelope is not None else message.poison_kind != "not_json"
                history.record_sent(
                    Sent(
                        message.tag,
                        message.shard,
                        message.kind,
                        message.message_id,
                        correlation_id=message.message_id if asks else None,
                        order_tag=message.order_tag,
                        body=message.body,
                        source=SOURCE,
                        total=message.total,
                        failure_code=message.failure_code,
                    )
                )
            done = min(start + step, len(messages))
            self._drain(cloud, f"{label} {progress_bar(done, len(messages))} {done}/{len(messages)} sent")
        self.extra_faults["duplicate_in_window"] = self.extra_faults.get("duplicate_in_window", 0) + duplicates
        self.extra_faults["poison"] = sum(1 for s in history.sent if s.kind == "poison")

    def _late_duplicates(self, cloud: LocalCloud, sqs: Any, queue_url: str, creates: list[Outgoing]) -> None:
        """Resend some applied commands after their deduplication window closed: SQS delivers them again."""
        sample = [c for c in creates if self.rng.random() < self.config.duplicate_rate / 3]
        cloud.clock.advance(FIFO_DEDUP_WINDOW_SECONDS + 1)
        for offset in range(0, len(sample), 10):
            batch = sample[offset : offset + 10]
            sqs.send_message_batch(
                QueueUrl=queue_url, Entries=[{"Id": str(i), **entry(m)} for i, m in enumerate(batch)]
            )
        self.extra_faults["duplicate_after_window"] = len(sample)
        self._drain(cloud, f"phase 2: {len(sample)} commands resent after the deduplication window")

    def _redrive_duplicates(self, cloud: LocalCloud, sqs: Any, outputs: dict[str, Any], history: History) -> None:
        """Put copies of delivered order events into the subscribers' DLQs and redrive them: a second delivery."""
        events = [p for p in history.published if p.get("Message") and '"orders.OrderCreated"' in p["Message"]]
        sample = [e for e in events if self.rng.random() < self.config.duplicate_rate / 3]
        for name in ("Billing", "Notifications"):
            dlq = outputs[f"{name}DeadLetterQueueUrl"]
            for n, published in enumerate(sample):
                sqs.send_message(
                    QueueUrl=dlq,
                    MessageBody=published["Message"],
                    MessageGroupId=published["GroupId"] or "chaos",
                    MessageDeduplicationId=f"chaos-redrive-{n}",
                )
            if sample:
                redrive(sqs, QueueEndpoint(name, outputs[f"{name}QueueUrl"], dlq), limit=len(sample))
        self.extra_faults["duplicate_redrive"] = 2 * len(sample)
        self._drain(cloud, f"phase 2: {len(sample)} order events redriven to billing and notifications")

    # ------------------------------------------------------------------------------------------------- drain
    def _drain(self, cloud: LocalCloud, label: str) -> None:
        """Drain every queue, also after abandoned runs of timed-out invocations have finished their late calls."""
        deadline = time.monotonic() + self.config.drain_timeout
        while True:
            self.progress(f"{label} · draining")
            if not cloud.drain(timeout=max(1.0, deadline - time.monotonic()), advance_clock=True):
                raise TimeoutError(f"{label}: the queues did not drain within {self.config.drain_timeout:.0f} s")
            zombies = [t for t in threading.enumerate() if t.name.startswith(FUNCTION_THREAD_PREFIX)]
            if not zombies:
                return
            for thread in zombies:
                thread.join(max(0.0, deadline - time.monotonic()))
            if time.monotonic() > deadline:
                raise TimeoutError(f"{label}: timed-out runs still going after {self.config.drain_timeout:.0f} s")

def derived_order_id(envelope: Envelope) -> str:
    """The id of the order a CreateOrder creates, as the Orders handler derives it from the command (the README's
    "order ids are derived from the command"): what lets a client cancel an order racing its creation."""
    from aws_lambda_powertools import Logger  # noqa: PLC0415

    from messaging.context import MessageContext  # noqa: PLC0415

    context = MessageContext(envelope, source="/orders", logger=Logger(service="chaos-client"))
    return f"o-{context.derived_id('order')[:24]}"


def progress_bar(done: int, total: int, width: int = 20) -> str:
    """``[#####---------------]``: ``done`` of ``total`` as a bar of ``width`` characters.

    >>> progress_bar(1, 4, width=8)
    '[##------]'
    """
    filled = width * done // total if total else width
    return "[" + "#" * filled + "-" * (width - filled) + "]"


@contextmanager
def progress_line(stream: Any = sys.stderr) -> Iterator[Progress]:
    """A progress line rewritten in place on a terminal (one line per step otherwise)."""
    interactive = hasattr(stream, "isatty") and stream.isatty()
    last = [""]

    def show(text: str) -> None:
        if text == last[0]:
            return
        last[0] = text
        if interactive:
            stream.write("\r\x1b[2K" + text)
        else:
            stream.write(text + "\n")
        stream.flush()

    try:
        yield show
    finally:
        if interactive:
            stream.write("\r\x1b[2K")
            stream.flush()
