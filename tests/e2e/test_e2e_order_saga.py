"""The order saga end to end on the local cloud: approved, rejected by credit, rejected by stock, and rejected by the
deadline while inventory's trigger is stopped (whose late reservation is released once it runs again)."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import uuid
from typing import Any

import pytest

from cli.app import Connection, main
from cli.endpoints import Endpoints
from demo.run import System
from messaging.client import Reply
from messaging.saga import DynamoDbSagaRepository, SagaState

pytestmark = pytest.mark.e2e


def _ok(reply: Reply | None) -> dict[str, Any]:
    assert reply is not None, "no reply"
    assert reply.outcome.ok, f"{reply.outcome.error_code}: {reply.outcome.error_message}"
    return dict(reply.outcome.result or {})


def _order(customer: str, sku: str, quantity: int = 1, price: str = "10.00") -> dict[str, Any]:
    return {"customer_id": customer, "lines": [{"sku": sku, "quantity": quantity, "unit_price": price}]}


def _setup(system: System, customer: str, limit: str, sku: str, stock: int) -> None:
    client, outputs = system.client, system.outputs
    credit = client.send(outputs["BillingCommandQueueUrl"], "billing.SetCreditLimit",
                         {"customer_id": customer, "limit": limit})
    restock = client.send(outputs["InventoryCommandQueueUrl"], "inventory.Restock", {"sku": sku, "quantity": stock},
                          partitionkey=sku)
    system.drain()
    _ok(client.get_reply(credit))
    _ok(client.get_reply(restock))


def _place(system: System, data: dict[str, Any]) -> str:
    return system.client.send(system.outputs["OrderSagasQueueUrl"], "orders.PlaceOrder", data)


def _saga(system: System, saga_id: str) -> SagaState:
    state = DynamoDbSagaRepository(system.outputs["OrderSagaTableName"], client=system.dynamodb).get(saga_id)
    assert state is not None
    return state


def _cli_saga(system: System, saga_id: str) -> tuple[int, dict[str, Any]]:
    """``fifo-messaging saga <id> --json`` against the in-process cloud."""
    out = io.StringIO()

    def connect(args: argparse.Namespace) -> Connection:
        return Connection(args, endpoints=Endpoints.from_outputs(system.outputs), client_factory=system.cloud.client)

    code = main(["saga", saga_id, "--json"], connect=connect, stdout=out, stderr=io.StringIO())
    return code, json.loads(out.getvalue())


def test_placed_orders_are_approved_or_rejected_at_the_step_that_refused(system: System) -> None:
    # Given a customer with 25.00 of credit and 2 pens in stock
    customer, sku = f"cust-{uuid.uuid4().hex[:8]}", f"pen-{uuid.uuid4().hex[:6]}"
    _setup(system, customer, "25.00", sku, 2)
    # When three orders are placed: one that fits, one over the credit, one for an unknown SKU
    approved = _place(system, _order(customer, sku, 1, "10.00"))
    system.drain()
    over_credit = _place(system, _order(customer, sku, 1, "20.00"))
    no_stock = _place(system, _order(customer, "no-such-sku", 1, "1.00"))
    system.drain()
    # Then each got the answer of the issue, and the rejected-by-stock saga released its credit once
    assert _ok(system.client.get_reply(approved)) == {"status": "approved", "order_id": approved}
    assert _ok(system.client.get_reply(over_credit)) == {
        "status": "rejected", "step": "credit", "code": "credit_limit_exceeded"}
    assert _ok(system.client.get_reply(no_stock)) == {"status": "rejected", "step": "stock", "code": "out_of_stock"}
    stock_saga = _saga(system, no_stock)
    assert stock_saga.steps == {"credit": "compensated", "stock": "refused"}
    assert [e.get("action") for e in stock_saga.history if e["kind"] == "reply"] == ["do", "do", "undo"]
    assert _saga(system, approved).status == "completed"
    assert system.dead_letters("OrderSagasDeadLetterQueueUrl") == []


def test_a_participant_that_never_answers_is_timed_out_and_its_late_reservation_released(system: System) -> None:
    # Given stock and credit, and inventory's trigger stopped
    customer, sku = f"cust-{uuid.uuid4().hex[:8]}", f"pen-{uuid.uuid4().hex[:6]}"
    _setup(system, customer, "100.00", sku, 5)
    cloud = system.cloud
    inventory = next(m for m in cloud.deployment.mappings if m.function_name.endswith("inventory"))
    cloud.update_mapping(dataclasses.replace(inventory, enabled=False))
    try:
        # When an order is placed and its deadline passes (the local clock jumps to the timeout's schedule)
        saga_id = _place(system, _order(customer, sku, 2, "5.00"))
        assert cloud.drain(timeout=3) is False  # the saga started; its timeout is pending
        running_code, running = _cli_saga(system, saga_id)
        system.drain()
        timed_out = _ok(system.client.get_reply(saga_id))
        state = _saga(system, saga_id)
    finally:
        cloud.update_mapping(dataclasses.replace(inventory, enabled=True))
    # And inventory runs again: it reserves late, the saga releases that reservation
    system.drain()
    # Then the answer was a timeout at the stock step with the credit compensated; the late reservation was undone
    # and the outcome did not change
    assert running_code == 3 and running["status"] == "running"
    assert running["steps"] == [{"name": "credit", "status": "done"}, {"name": "stock", "status": "running"}]
    assert timed_out == {"status": "rejected", "step": "stock", "code": "timeout"}
    assert state.steps == {"credit": "compensated", "stock": "abandoned"}
    after = _saga(system, saga_id)
    assert after.status == "rejected" and after.steps == {"credit": "compensated", "stock": "compensated"}
    assert len(system.client.get_replies(saga_id)) == 1
    ended_code, ended = _cli_saga(system, saga_id)
    assert ended_code == 0 and [e["kind"] for e in ended["history"]][:3] == ["start", "reply", "timeout"]
    stock = system.client.request(system.outputs["InventoryCommandQueueUrl"], "inventory.Restock",
                                  {"sku": sku, "quantity": 1}, partitionkey=sku)
    assert dict(stock.outcome.result or {})["available"] == 6  # 5 + 1: the 2 reserved late were released
