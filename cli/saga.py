"""``fifo-messaging saga <id>``: a saga's state, its steps, the replies and timeouts it received, its deadline.

The saga's item is read from every saga table of the stacks (outputs ending in ``SagaTableName``), with a
consistent ``GetItem``. Exit status: 0 the saga has ended (``completed`` or ``rejected``), 3 it still runs
(``running``, ``compensating``), 1 it failed (an operator's job: the reason says which compensation and why) or there
is no such saga.

Example::

    fifo-messaging saga 6b0c... --json
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from messaging.saga.state import ENDED, SagaState, saga_key

SAGA_TABLE_SUFFIX = "SagaTableName"
EXIT_ENDED, EXIT_FAILED, EXIT_RUNNING = 0, 1, 3


class SagaNotFound(LookupError):  # noqa: N818 - reads as the CLI's message
    """No saga table holds this id."""


def saga_tables(outputs: Mapping[str, Any]) -> list[str]:
    """The saga tables named by the stack outputs.

    Example:
        >>> saga_tables({"OrderSagaTableName": "t", "OrdersTableName": "o"})
        ['t']
    """
    return [str(value) for name, value in sorted(outputs.items()) if name.endswith(SAGA_TABLE_SUFFIX)]


def find_saga(saga_id: str, tables: list[str], dynamodb: Any) -> SagaState:
    """The saga ``saga_id`` from the first of ``tables`` that has it; :class:`SagaNotFound` otherwise."""
    for table in tables:
        item = dynamodb.get_item(TableName=table, Key=saga_key(saga_id), ConsistentRead=True).get("Item")
        if item is not None:
            return SagaState.from_item(item)
    where = ", ".join(tables) or "no saga table in the stack outputs"
    raise SagaNotFound(f"no saga {saga_id} ({where})")


def exit_status(state: SagaState) -> int:
    """0 ended, 3 running, 1 failed."""
    if state.status in ENDED:
        return EXIT_ENDED
    return EXIT_FAILED if state.status == "failed" else EXIT_RUNNING


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds")


def saga_record(state: SagaState) -> dict[str, Any]:
    """The saga as the ``--json`` output shows it."""
    return {
        "saga_id": state.saga_id,
        "type": state.saga_type,
        "status": state.status,
        "deadline": _iso(state.deadline),
        "steps": [{"name": name, "status": status} for name, status in state.steps.items()],
        "history": [{**entry, "at": _iso(entry["at"])} for entry in state.history],
        "reason": state.reason,
        "result": state.result,
        "version": state.version,
    }


def render(state: SagaState, table: Callable[[list[str], list[list[Any]]], str]) -> str:
    """The saga for people: state, steps, what it received in order."""
    record = saga_record(state)
    lines = [f"saga {state.saga_id} ({state.saga_type}): {state.status}, deadline {record['deadline']}"]
    if state.reason:
        lines.append("reason: " + ", ".join(f"{k}={v}" for k, v in state.reason.items()))
    if state.result:
        lines.append(f"result: {state.result}")
    lines.append(table(["step", "status"], [[s["name"], s["status"]] for s in record["steps"]]).rstrip("\n"))
    rows = [
        [e["at"], e["kind"], e.get("step", ""), e.get("action", ""),
         e.get("outcome", "") + (f" ({e['code']})" if e.get("code") else ""),
         "ignored" if e.get("ignored") else ("late" if e.get("late") else "")]
        for e in record["history"]
    ]
    lines.append(table(["at", "received", "step", "action", "outcome", ""], rows).rstrip("\n"))
    return "\n".join(lines)
