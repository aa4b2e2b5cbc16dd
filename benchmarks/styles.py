"""Every messaging style through the embedded local cloud, once with the product and once with each baseline (the
Powertools-documentation consumers of :mod:`chaos.naive` with :class:`~benchmarks.requesters.BaselineRequester`, and
the tuned ones of :mod:`benchmarks.tuned` with :class:`~benchmarks.requesters.TunedRequester`), AWS calls counted
per processed message (:mod:`benchmarks.calls`) and the whole bill priced (:mod:`benchmarks.pricing`).

Styles and what one "message" is:
- ``notification``: a CreateOrder without ``replyto``; orders writes and publishes OrderCreated, billing and
  notifications apply it;
- ``async_request``: a CreateOrder with ``replyto``; the same, plus the reply stored by the reply router and read once
  by the requester;
- ``blocking_request``: the same, the requester polling the reply store until the reply is there;
- ``pubsub_per_subscriber``: an OrderCreated published by a producer, applied by billing and notifications: calls
  divided by two deliveries;
- ``scatter_gather``: a RequestQuote published to the quote topic, three responders reply, the requester polls until
  it has all three.
Calls per message are the client's and the functions'; the pollers' (the Lambda service's ReceiveMessage and
DeleteMessageBatch on AWS) are reported apart, and billed with the rest.

What the bill's Lambda duration is made of: each invocation's wall-clock time on this machine (the local cloud's
``REPORT`` line, ``Billed Duration`` rounded up to the millisecond), at the memory the template configures. That time
is the handler's code plus its AWS calls answered by moto in this process (under one lock, so a call can wait for
another function's), sharing two cores with the pollers and the client. It is not what the same invocation takes
on AWS, where each call is a network round trip of milliseconds and a 512 MB function has a fraction of a vCPU; it
is measured the same way for every side in one run, so the ratio compares like with like.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.calls import ROLES, CallCounter, MotoItems, counting
from benchmarks.pricing import cost_components, cost_usd
from benchmarks.requesters import POLL_INTERVAL, BaselineRequester, TunedRequester
from benchmarks.tuned.assembly import prepare_tuned
from chaos.run import prepare_assembly
from localcloud import LocalCloud
from localcloud.awslambda.runtime import InvocationResult, LocalFunction
from messaging.client import MessagingClient
from messaging.reply_store import DynamoDbReplyStore

STYLES = ("notification", "async_request", "blocking_request", "pubsub_per_subscriber", "scatter_gather")
SIDES = ("ours", "baseline", "tuned")
"""The product, the documentation baseline, the tuned baseline."""
DRAIN_TIMEOUT = 120.0


def order_data(customer: str) -> dict[str, Any]:
    return {"customer_id": customer, "lines": [{"sku": "book", "quantity": 1, "unit_price": "12.50"}]}


def order_created(customer: str, n: int) -> dict[str, Any]:
    return {
        "order_id": f"o-bench-{uuid.uuid4().hex[:12]}-{n}",
        "customer_id": customer,
        "status": "open",
        "total": "12.50",
        "currency": "EUR",
        "item_count": 1,  # OrderCreated version 2
        "lines": [{"sku": "book", "quantity": 1, "unit_price": "12.50"}],
    }


QUOTE = {"weight_kg": "2.5", "destination": "DE"}


@dataclass
class StyleFigures:
    """One style's counts: ``calls`` of the client and functions, ``units`` of every role (the whole bill),
    ``log_bytes`` written by each function."""

    messages: int
    calls: dict[str, int]
    poller_calls: int
    units: dict[str, float]
    seconds: float
    log_bytes: dict[str, int] = field(default_factory=dict)

    @property
    def calls_per_message(self) -> float:
        return sum(self.calls.values()) / self.messages

    @property
    def cost_per_million_usd(self) -> float:
        return cost_usd(self.units) / self.messages * 1_000_000

    @property
    def cost_components(self) -> dict[str, float]:
        """Dollars per million messages, per component of the bill."""
        return {k: v / self.messages * 1_000_000 for k, v in cost_components(self.units).items()}

    @property
    def log_bytes_per_message(self) -> float:
        return sum(self.log_bytes.values()) / self.messages

    def as_json(self) -> dict[str, Any]:
        return {
            "per_message": round(self.calls_per_message, 2),
            "by_operation": {op: round(n / self.messages, 2) for op, n in sorted(self.calls.items())},
            "poller_per_message": round(self.poller_calls / self.messages, 2),
            "empty_receives_per_message": round(self.units.get("sqs_empty_receives", 0.0) / self.messages, 2),
            "lambda_invocations_per_message": round(self.units.get("lambda_requests", 0.0) / self.messages, 2),
        }


@dataclass
class ConsumerRun:
    consumer: str
    styles: dict[str, StyleFigures] = field(default_factory=dict)
    messages_per_s: float = 0.0


class StyleRunner:
    """Runs the styles against one deployment; ``consumer`` says whose producer code is used."""

    def __init__(self, cloud: LocalCloud, consumer: str, counter: CallCounter, messages: int, shards: int) -> None:
        self.cloud, self.consumer, self.counter = cloud, consumer, counter
        self.messages, self.shards = messages, shards
        self.outputs = cloud.outputs
        self.ours = MessagingClient(
            self.outputs["ReplyQueueUrl"],
            DynamoDbReplyStore(self.outputs["ReplyTableName"], client=cloud.client("dynamodb")),
            source="/bench/client",
            sqs_client=cloud.client("sqs"),
            sns_client=cloud.client("sns"),
        )
        self.baseline = (TunedRequester if consumer == "tuned" else BaselineRequester)(cloud, self.outputs)

    def measure(
        self,
        style: str,
        count: int,
        divide_by: int,
        action: Callable[[int], None],
        after_drain: Callable[[], None] | None = None,
    ) -> StyleFigures:
        self.drain()
        self.counter.reset()
        started = time.perf_counter()
        with self.counter.as_client():
            for n in range(count):
                action(n)
        self.drain()
        if after_drain is not None:
            with self.counter.as_client():
                after_drain()
        seconds = time.perf_counter() - started
        poller = sum(c for (role, _), c in self.counter.calls.items() if role == "poller")
        return StyleFigures(
            divide_by,
            self.counter.by_operation(),
            poller,
            self.counter.unit_totals(ROLES),
            seconds,
            dict(self.counter.log_bytes),
        )

    def drain(self) -> None:
        if not self.cloud.drain(timeout=DRAIN_TIMEOUT, advance_clock=True):
            raise TimeoutError(f"the queues did not drain within {DRAIN_TIMEOUT:.0f} s")

    def shard(self, n: int) -> str:
        return f"bench-{self.consumer}-{n % self.shards}"

    def run(self) -> ConsumerRun:
        run = ConsumerRun(self.consumer)
        orders_queue = self.outputs["OrdersCommandQueueUrl"]
        events_topic, quotes_topic = self.outputs["OrderEventsTopicArn"], self.outputs["QuoteRequestsTopicArn"]
        n, blocking = self.messages, max(5, self.messages // 4)
        ours = self.consumer == "ours"

        def notify(i: int) -> None:
            if ours:
                self.ours.notify(
                    orders_queue, "orders.CreateOrder", order_data(self.shard(i)), partitionkey=self.shard(i)
                )
            else:
                self.baseline.send(
                    orders_queue, "orders.CreateOrder", order_data(self.shard(i)), self.shard(i), reply=False
                )

        run.styles["notification"] = self.measure("notification", n, n, notify)
        run.messages_per_s = n / run.styles["notification"].seconds

        sent: list[str] = []

        def request(i: int) -> None:
            if ours:
                sent.append(
                    self.ours.send(
                        orders_queue, "orders.CreateOrder", order_data(self.shard(i)), partitionkey=self.shard(i)
                    )
                )
            else:
                sent.append(
                    self.baseline.send(
                        orders_queue, "orders.CreateOrder", order_data(self.shard(i)), self.shard(i), reply=True
                    )
                )

        def read_replies() -> None:
            for correlation_id in sent:
                found = (
                    self.ours.get_reply(correlation_id) is not None if ours else self.baseline.replies(correlation_id)
                )
                if not found:
                    raise RuntimeError(f"{self.consumer}: no reply stored for {correlation_id}")

        run.styles["async_request"] = self.measure("async_request", n, n, request, read_replies)

        def blocking_request(i: int) -> None:
            if ours:
                self.ours.request(
                    orders_queue,
                    "orders.CreateOrder",
                    order_data(self.shard(i)),
                    partitionkey=self.shard(i),
                    timeout=30,
                    poll_interval=POLL_INTERVAL,
                )
            else:
                self.baseline.wait(
                    self.baseline.send(
                        orders_queue, "orders.CreateOrder", order_data(self.shard(i)), self.shard(i), reply=True
                    ),
                    1,
                )

        run.styles["blocking_request"] = self.measure("blocking_request", blocking, blocking, blocking_request)

        def publish(i: int) -> None:
            if ours:
                self.ours.publish(
                    events_topic, "orders.OrderCreated", order_created(self.shard(i), i), partitionkey=self.shard(i)
                )
            else:
                self.baseline.publish(
                    events_topic, "orders.OrderCreated", order_created(self.shard(i), i), self.shard(i), kind="event"
                )

        run.styles["pubsub_per_subscriber"] = self.measure("pubsub_per_subscriber", n, 2 * n, publish)

        def gather(i: int) -> None:
            if ours:
                replies = self.ours.scatter_gather(
                    quotes_topic,
                    "quotes.RequestQuote",
                    QUOTE,
                    partitionkey=self.shard(i),
                    window=30,
                    min_replies=3,
                    poll_interval=POLL_INTERVAL,
                )
                if len(replies) < 3:
                    raise RuntimeError(f"scatter-gather: {len(replies)} replies")
            else:
                request_id = self.baseline.publish(
                    quotes_topic, "quotes.RequestQuote", QUOTE, self.shard(i), kind="command", reply=True
                )
                self.baseline.wait(request_id, 3)

        run.styles["scatter_gather"] = self.measure("scatter_gather", blocking, blocking, gather)
        return run


def prepare(assembly: Path, target: Path, consumer: str) -> Path:
    """The assembly ``consumer`` runs: the product's as synthesized, or with a baseline's handlers in place."""
    if consumer == "tuned":
        return prepare_tuned(assembly, target, function_timeout=30)
    return prepare_assembly(
        assembly, target, consumer="naive" if consumer == "baseline" else "ours", function_timeout=30
    )


def billing_listener(counter: CallCounter) -> Callable[[LocalFunction, InvocationResult], None]:
    """Counts each invocation's request, billed duration at the function's memory, and log bytes."""

    def listener(function: LocalFunction, result: InvocationResult) -> None:
        spec = function.spec
        counter.record_invocation(
            spec.name,
            memory_mb=spec.memory_mb,
            architecture=spec.architectures[0] if spec.architectures else "x86_64",
            duration_seconds=result.duration_seconds,
            log_messages=[event.message for event in result.log_events],
        )

    return listener


def run_consumer(assembly: Path, consumer: str, *, messages: int, shards: int) -> ConsumerRun:
    """Deploy the example system (with a baseline's handlers unless ``consumer="ours"``) and run every style."""
    if consumer not in SIDES:
        raise ValueError(f"consumer must be one of {', '.join(SIDES)}, not {consumer!r}")
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        prepared = prepare(assembly, Path(scratch) / "assembly", consumer)
        with LocalCloud() as cloud:
            counter = CallCounter(items=MotoItems(cloud.account_id, cloud.region))
            cloud.invocation_listeners.append(billing_listener(counter))
            cloud.deploy(prepared)
            cloud.start_pollers()
            with counting(counter):
                run = StyleRunner(cloud, consumer, counter, messages, shards).run()
            cloud.stop_pollers()
    return run
