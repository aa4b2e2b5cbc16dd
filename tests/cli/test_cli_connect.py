"""``cli.connect``: a program finds the system as the CLI does (the README's client snippet relies on it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from cli_fixtures import cfn_stack, outputs_for

import cli.endpoints
from cli.connect import aws_client, find_endpoints

pytestmark = pytest.mark.unit


class RecordingCloudFormation:
    """A CloudFormation client that knows the given outputs under every stack name and records the names asked."""

    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs
        self.asked: list[str] = []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 - boto3 keyword
        self.asked.append(StackName)
        return cfn_stack(self.outputs)


def test_aws_endpoint_url_finds_the_outputs_file_of_the_checkouts_server_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a server of the checkout on port 4570 that wrote its outputs, and a program in another directory
    checkout_state = tmp_path / "checkout" / ".localcloud"
    (checkout_state / "4570").mkdir(parents=True)
    (checkout_state / "4570" / "outputs.json").write_text(
        json.dumps({"MessagingCore": {**outputs_for(), "ReplyTableName": "from-the-file"}}))
    monkeypatch.setattr(cli.endpoints, "CHECKOUT_STATE_DIR", checkout_state)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cloudformation = RecordingCloudFormation(outputs_for())
    # When it looks the system up with only AWS_ENDPOINT_URL set
    endpoints = find_endpoints(environ={"AWS_ENDPOINT_URL": "http://localhost:4570"}, client=lambda _: cloudformation)
    # Then the outputs come from that server's file, without asking CloudFormation
    assert endpoints.reply_table_name == "from-the-file"
    assert cloudformation.asked == []


def test_an_outputs_file_comes_first_then_the_stacks_of_the_stage(tmp_path: Path) -> None:
    # Given an outputs file and a CloudFormation that knows the stacks
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**outputs_for(), "ReplyTableName": "from-outputs"}))
    cloudformation = RecordingCloudFormation({**outputs_for(), "ReplyTableName": "from-stacks"})
    # When MESSAGING_OUTPUTS names the file / Then the file wins over the endpoint
    environ = {"MESSAGING_OUTPUTS": str(path), "AWS_ENDPOINT_URL": "http://localhost:4571"}
    assert find_endpoints(environ=environ, client=lambda _: cloudformation).reply_table_name == "from-outputs"
    # When nothing names a file or an endpoint / Then the stage's stacks are read with DescribeStacks
    found = find_endpoints(environ={"MESSAGING_STAGE": "dev"}, client=lambda _: cloudformation)
    assert found.reply_table_name == "from-stacks"
    assert cloudformation.asked[:2] == ["dev-MessagingCore", "dev-Orders"]


def test_a_client_for_a_local_endpoint_gets_a_region_and_dummy_credentials(monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path) -> None:
    # Given no AWS configuration at all
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    # When a client is made for a local endpoint
    client = aws_client("sqs", endpoint_url="http://localhost:4572", session=boto3.session.Session())
    # Then it talks to that endpoint, in us-east-1, with credentials
    assert client.meta.endpoint_url == "http://localhost:4572"
    assert client.meta.region_name == "us-east-1"
    assert client._request_signer._credentials.access_key == "testing"
