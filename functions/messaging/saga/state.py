"""A saga instance's state: what the orchestrator stores (one item per saga, versioned) and what an operator reads.

Statuses of the saga: ``running`` (a step is awaited), ``compensating`` (done steps are being undone),
``completed`` (every step done, answered ``approved``), ``rejected`` (a step refused or the deadline passed, every
done step compensated, answered ``rejected``), ``failed`` (a compensation failed for good: an operator's job; the
``reason`` says which and why). Statuses of a step: ``pending``, ``running``, ``done``, ``refused``, ``abandoned``
(its answer did not come before the deadline), ``compensating``, ``compensated``, ``failed``.

Example:
    >>> state = SagaState.new("s-1", "orders.PlaceOrder", {"sku": "x"}, ["credit"], deadline=100.0,
    ...                       requester={"id": "s-1", "source": "/web", "replyto": None, "partitionkey": "c-1"})
    >>> SagaState.from_item(state.to_item()) == state
    True
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

ENDED = frozenset({"completed", "rejected"})
RUNNING = frozenset({"running", "compensating"})


def saga_key(saga_id: str) -> dict[str, dict[str, str]]:
    """The DynamoDB key of a saga's item."""
    return {"pk": {"S": f"SAGA#{saga_id}"}, "sk": {"S": "STATE"}}


@dataclass
class SagaState:
    saga_id: str
    saga_type: str
    status: str
    data: dict[str, Any]
    steps: dict[str, str]
    """Step name -> status, in the declared order."""
    deadline: float
    requester: dict[str, Any]
    """The starting command: ``id``, ``source``, ``replyto``, ``partitionkey`` (the final reply goes there)."""
    version: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    """Every message the saga received, in order: ``kind`` (start, reply, timeout), ``step``, ``action`` (do, undo),
    ``outcome`` / ``code``, ``message_id``, ``at`` and ``ignored`` (a late or duplicate answer, recorded only)."""
    reason: dict[str, Any] | None = None
    result: dict[str, Any] | None = None

    @classmethod
    def new(cls, saga_id: str, saga_type: str, data: dict[str, Any], steps: list[str], *, deadline: float,
            requester: dict[str, Any]) -> SagaState:
        return cls(saga_id, saga_type, "running", dict(data), dict.fromkeys(steps, "pending"), deadline,
                   dict(requester))

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB item (low-level form): key, ``version``, ``status``, ``deadline`` and the rest as JSON."""
        body = asdict(self)
        for name in ("saga_id", "status", "version", "deadline"):
            body.pop(name)
        return {
            **saga_key(self.saga_id),
            "saga_id": {"S": self.saga_id},
            "status": {"S": self.status},
            "version": {"N": str(self.version)},
            "deadline": {"N": repr(self.deadline)},
            "body": {"S": json.dumps(body, separators=(",", ":"), sort_keys=True)},
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> SagaState:
        body = json.loads(item["body"]["S"])
        return cls(saga_id=item["saga_id"]["S"], status=item["status"]["S"], version=int(item["version"]["N"]),
                   deadline=float(item["deadline"]["N"]), **body)
