"""What every fix shares: the lock that serializes moto, the change notification, the 5-minute deduplication table."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from moto.core.responses import BaseResponse

DEDUPLICATION_WINDOW_SECONDS = 300.0
"""SQS and SNS FIFO deduplication interval (5 minutes)."""

MOTO_LOCK = threading.RLock()
"""Held while moto handles a request; the emulator also takes it to read queue state consistently."""

MOTO_CHANGED = threading.Condition(MOTO_LOCK)
"""Notified whenever queue contents or visibility may have changed (send, delete, visibility, clock advance)."""

Patch = tuple[Any, str, Any]

_claims = threading.local()
_counts = {"unclaimed": 0}


class Receiving:
    """Marks a poller's receives: messages they hand out count as *unclaimed* until the poller claims them.

    Between a receive returning messages (now in flight) and the poller counting the batch as running, the local
    cloud must not take the queue for idle and move the clock past their visibility timeout. Counted only for
    receives handled in the calling thread (in-process mode).

    Example::

        with Receiving() as receiving:
            messages = sqs.receive_message(...)["Messages"]
        start_batch(messages)
        receiving.claim()
    """

    def __init__(self) -> None:
        self.handed_out = 0

    def __enter__(self) -> Receiving:
        _claims.current = self
        return self

    def __exit__(self, *_: object) -> None:
        _claims.current = None

    def claim(self) -> None:
        """The messages handed out to this poller are accounted for (or were none)."""
        with MOTO_LOCK:
            _counts["unclaimed"] -= self.handed_out
            self.handed_out = 0


def handed_out() -> None:
    """Called by the receive patch (under the lock) when a receive returned messages."""
    current: Receiving | None = getattr(_claims, "current", None)
    if current is not None:
        current.handed_out += 1
        _counts["unclaimed"] += 1


def unclaimed() -> int:
    """Receives of pollers that returned messages not yet claimed."""
    with MOTO_LOCK:
        return _counts["unclaimed"]
"""(owner, attribute name, replacement)."""


@dataclass
class DedupRecord:
    expires_at: float
    message_id: str
    sequence_number: str | None


def notify_changed() -> None:
    """Wake long polls so they re-check their queue."""
    with MOTO_CHANGED:
        MOTO_CHANGED.notify_all()


def dedup_table(owner: Any) -> dict[str, DedupRecord]:
    table: dict[str, DedupRecord] | None = getattr(owner, "_localcloud_dedup", None)
    if table is None:
        table = {}
        owner._localcloud_dedup = table
    return table


def purge_expired(table: dict[str, DedupRecord], now: float) -> None:
    for key in [k for k, rec in table.items() if rec.expires_at <= now]:
        del table[key]


def with_notify(original: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``original`` under the lock, then wake the long polls."""

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with MOTO_LOCK:
            result = original(*args, **kwargs)
        notify_changed()
        return result

    return wrapper


def _locked_dispatch(original: Any) -> Any:
    """Every moto request runs under :data:`MOTO_LOCK` (moto's models are not thread-safe)."""

    @functools.wraps(original)
    def dispatch(*args: Any, **kwargs: Any) -> Any:
        with MOTO_LOCK:
            return original(*args, **kwargs)

    return dispatch


def patches() -> Iterator[Patch]:
    """The patches of this module."""
    yield BaseResponse, "_dispatch", _locked_dispatch(BaseResponse._dispatch)
