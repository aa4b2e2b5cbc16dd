"""A periodic background worker with a clean stop: the loop of the local cloud's own services (CloudWatch's
publisher, the scheduler) that act every few seconds, and sooner when woken (on a clock advance).

``work`` runs on one daemon thread, ``wait()`` seconds after the previous run ended (asked anew each time, so it may
follow the clock) or as soon as :meth:`PeriodicWorker.wake` is called; an exception it raises is logged and the loop
goes on. :meth:`PeriodicWorker.stop` wakes the thread and joins it: ``work`` never starts after ``stop`` returned
(unless the join timed out on a run that was still going).

Example:
    >>> import logging
    >>> runs = []
    >>> worker = PeriodicWorker("example", lambda: runs.append(1), lambda: 60.0, log=logging.getLogger("example"))
    >>> worker.start(), worker.start()   # the second start finds the thread running
    (True, False)
    >>> worker.wake()
    >>> worker.stop()
    >>> worker.running
    False
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


class PeriodicWorker:
    """Runs ``work`` every ``wait()`` seconds on a thread called ``name`` (see the module docstring); ``failure`` is
    what the log says when a run raises."""

    def __init__(
        self,
        name: str,
        work: Callable[[], object],
        wait: Callable[[], float],
        *,
        log: logging.Logger,
        failure: str = "a periodic run failed",
    ) -> None:
        self.name = name
        self._work = work
        self._wait = wait
        self._log = log
        self._failure = failure
        self._wake = threading.Condition()
        self._stop = False
        self._woken = False
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Start the thread; False (and nothing done) when it runs already."""
        with self._wake:
            if self.running:
                return False
            self._stop = self._woken = False
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
            return True

    def wake(self) -> None:
        """Run ``work`` now rather than when the wait is over (a no-op when stopped)."""
        with self._wake:
            self._woken = True
            self._wake.notify_all()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait up to ``timeout`` seconds for a run in progress to end."""
        with self._wake:
            self._stop = True
            self._wake.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stop:
                    return
                if not self._woken:
                    self._wake.wait(self._wait())
                self._woken = False
                if self._stop:
                    return
            try:
                self._work()
            except Exception:
                self._log.exception(self._failure)
