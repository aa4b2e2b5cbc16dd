"""Every messaging style through the embedded local cloud, once with the product and once with the baseline (the
Powertools-documentation consumers of :mod:`chaos.naive` and a requester written against boto3 the same way), AWS
calls counted per processed message (:mod:`benchmarks.calls`).

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
Poller calls (the Lambda service's ReceiveMessage/DeleteMessageBatch on AWS) are reported apart.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.calls import CallCounter, counting
from benchmarks.pricing import cost_usd
from chaos.naive.common import cloud_event
from chaos.run import prepare_assembly
from localcloud import LocalCloud
from messaging.client import MessagingClient
from messaging.reply_store import DynamoDbReplyStore

STYLES = ("notification", "async_request", "blocking_request", "pubsub_per_subscriber", "scatter_gather")
POLL_INTERVAL = 0.05
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
        "lines": [{"sku": "book", "quantity": 1, "unit_price": "12.50"}],
    }


QUOTE = {"weight_kg": "2.5", "destination": "DE"}


@dataclass
class StyleFigures:
    messages: int
    calls: dict[str, int]
    poller_calls: int
    units: dict[str, float]
    seconds: float

    @property
    def calls_per_message(self) -> float:
        return sum(self.calls.values()) / self.messages

    @property
    def cost_per_million_usd(self) -> float:
        return cost_usd(self.units) / self.messages * 1_000_000

    def as_json(self) -> dict[str, Any]:
        return {
            "per_message": round(self.calls_per_message, 2),
            "by_operation": {op: round(n / self.messages, 2) for op, n in sorted(self.calls.items())},
            "poller_per_message": round(self.poller_calls / self.messages, 2),
        }


@dataclass
class ConsumerRun:
    consumer: str
    styles: dict[str, StyleFigures] = field(default_factory=dict)
    messages_per_s: float = 0.0


class BaselineRequester:
    """A producer and requester as the AWS samples write one: a CloudEvent dict with a random id, one ``SendMessage``
    or ``Publish`` per message, a fixed-interval poll of the reply table."""

    def __init__(self, cloud: LocalCloud, outputs: dict[str, Any]) -> None:
        self.sqs, self.sns, self.dynamodb = cloud.client("sqs"), cloud.client("sns"), cloud.client("dynamodb")
        self.outputs = outputs

    @staticmethod
    def _event(type_: str, data: dict[str, Any], partitionkey: str, kind: str, replyto: str | None) -> dict[str, Any]:
        extra = {"kind": kind, **({"replyto": replyto} if replyto else {})}
        return cloud_event(type_, "/bench/baseline", data, partitionkey, **extra)

    def send(self, queue_url: str, type_: str, data: dict[str, Any], partitionkey: str, *, reply: bool) -> str:
        event = self._event(type_, data, partitionkey, "command", self.outputs["ReplyQueueUrl"] if reply else None)
        self.sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps(event),
            MessageGroupId=partitionkey,
            MessageDeduplicationId=event["id"],
        )
        return str(event["id"])

    def publish(
        self, topic_arn: str, type_: str, data: dict[str, Any], partitionkey: str, *, kind: str, reply: bool = False
    ) -> str:
        event = self._event(type_, data, partitionkey, kind, self.outputs["ReplyQueueUrl"] if reply else None)
        self.sns.publish(
            TopicArn=topic_arn,
            Message=json.dumps(event),
            MessageGroupId=partitionkey,
            MessageDeduplicationId=event["id"],
        )
        return str(event["id"])

    def replies(self, correlation_id: str) -> int:
        return len(
            self.dynamodb.query(
                TableName=self.outputs["ReplyTableName"],
                KeyConditionExpression="correlationid = :c",
                ExpressionAttributeValues={":c": {"S": correlation_id}},
                ConsistentRead=True,
            )["Items"]
        )

    def wait(self, correlation_id: str, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.replies(correlation_id) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no reply to {correlation_id} within {timeout} s")
            time.sleep(POLL_INTERVAL)


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
        self.baseline = BaselineRequester(cloud, self.outputs)

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
        return StyleFigures(divide_by, self.counter.by_operation(), poller, self.counter.unit_totals(), seconds)

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


def run_consumer(assembly: Path, consumer: str, *, messages: int, shards: int) -> ConsumerRun:
    """Deploy the example system (with the baseline handlers when ``consumer="baseline"``) and run every style."""
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        prepared = prepare_assembly(
            assembly,
            Path(scratch) / "assembly",
            consumer="naive" if consumer == "baseline" else "ours",
            function_timeout=30,
        )
        with LocalCloud() as cloud:
            cloud.deploy(prepared)
            cloud.start_pollers()
            counter = CallCounter()
            with counting(counter):
                run = StyleRunner(cloud, consumer, counter, messages, shards).run()
            cloud.stop_pollers()
    return run
