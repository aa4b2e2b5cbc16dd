"""One local cloud server per package, in this process, on a free port: the example system deployed into it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from localcloud.server import LocalCloudServer
from tests.support.servers import deployed_server


@pytest.fixture(scope="package")
def server(example_assembly: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudServer]:
    """The example system deployed into a local cloud server (its state directory in a temporary directory)."""
    with deployed_server(example_assembly, tmp_path_factory.mktemp("localcloud-state")) as local:
        yield local


@pytest.fixture(scope="package")
def aws(server: LocalCloudServer) -> Any:
    """boto3 clients against the server's endpoint, as any SDK user would make them."""
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name="us-east-1")
    return lambda service: session.client(service, endpoint_url=server.url)
