"""The example system deployed once per module into an in-process local cloud, pollers running."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.run import System
from localcloud import LocalCloud


@pytest.fixture(scope="package")
def system(example_assembly: Path) -> Iterator[System]:
    with LocalCloud() as cloud:
        cloud.deploy(example_assembly)
        cloud.start_pollers()
        yield System(cloud)


@pytest.fixture
def customer() -> str:
    """A customer id (shard key) unique to the test, so tests never see each other's state."""
    return f"cust-{uuid.uuid4().hex[:10]}"
