"""The producer phase of a chaos run: orders posted through the HTTP front door while faults hit the producer's state
write, the relay's publish and everything between them; then the producer figures.

Clients post ``orders`` CreateOrder requests over ``customers`` customers through the local API Gateway (payload 2.0,
the ``orders-api`` function): each customer's requests one after the other (the next once the previous was answered
202), customers in parallel, each request retried with its ``Idempotency-Key`` until it is answered 202 (a crash or
timeout of the function answers 500, a throttle behind it 503), and some requests sent a second time at once (a
duplicate HTTP request). The run's fault injector is on: a crash right after the ``TransactWriteItems`` of the
request and its outbox item, a relay crash after ``SendMessageBatch`` before its batch is acknowledged (the stream
mapping retries it), throttled and ambiguous publishes, timeouts. Once drained, the orders table is read back:

- ``producer_lost``: requests answered 202 whose order was never created;
- ``producer_duplicates``: orders created more than once for one request;
- ``producer_reorders``: orders of a customer created out of the order their requests were answered.

With ``--producer naive`` the function is :mod:`chaos.naive.orders_api` (save, then publish; no outbox).

Example::

    figures = ProducerPhase(cloud, outputs, orders=100, customers=10, seed=7, duplicate_rate=0.2).run()
    figures.summary()["producer_lost"]   # 0
"""

from __future__ import annotations

import itertools
import json
import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from chaos.check import Verdict
from localcloud import LocalCloud
from localcloud.apigateway import HttpApiRouter

NAIVE_PRODUCER_HANDLERS = {"orders_api.handler.lambda_handler": "chaos.naive.orders_api.lambda_handler"}
"""The product's handler -> the baseline's, for ``--producer naive``."""
PRODUCERS = ("outbox", "naive")
MAX_ATTEMPTS = 30
_JSON = {"content-type": "application/json"}


@dataclass
class ProducerFigures:
    """What the producer phase found."""

    producer: str
    orders: int
    accepted: int = 0
    http_requests: int = 0
    retried: int = 0
    duplicate_requests: int = 0
    lost: int = 0
    duplicates: int = 0
    reorders: int = 0
    unanswered: int = 0
    details: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.lost == self.duplicates == self.reorders == self.unanswered == 0

    def summary(self) -> dict[str, Any]:
        """The keys the run's JSON line gains."""
        return {
            "producer": self.producer,
            "producer_orders": self.orders,
            "producer_http_requests": self.http_requests,
            "producer_retried": self.retried,
            "producer_duplicate_requests": self.duplicate_requests,
            "producer_lost": self.lost,
            "producer_duplicates": self.duplicates,
            "producer_reorders": self.reorders,
            "producer_unanswered": self.unanswered,
        }

    def note(self, invariant: str, example: str) -> None:
        examples = self.details.setdefault(invariant, [])
        if len(examples) < 3:
            examples.append(example)

    def verdict(self) -> Verdict:
        """The producers' invariants, each a figure that must be 0, for the run's verdict (:mod:`chaos.check`)."""
        verdict = Verdict()
        for name, meaning, found in (
            ("producer_lost", "a request answered 202 whose order was never created", self.lost),
            ("producer_duplicates", "more than one order for one idempotency key", self.duplicates),
            ("producer_reorders", "a customer's orders created out of the order they were requested in",
             self.reorders),
            ("producer_unanswered", "a request with no 202 after its retries", self.unanswered),
        ):
            verdict.declare(name, meaning)
            examples = self.details.get(name, [])
            verdict.count(name, found, example=examples[0] if examples else None)
            for example in examples[1:]:
                verdict.note(name, example)
        return verdict


