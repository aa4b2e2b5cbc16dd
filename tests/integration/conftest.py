from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tests.support.aws import AWS_ENV, Messaging, build_messaging


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def messaging(aws: None, monkeypatch: pytest.MonkeyPatch) -> Messaging:
    world = build_messaging(boto3)
    for name, value in world.env().items():
        monkeypatch.setenv(name, value)
    return world
