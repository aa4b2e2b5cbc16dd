"""An advanceable clock for the SQS timing rules (visibility timeout, delay, dedup window).

moto reads wall-clock time for every timing rule. The local cloud points those reads at :data:`CLOCK`,
which is wall-clock time plus an offset that tests can move forward, so a 30 s visibility timeout or the
5-minute deduplication window can be crossed without sleeping::

    from localcloud.clock import CLOCK
    CLOCK.advance(301)  # the dedup window of every message sent so far has closed
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Clock:
    """Wall-clock time plus an offset; listeners are told when the offset moves.

    Example::

        clock = Clock()
        before = clock.now()
        clock.advance(5)
        assert clock.now() - before >= 5
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._before: list[Callable[[], None]] = []

    @property
    def offset(self) -> float:
        """Seconds the clock runs ahead of wall-clock time."""
        return self._offset

    def now(self) -> float:
        """Current time in seconds since the epoch."""
        return time.time() + self._offset

    def now_millis(self) -> float:
        """Current time in milliseconds since the epoch."""
        return self.now() * 1000.0

    def advance(self, seconds: float) -> None:
        """Move the clock forward and wake everything waiting on a timing rule."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            before = list(self._before)
        for listener in before:
            listener()
        with self._lock:
            self._offset += seconds
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def reset(self) -> None:
        """Back to wall-clock time (only safe with no messages in flight)."""
        with self._lock:
            self._offset = 0.0

    def on_advance(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every :meth:`advance` (in the thread that advances the clock)."""
        with self._lock:
            if listener not in self._listeners:
                self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        """Stop calling ``listener`` (after or before advances)."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
            if listener in self._before:
                self._before.remove(listener)

    def before_advance(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` before every :meth:`advance` moves the clock (to note what exists at the old time)."""
        with self._lock:
            if listener not in self._before:
                self._before.append(listener)


CLOCK = Clock()
