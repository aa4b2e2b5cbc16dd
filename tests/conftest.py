"""Session-wide fixtures: the example system's cloud assembly, synthesized once for every test that deploys it; a
project copy with a generated service, prepared in the background once a test needing it is collected."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def example_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example system (app.py's stacks) synthesized once, asset bundling skipped (the local cloud loads handlers
    from the functions/ source, as it does for ``make demo``)."""
    from localcloud import synthesize  # noqa: PLC0415 - only the tests that deploy pay for it

    return synthesize(tmp_path_factory.mktemp("example-cdk-out"), app_dir=Path(__file__).resolve().parents[1])


_generated_root: Path | None = None


def pytest_collection_finish(session: pytest.Session) -> None:
    """When a collected test asks for a generated service (``generated``), start generating and synthesizing it in
    the background, so the tests before it run during the synthesis."""
    global _generated_root  # noqa: PLW0603 - one copy per session
    if any("generated" in getattr(item, "fixturenames", ()) for item in session.items):
        from tests.support import generated_project  # noqa: PLC0415

        _generated_root = Path(tempfile.mkdtemp(prefix="make-service-"))
        generated_project.start(_generated_root)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _generated_root is not None:
        shutil.rmtree(_generated_root, ignore_errors=True)
