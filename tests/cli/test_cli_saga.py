"""``fifo-messaging saga <id>``: the saga's state from its table, and the exit status of its state."""

from __future__ import annotations

import argparse
import io
import json
from typing import Any

import pytest
from cli_fixtures import outputs_for

from cli.app import main
from cli.endpoints import Endpoints
from messaging.saga.state import SagaState

pytestmark = pytest.mark.unit


def _state(status: str, steps: dict[str, str]) -> SagaState:
    state = SagaState.new("s-1", "orders.PlaceOrder", {"customer_id": "c-1"}, list(steps), deadline=1_800_000_000.0,
                          requester={"id": "s-1", "source": "/cli", "replyto": None, "partitionkey": "c-1"})
    state.status, state.steps = status, dict(steps)
    state.history = [{"kind": "start", "message_id": "s-1", "at": 1_799_999_970.0},
                     {"kind": "reply", "message_id": "r-1", "at": 1_799_999_971.0, "step": "credit",
                      "action": "do", "outcome": "failure", "code": "credit_limit_exceeded"}]
    return state


class FakeDynamoDb:
    def __init__(self, items: dict[str, SagaState]) -> None:
        self.items = items
        self.tables: list[str] = []

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        self.tables.append(kwargs["TableName"])
        saga_id = kwargs["Key"]["pk"]["S"].removeprefix("SAGA#")
        state = self.items.get(saga_id)
        return {"Item": state.to_item()} if state is not None else {}


class SagaConnection:
    def __init__(self, args: argparse.Namespace, dynamodb: FakeDynamoDb) -> None:
        self.args = args
        self.endpoints = Endpoints.from_outputs({**outputs_for(), "OrderSagaTableName": "order-sagas-table"})
        self._dynamodb = dynamodb

    def client(self, service: str) -> Any:
        assert service == "dynamodb"
        return self._dynamodb


def run(argv: list[str], dynamodb: FakeDynamoDb) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, connect=lambda args: SagaConnection(args, dynamodb), stdout=out, stderr=err)  # type: ignore[arg-type,return-value]
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("status", "steps", "code"),
    [
        ("rejected", {"credit": "refused", "stock": "pending"}, 0),
        ("completed", {"credit": "done", "stock": "done"}, 0),
        ("running", {"credit": "done", "stock": "running"}, 3),
        ("compensating", {"credit": "compensating", "stock": "refused"}, 3),
        ("failed", {"credit": "failed", "stock": "refused"}, 1),
    ],
)
def test_the_exit_status_says_ended_running_or_failed(status: str, steps: dict[str, str], code: int) -> None:
    # Given a saga in that state in the saga table named by the outputs
    dynamodb = FakeDynamoDb({"s-1": _state(status, steps)})
    # When it is shown as JSON
    exit_code, out, _ = run(["saga", "s-1", "--json"], dynamodb)
    # Then the exit status is the state's, and the JSON has the state, the steps, the history in order, the deadline
    shown = json.loads(out)
    assert exit_code == code and dynamodb.tables == ["order-sagas-table"]
    assert shown["status"] == status
    assert shown["steps"] == [{"name": n, "status": s} for n, s in steps.items()]
    assert [e["kind"] for e in shown["history"]] == ["start", "reply"]
    assert shown["deadline"] == "2027-01-15T08:00:00+00:00"


def test_the_table_view_shows_steps_and_what_was_received() -> None:
    code, out, _ = run(["saga", "s-1"], FakeDynamoDb({"s-1": _state("rejected", {"credit": "refused"})}))
    assert code == 0
    assert "saga s-1 (orders.PlaceOrder): rejected" in out and "credit_limit_exceeded" in out


def test_an_unknown_saga_is_a_one_line_error_and_exit_1() -> None:
    code, out, err = run(["saga", "nope"], FakeDynamoDb({}))
    assert (code, out) == (1, "") and err.startswith("error: no saga nope") and err.count("\n") == 1
