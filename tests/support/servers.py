"""Local cloud servers for tests that talk to an endpoint: a free port, and a server with the example system in it.

Example:
    >>> 0 < free_port() < 65536
    True
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from localcloud.server import LocalCloudServer


def free_port() -> int:
    """A TCP port on localhost that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def deployed_server(assembly: Path, root: Path) -> Iterator[LocalCloudServer]:
    """A local cloud server on a free port with ``assembly`` deployed (its state under ``root``), stopped after."""
    local = LocalCloudServer(free_port(), root=root)
    local.start()
    try:
        local.deploy(assembly)
        yield local
    finally:
        local.stop()
