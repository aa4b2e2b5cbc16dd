"""The local cloud's periodic background worker (CloudWatch's publisher and the scheduler run on it): runs on its
period and when woken, survives a failing run, stops cleanly."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from localcloud.periodic import PeriodicWorker

pytestmark = pytest.mark.unit
log = logging.getLogger("tests.periodic")


def wait_for(condition: threading.Event, seconds: float = 5.0) -> bool:
    return condition.wait(seconds)


def test_a_worker_runs_on_its_period_asking_for_the_wait_each_time() -> None:
    # Given a worker whose wait is short, counting its runs and the waits it asked for
    runs, waits, three = [], [], threading.Event()

    def work() -> None:
        runs.append(time.monotonic())
        if len(runs) == 3:
            three.set()

    def wait() -> float:
        waits.append(1)
        return 0.01

    worker = PeriodicWorker("test-period", work, wait, log=log)
    # When it runs for a while
    assert worker.start()
    try:
        # Then it runs again and again, each run after a wait it asked for anew
        assert wait_for(three)
    finally:
        worker.stop()
    assert len(waits) >= 3


def test_a_wake_runs_the_work_without_waiting_out_the_period() -> None:
    # Given a worker whose period is an hour
    ran = threading.Event()
    worker = PeriodicWorker("test-wake", ran.set, lambda: 3600.0, log=log)
    worker.start()
    try:
        # When it is woken, Then it runs now
        worker.wake()
        assert wait_for(ran, 2.0)
    finally:
        worker.stop()


def test_a_failing_run_is_logged_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    # Given work that fails the first time
    calls, second = [], threading.Event()

    def work() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        second.set()

    worker = PeriodicWorker("test-failure", work, lambda: 0.01, log=log, failure="the test run failed")
    # When it runs
    with caplog.at_level(logging.ERROR, logger="tests.periodic"):
        worker.start()
        try:
            # Then the failure is logged with its message and the next run still comes
            assert wait_for(second)
        finally:
            worker.stop()
    assert any(r.getMessage() == "the test run failed" and r.exc_info for r in caplog.records)


def test_stop_joins_the_thread_and_no_run_starts_after_it() -> None:
    # Given a running worker
    runs: list[int] = []
    worker = PeriodicWorker("test-stop", lambda: runs.append(1), lambda: 0.005, log=log)
    assert worker.start() and not worker.start()
    assert worker.running
    time.sleep(0.05)
    # When it is stopped
    worker.stop()
    done = len(runs)
    time.sleep(0.05)
    # Then its thread is gone and nothing runs any more; a wake after the stop does nothing
    worker.wake()
    time.sleep(0.02)
    assert not worker.running
    assert len(runs) == done
    assert not any(t.name == "test-stop" for t in threading.enumerate())


def test_a_stopped_worker_starts_again() -> None:
    # Given a worker started and stopped
    ran = threading.Event()
    worker = PeriodicWorker("test-restart", ran.set, lambda: 3600.0, log=log)
    worker.start()
    worker.stop()
    # When it is started again and woken, Then it runs
    assert worker.start()
    try:
        worker.wake()
        assert wait_for(ran, 2.0)
    finally:
        worker.stop()