class ProducerPhase:
    """Posts the orders, drains, counts (see the module docstring)."""

    def __init__(self, cloud: LocalCloud, outputs: dict[str, Any], *, orders: int, customers: int, seed: int,
                 duplicate_rate: float, producer: str = "outbox", drain: Callable[[str], None] | None = None) -> None:
        self.cloud = cloud
        self.outputs = outputs
        self.orders = orders
        self.customers = [f"producer-{seed}-{n:03d}" for n in range(max(1, min(customers, orders)))]
        self.rng = random.Random(seed * 7919 + 1)
        self.duplicate_rate = duplicate_rate
        self.figures = ProducerFigures(producer, orders)
        self.drain = drain or (lambda _: cloud.drain(timeout=300, advance_clock=True))
        self.router = HttpApiRouter(cloud)
        self._lock = threading.Lock()
        self._duplicates = {(c, n): self.rng.random() < duplicate_rate for c, n in self._plan()}

    def _plan(self) -> list[tuple[str, int]]:
        per, extra = divmod(self.orders, len(self.customers))
        return [(c, n) for i, c in enumerate(self.customers) for n in range(per + (1 if i < extra else 0))]

    def run(self) -> ProducerFigures:
        plan = self._plan()
        sequences: dict[str, list[int]] = {}
        for customer, n in plan:
            sequences.setdefault(customer, []).append(n)
        accepted: dict[str, list[int]] = {}
        with ThreadPoolExecutor(max_workers=len(sequences)) as pool:
            futures = {c: pool.submit(self._post_all, c, ns) for c, ns in sequences.items()}
            for customer, future in futures.items():
                accepted[customer] = future.result()
        self.drain("producers: drain")
        self._check(accepted)
        return self.figures

    # ------------------------------------------------------------------------------------------------- clients
    def _post_all(self, customer: str, sequence: list[int]) -> list[int]:
        """One customer's client: each request until it is answered 202; the numbers of those answered."""
        accepted = []
        with ThreadPoolExecutor(max_workers=1) as second:
            for n in sequence:
                key = f"{customer}-{n:04d}"
                body = json.dumps({"customer_id": customer,
                                   "lines": [{"sku": f"prod-{n:04d}", "quantity": 1, "unit_price": "9.90"}]}).encode()
                duplicate = second.submit(self._post, key, body) if self._duplicates[(customer, n)] else None
                request_id = self._post(key, body)
                if duplicate is not None:
                    other = duplicate.result()
                    with self._lock:
                        self.figures.duplicate_requests += 1
                    if other is not None and request_id is not None and other != request_id:
                        with self._lock:
                            self.figures.note("producer_duplicates", f"{key}: two ids {request_id}, {other}")
                if request_id is None:
                    with self._lock:
                        self.figures.unanswered += 1
                        self.figures.note("producer_unanswered", key)
                    continue
                accepted.append(n)
        return accepted

    def _post(self, key: str, body: bytes) -> str | None:
        url = self.outputs["OrdersApiUrl"] + "orders"
        for attempt in range(MAX_ATTEMPTS):
            status, _, answer = self.router.invoke("POST", url, {**_JSON, "idempotency-key": key}, body)
            with self._lock:
                self.figures.http_requests += 1
                self.figures.retried += 1 if attempt else 0
            if status == 202:
                identifier: str = json.loads(answer)["id"]
                return identifier
        return None

    # ------------------------------------------------------------------------------------------------- checks
    def _orders_of(self, customer: str) -> list[dict[str, Any]]:
        dynamodb = self.cloud.client("dynamodb")
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.outputs["OrdersTableName"],
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :order)",
            "ExpressionAttributeValues": {":pk": {"S": f"CUSTOMER#{customer}"}, ":order": {"S": "ORDER#"}},
            "ConsistentRead": True,
        }
        while True:
            page = dynamodb.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _check(self, accepted: dict[str, list[int]]) -> None:
        figures = self.figures
        for customer, numbers in accepted.items():
            figures.accepted += len(numbers)
            orders = sorted(self._orders_of(customer), key=lambda item: item["created_at"]["S"])
            created = [int(json.loads(o["lines"]["S"])[0]["sku"].removeprefix("prod-")) for o in orders]
            counts = Counter(created)
            for n in numbers:
                if counts[n] == 0:
                    figures.lost += 1
                    figures.note("producer_lost", f"{customer} request {n}: answered 202, no order")
            for n, count in counts.items():
                if count > 1:
                    figures.duplicates += count - 1
                    figures.note("producer_duplicates", f"{customer} request {n}: {count} orders")
            first_seen = list(dict.fromkeys(created))
            for before, after in itertools.pairwise(first_seen):
                if after < before:
                    figures.reorders += 1
                    figures.note("producer_reorders", f"{customer}: request {after} created after {before}")


def render_producer(figures: ProducerFigures) -> str:
    """The producer line of the run's report (its invariants are listed with the run's, from the verdict)."""
    return (
        f"producers ({figures.producer}): {figures.orders} orders over the HTTP front door, {figures.http_requests} "
        f"HTTP requests ({figures.retried} retries with the same key, {figures.duplicate_requests} sent twice at once)"
    )
