"""Session-wide fixtures: the example system's cloud assembly, synthesized once for every test that deploys it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def example_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example system (app.py's stacks) synthesized once, asset bundling skipped (the local cloud loads handlers
    from the functions/ source, as it does for ``make demo``)."""
    from localcloud import synthesize  # noqa: PLC0415 - only the tests that deploy pay for it

    return synthesize(tmp_path_factory.mktemp("example-cdk-out"), app_dir=Path(__file__).resolve().parents[1])
