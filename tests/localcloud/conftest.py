"""Fixtures of the local-cloud conformance suite: the fixture app synthesized once, one local cloud per package."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from localcloud import LocalCloud
from localcloud.cloud import SYNTH_CONTEXT

sys.path.insert(0, str(Path(__file__).parent))

import fixture_app


@pytest.fixture(scope="package")
def fixture_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture app's cloud assembly (synthesized once per test session)."""
    out = tmp_path_factory.mktemp("fixture-cdk-out")
    app = cdk.App(outdir=str(out), context=dict(SYNTH_CONTEXT), analytics_reporting=False)
    fixture_app.build(app)
    app.synth()
    return out


@pytest.fixture(scope="package")
def cloud(fixture_assembly: Path) -> Iterator[LocalCloud]:
    """The fixture app deployed in-process with its event source mappings polling."""
    with LocalCloud() as local:
        local.deploy(fixture_assembly)
        local.start_pollers()
        yield local


@pytest.fixture
def sqs(cloud: LocalCloud) -> Any:
    return cloud.client("sqs")


@pytest.fixture
def sns(cloud: LocalCloud) -> Any:
    return cloud.client("sns")


@pytest.fixture
def tag() -> str:
    """A tag unique to the test: message bodies and group ids carry it, so tests never see each other's messages."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def recorder(cloud: LocalCloud) -> Any:
    """The fixture handlers' shared record (importable once the asset dir is on sys.path)."""
    from fixture_handlers import recorder as module  # noqa: PLC0415 - only importable after deploy

    return module
