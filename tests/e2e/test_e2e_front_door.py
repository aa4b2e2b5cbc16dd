"""The HTTP front door and the outbox through the local cloud: API Gateway payload 2.0 -> orders-api -> outbox
table -> DynamoDB stream -> relay -> orders queue -> orders -> reply store, read back over HTTP.

Also the local cloud's DynamoDB Streams: a cancelled transaction's phantom records never leave, and records after it
still do; the relay keeps each customer's order."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from cli.trace import trace
from demo.run import System, order_data
from localcloud.apigateway import HttpApiRouter
from messaging.producer import OutboxProducer, WriteConflict
from orders.models import SHARD_KEYS

pytestmark = pytest.mark.e2e

JSON = {"content-type": "application/json"}


def http(system: System, method: str, path: str, body: Any = None, *, key: str | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    url = system.outputs["OrdersApiUrl"] + path.lstrip("/")
    sent = {**JSON, **(headers or {})}
    if key is not None:
        sent["Idempotency-Key"] = key
    raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
    status, answer_headers, answer = HttpApiRouter(system.cloud).invoke(method, url, sent, raw)
    return status, answer_headers, json.loads(answer) if answer else None


def test_orders_posted_twice_per_key_are_created_once_each_in_order_and_answered(system: System) -> None:
    # Given 3 customers with 4 orders each, every order posted twice with its key, half the repeats concurrent
    customers = [f"http-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    posts = [(c, n, f"key-{c}-{n}") for n in range(4) for c in customers]
    answers: dict[str, list[tuple[int, dict[str, str], Any]]] = {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        for index, (customer, n, key) in enumerate(posts):
            body = order_data(customer, sku=f"seq-{n:02d}")
            if index % 2:  # both sends at once
                sends = [pool.submit(http, system, "POST", "/orders", body, key=key) for _ in range(2)]
                answers[key] = [send.result() for send in sends]
            else:
                answers[key] = [http(system, "POST", "/orders", body, key=key) for _ in range(2)]
    # When the system has drained
    system.drain()
    # Then each key got one id, twice the same 202 with its Location
    ids = set()
    for (first, again) in answers.values():
        assert first[0] == again[0] == 202
        assert first[2]["id"] == again[2]["id"]
        assert first[1]["location"] == f"/orders/requests/{first[2]['id']}"
        ids.add(first[2]["id"])
    assert len(ids) == len(posts)
    # And each status reads done with a success reply
    for order_id in ids:
        status, _, document = http(system, "GET", f"/orders/requests/{order_id}")
        assert status == 200
        assert document["status"] == "done", document
        assert document["reply"]["outcome"] == "success"
    # And each customer has its orders once, created in the order they were posted
    for customer in customers:
        orders = sorted(system.orders(customer), key=lambda item: item["created_at"]["S"])
        assert [json.loads(o["lines"]["S"])[0]["sku"] for o in orders] == [f"seq-{n:02d}" for n in range(4)]
    # And none of them is in a dead-letter queue: the orders queue's or the relay's (other tests' poison may be)
    for output in ("OrdersCommandDeadLetterQueueUrl", "OrdersOutboxRelayDlqUrl"):
        bodies = [message["Body"] for message in system.dead_letters(output)]
        assert not [body for body in bodies if any(order_id in body for order_id in ids)], output


@pytest.mark.parametrize(
    ("body", "headers", "key", "status"),
    [
        (b'{"customer_id": ', {}, "k", 400),
        ({"customer_id": "c-1", "lines": [{"sku": "b", "quantity": "many", "unit_price": "1"}]}, {}, "k", 400),
        ({"customer_id": "c-1"}, {}, "k", 400),
        (order_data("c-1"), {}, None, 400),
        (b"x" * (70 * 1024), {}, "k", 413),
        (order_data("c-1"), {"content-type": "text/plain"}, "k", 415),
    ],
)
def test_bad_input_through_the_gateway_is_a_problem_document(
    system: System, body: Any, headers: dict[str, str], key: str | None, status: int
) -> None:
    # Given a bad request; When it goes through the local API Gateway
    answer_status, answer_headers, document = http(system, "POST", "/orders", body, key=key, headers=headers)
    # Then its status and an RFC 9457 problem document come back
    assert answer_status == status
    assert answer_headers["content-type"] == "application/problem+json"
    assert document["status"] == status and {"type", "title", "detail", "instance"} <= set(document)


def test_unknown_requests_and_routes_are_404(system: System) -> None:
    # Given no such request or route; When they are read
    unknown = http(system, "GET", f"/orders/requests/{uuid.uuid4()}")
    route = http(system, "DELETE", "/orders")
    # Then the function answers 404 for the request, API Gateway for the route
    assert (unknown[0], unknown[1]["content-type"]) == (404, "application/problem+json")
    assert route[0] == 404 and route[2] == {"message": "Not Found"}


def test_a_cancelled_transaction_sends_nothing_and_later_commits_still_go(system: System) -> None:
    # Given a producer of the outbox table
    cloud = system.cloud
    customer = f"phantom-{uuid.uuid4().hex[:8]}"
    producer = OutboxProducer(system.outputs["OrdersOutboxTableName"], source="/tests/phantom",
                              client=cloud.client("dynamodb"), shard_keys=SHARD_KEYS)
    request = {"pk": {"S": f"REQUEST#{customer}"}, "sk": {"S": "REQUEST"}}
    queue = system.outputs["OrdersCommandQueueUrl"]
    with producer.transaction() as tx:
        tx.create(system.outputs["OrdersTableName"], request)
        tx.send(queue, "orders.CreateOrder", order_data(customer, sku="first"), id=f"{customer}-1")
    # When a second transaction is cancelled (its request exists), after moto appended its outbox item to the stream
    with pytest.raises(WriteConflict), producer.transaction() as tx:
        tx.send(queue, "orders.CreateOrder", order_data(customer, sku="phantom"), id=f"{customer}-2")
        tx.create(system.outputs["OrdersTableName"], request)
    # And a third commits
    with producer.transaction() as tx:
        tx.send(queue, "orders.CreateOrder", order_data(customer, sku="third"), id=f"{customer}-3")
    system.drain()
    # Then the first and third orders exist, in order, and the phantom never left the outbox
    orders = sorted(system.orders(customer), key=lambda item: item["created_at"]["S"])
    assert [json.loads(o["lines"]["S"])[0]["sku"] for o in orders] == ["first", "third"]


def test_the_journey_of_an_http_order_starts_at_the_request(system: System) -> None:
    # Given an order posted over HTTP and processed
    customer = f"journey-{uuid.uuid4().hex[:8]}"
    status, _, accepted = http(system, "POST", "/orders", order_data(customer), key=f"journey-{customer}")
    assert status == 202
    system.drain()
    # When its journey is traced from the logs (what `fifo-messaging trace` and the console read)
    journey = trace(system.cloud.client("logs"), accepted["id"])
    hops = [(hop.function, hop.what) for hop in journey.hops if hop.message_id == accepted["id"]]
    # Then it starts at the HTTP request, goes through the relay, then the orders service and the reply router
    assert hops[0] == ("orders-api", "HTTP request accepted")
    assert ("orders-outbox-relay", "relayed from the outbox") in hops
    assert [function for function, _ in hops].index("orders") > 1
