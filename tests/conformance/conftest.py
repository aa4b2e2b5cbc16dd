"""The conformance suite's backends: every case runs over HTTP against one endpoint, chosen by
``CONFORMANCE_BACKEND``: ``localcloud`` (default; the local cloud's endpoint server in this process, the clock
advanced instead of waiting) or ``moto`` (moto's own ``ThreadedMotoServer``, unpatched, waiting in real time).

Each test module names its area with ``pytestmark = pytest.mark.area("...")``; with ``CONFORMANCE_REPORT=<file>``
every case's outcome is appended to that file as a JSON line (``python -m benchmarks.conformance`` reads it).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

BACKEND = os.environ.get("CONFORMANCE_BACKEND", "localcloud")
AREAS = ("dedup", "group visibility", "FIFO API", "DLQ", "SNS to SQS", "errors")
_REPORT = os.environ.get("CONFORMANCE_REPORT")
_areas: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "area(name): the conformance area a case counts in")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("area")
        if marker is not None:
            if marker.args[0] not in AREAS:
                raise pytest.UsageError(f"{item.nodeid}: unknown conformance area {marker.args[0]!r}")
            _areas[item.nodeid] = marker.args[0]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _REPORT is None or report.nodeid not in _areas:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        line = {"case": report.nodeid.split("::", 1)[-1], "module": report.nodeid.split("::", 1)[0],
                "area": _areas[report.nodeid], "outcome": report.outcome}
        with Path(_REPORT).open("a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Backend:
    """An endpoint and how time passes there."""

    name: str
    url: str
    advance: Callable[[float], None]
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """A boto3 client of the endpoint, one per service (made once: a session costs half a second)."""
        if service not in self._clients:
            self._clients[service] = boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
            ).client(service, endpoint_url=self.url,
                     config=Config(retries={"max_attempts": 1}, parameter_validation=False))
        return self._clients[service]


@pytest.fixture(scope="package")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """The endpoint under test (see the module docstring)."""
    if BACKEND == "moto":
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - only the moto run starts it

        port = _free_port()
        server = ThreadedMotoServer(ip_address="localhost", port=port, verbose=False)
        server.start()
        try:
            yield Backend("moto", f"http://localhost:{port}", time.sleep)
        finally:
            server.stop()
        return
    from localcloud.clock import CLOCK  # noqa: PLC0415 - the moto run never loads the local cloud's patches
    from localcloud.server import LocalCloudServer  # noqa: PLC0415

    local = LocalCloudServer(_free_port(), root=tmp_path_factory.mktemp("conformance-state"))
    local.start()
    try:
        yield Backend("localcloud", local.url, CLOCK.advance)
    finally:
        local.stop()


@pytest.fixture
def sqs(backend: Backend) -> Any:
    return backend.client("sqs")


@pytest.fixture
def sns(backend: Backend) -> Any:
    return backend.client("sns")


@pytest.fixture
def name() -> str:
    """A name unique to the test (queues and topics of one test never meet another's)."""
    return f"c-{uuid.uuid4().hex[:12]}"
