"""How a saga is declared: its steps (a command to a participant and the reply that ends it, and the command that
undoes it), its deadline and the result it answers with.

Example:
    >>> from datetime import timedelta
    >>> reserve = Step("credit", "billing.ReserveCredit", queue="BILLING_COMMAND_QUEUE_URL",
    ...                compensation="billing.ReleaseCredit")
    >>> saga = SagaDefinition("orders.PlaceOrder", steps=(reserve,), deadline=timedelta(seconds=30))
    >>> saga.step("credit").compensation
    'billing.ReleaseCredit'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

SagaData = Mapping[str, Any]


def _same_data(data: SagaData) -> dict[str, Any]:
    return dict(data)


@dataclass(frozen=True, slots=True)
class Step:
    """One step: send ``command`` to the queue whose URL is in the environment variable ``queue``; a success reply
    ends the step, a failure reply (its ``code``) refuses it. ``compensation`` is the command that undoes a done step
    (None: nothing to undo). ``data`` / ``compensation_data`` build the commands' data from the saga's data (default:
    all of it)."""

    name: str
    command: str
    queue: str
    compensation: str | None = None
    data: Callable[[SagaData], dict[str, Any]] = _same_data
    compensation_data: Callable[[SagaData], dict[str, Any]] = _same_data


def _approved(data: SagaData) -> dict[str, Any]:
    return {"status": "approved"}


def _rejected(data: SagaData, step: str, code: str) -> dict[str, Any]:
    return {"status": "rejected", "step": step, "code": code}


@dataclass(frozen=True, slots=True)
class SagaDefinition:
    """A saga started by the command ``starts_with`` (the saga's id is that command's id; the saga's data is the
    command's data plus ``saga_id``); the steps run in order,
    each after the previous one's success reply. ``deadline``: from the start, after which an unanswered step is
    abandoned and the done steps compensated (code ``timeout``). ``approved(data)`` / ``rejected(data, step, code)``
    are the ``result`` of the success reply the starting command finally gets."""

    starts_with: str
    steps: tuple[Step, ...]
    deadline: timedelta
    approved: Callable[[SagaData], dict[str, Any]] = _approved
    rejected: Callable[[SagaData, str, str], dict[str, Any]] = _rejected
    timeout_type: str = field(default="saga.Timeout")
    model: Any = None
    """The pydantic model of the starting command's ``data`` (validated by the consumer), or None."""

    def __post_init__(self) -> None:
        names = [step.name for step in self.steps]
        if not names or len(set(names)) != len(names):
            raise ValueError("a saga needs at least one step and unique step names")
        if any(":" in name for name in names):
            raise ValueError("step names cannot contain ':' (it separates the parts of derived message ids)")
        if self.deadline.total_seconds() <= 0:
            raise ValueError("the deadline must be positive")

    def step(self, name: str) -> Step:
        """The step called ``name`` (:class:`KeyError` if there is none)."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def index(self, name: str) -> int:
        return [step.name for step in self.steps].index(name)
