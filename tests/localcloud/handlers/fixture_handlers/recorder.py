"""Shared record of what the fixture functions saw (one module instance shared by every function)."""

from __future__ import annotations

import threading
from typing import Any

LOCK = threading.Lock()
CALLS: list[dict[str, Any]] = []
ACTIVE: dict[str, int] = {}
PEAK: dict[str, int] = {}


def enter(worker: str) -> None:
    with LOCK:
        ACTIVE[worker] = ACTIVE.get(worker, 0) + 1
        PEAK[worker] = max(PEAK.get(worker, 0), ACTIVE[worker])


def leave(worker: str) -> None:
    with LOCK:
        ACTIVE[worker] -= 1


def record(call: dict[str, Any]) -> None:
    with LOCK:
        CALLS.append(call)


def calls_with(tag: str) -> list[dict[str, Any]]:
    """Calls whose batch held a message tagged ``tag``."""
    with LOCK:
        return [c for c in CALLS if any(b.get("tag") == tag for b in c["bodies"])]
