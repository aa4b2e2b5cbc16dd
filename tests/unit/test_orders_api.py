"""The orders HTTP API's adapter on in-memory adapters: every status code, the idempotency key, problem documents."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from messaging.codec import CloudEventJsonCodec
from messaging.envelope import ReplyOutcome, reply_to
from messaging.producer import InMemoryOutboxStore, OutboxProducer
from messaging.reply_store import InMemoryReplyStore
from orders.models import SHARD_KEYS
from orders_api import handler
from orders_api.http import MAX_BODY_BYTES
from orders_api.service import SOURCE, InMemoryRequestRecords, OrderRequests, Settings

pytestmark = pytest.mark.unit

ORDER = {"customer_id": "c-1", "lines": [{"sku": "book", "quantity": 1, "unit_price": "12.50"}]}
SETTINGS = Settings("orders-state", "replies", "https://sqs/orders-commands.fifo", "https://sqs/replies.fifo")


class World:
    def __init__(self) -> None:
        self.store = InMemoryOutboxStore()
        self.replies = InMemoryReplyStore()
        producer = OutboxProducer("outbox", source=SOURCE, store=self.store, shard_keys=SHARD_KEYS)
        self.service = OrderRequests(producer, InMemoryRequestRecords(self.store), self.replies, settings=SETTINGS)

    def commands(self) -> list[dict[str, Any]]:
        return [json.loads(item.message) for item in self.store.log]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    world = World()
    monkeypatch.setattr(handler, "order_requests", lambda: world.service)
    yield world


def call(method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
         raw: str | None = None, base64_body: bool = False) -> dict[str, Any]:
    route = "POST /orders" if method == "POST" and path == "/orders" else (
        "GET /orders/requests/{id}" if path.startswith("/orders/requests/") else "$default")
    text = raw if raw is not None else (json.dumps(body) if body is not None else None)
    event = {
        "version": "2.0", "routeKey": route, "rawPath": path, "rawQueryString": "",
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": {"http": {"method": method, "path": path}, "requestId": "req-1",
                           "authorizer": {"iam": {"userArn": "arn:aws:iam::123456789012:user/partner"}}},
        "pathParameters": {"id": path.rsplit("/", 1)[-1]} if route.startswith("GET") else None,
        "body": base64.b64encode(text.encode()).decode() if base64_body and text is not None else text,
        "isBase64Encoded": base64_body,
    }
    result = handler.lambda_handler(event, None)
    result["json"] = json.loads(result["body"])
    return result


def test_a_post_is_accepted_once_per_key(world: World) -> None:
    # Given an order sent with an idempotency key
    first = call("POST", "/orders", ORDER, headers={"idempotency-key": "k-1"})
    # When it is sent again with the same key and body (a retry), and once more base64-encoded
    again = call("POST", "/orders", ORDER, headers={"idempotency-key": "k-1"})
    encoded = call("POST", "/orders", ORDER, headers={"idempotency-key": "k-1"}, base64_body=True)
    # Then every answer is the same 202 with the same id and Location, and one command was committed
    assert first["statusCode"] == again["statusCode"] == encoded["statusCode"] == 202
    assert first["json"] == again["json"] == encoded["json"]
    assert first["headers"]["location"] == f"/orders/requests/{first['json']['id']}"
    commands = world.commands()
    assert [c["id"] for c in commands] == [first["json"]["id"]]
    assert commands[0]["partitionkey"] == "c-1"
    assert commands[0]["replyto"] == SETTINGS.reply_queue_url


def test_the_same_key_with_another_body_is_422_and_other_keys_are_new_orders(world: World) -> None:
    # Given an accepted order
    call("POST", "/orders", ORDER, headers={"idempotency-key": "k-1"})
    # When the key comes back with another body, and another key with the same body
    reused = call("POST", "/orders", {**ORDER, "currency": "USD"}, headers={"idempotency-key": "k-1"})
    other = call("POST", "/orders", ORDER, headers={"idempotency-key": "k-2"})
    # Then the first is refused as a problem, the second is a second order
    assert reused["statusCode"] == 422
    assert reused["headers"]["content-type"] == "application/problem+json"
    assert reused["json"]["field"] == "Idempotency-Key"
    assert other["statusCode"] == 202
    assert len(world.commands()) == 2


def test_the_status_is_pending_then_done_with_the_reply(world: World) -> None:
    # Given an accepted order
    accepted = call("POST", "/orders", ORDER, headers={"idempotency-key": "k-1"})["json"]
    pending = call("GET", f"/orders/requests/{accepted['id']}")
    # When its reply is stored
    command = world.commands()[0]
    request = CloudEventJsonCodec().decode(json.dumps(command))
    world.replies.put(reply_to(request, ReplyOutcome.success({"order_id": "o-1"}), source="/orders"), 60)
    done = call("GET", f"/orders/requests/{accepted['id']}")
    # Then the status went from pending to done with the reply's outcome
    assert (pending["statusCode"], pending["json"]["status"]) == (200, "pending")
    assert done["json"] == {"id": accepted["id"], "status": "done",
                            "reply": {"outcome": "success", "result": {"order_id": "o-1"}}}


@pytest.mark.parametrize(
    ("kwargs", "status", "field"),
    [
        ({"raw": '{"customer_id": "c-1", '}, 400, None),  # malformed JSON
        ({"raw": "[1, 2]"}, 400, None),  # not an object
        ({"body": {**ORDER, "lines": [{"sku": "b", "quantity": "lots", "unit_price": "1"}]}}, 400, "lines.0.quantity"),
        ({"body": {"customer_id": "c-1"}}, 400, "lines"),  # missing field
        ({"body": {**ORDER, "customer_id": "not a key!"}}, 400, "customer_id"),
        ({"body": ORDER, "headers": {"idempotency-key": ""}}, 400, "Idempotency-Key"),
        ({"body": ORDER, "headers": {"idempotency-key": "has space"}}, 400, "Idempotency-Key"),
        ({"raw": json.dumps({**ORDER, "note": "x" * MAX_BODY_BYTES})}, 413, None),
        ({"body": ORDER, "headers": {"content-type": "text/plain"}}, 415, None),
        ({"body": ORDER, "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415, None),
        ({"raw": "\udcff"}, 400, None),  # not UTF-8
    ],
)
def test_bad_input_is_a_problem_document_and_commits_nothing(
    world: World, kwargs: dict[str, Any], status: int, field: str | None
) -> None:
    # Given a bad request
    headers = {"idempotency-key": "k-1", **kwargs.pop("headers", {})}
    # When it is posted
    answer = call("POST", "/orders", headers=headers, **kwargs)
    # Then it is refused with its status as an RFC 9457 problem, naming the field, and nothing is committed
    assert answer["statusCode"] == status
    assert answer["headers"]["content-type"] == "application/problem+json"
    problem = answer["json"]
    assert {"type", "title", "status", "detail", "instance"} <= set(problem)
    assert problem["status"] == status
    assert problem.get("field") == field
    assert "Traceback" not in answer["body"] and "pydantic" not in answer["body"]
    assert world.commands() == []


def test_a_missing_idempotency_key_is_400(world: World) -> None:
    # Given an order without the header; When it is posted
    answer = call("POST", "/orders", ORDER)
    # Then it is 400 naming the header
    assert (answer["statusCode"], answer["json"]["field"]) == (400, "Idempotency-Key")


@pytest.mark.parametrize("path", ["/orders/requests/00000000-0000-0000-0000-000000000000", "/orders/requests/x'"])
def test_an_unknown_request_is_404(world: World, path: str) -> None:
    # Given no such request; When its status is read
    answer = call("GET", path)
    # Then 404 as a problem document
    assert answer["statusCode"] == 404
    assert answer["headers"]["content-type"] == "application/problem+json"
