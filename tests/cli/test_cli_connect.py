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
    """A CloudFormation client that knows the given outputs under every stack name and records the names asked;
    also the SSM client of the system's registry (``registry``: parameter name -> value)."""

    def __init__(self, outputs: dict[str, str], registry: dict[str, str] | None = None) -> None:
        self.outputs = outputs
        self.asked: list[str] = []
        self.registry = registry or {}
        self.paths: list[str] = []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 - boto3 keyword
        self.asked.append(StackName)
        return cfn_stack(self.outputs)

    def get_paginator(self, operation: str) -> Any:
        assert operation == "get_parameters_by_path"
        fake = self

        class Pages:
            def paginate(self, Path: str, Recursive: bool) -> list[dict[str, Any]]:  # noqa: N803
                fake.paths.append(Path)
                found = [{"Name": k, "Value": v} for k, v in fake.registry.items() if k.rsplit("/", 1)[0] == Path]
                return [{"Parameters": found}]

        return Pages()


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


def test_the_stacks_come_from_the_registry_so_an_added_service_is_found_without_naming_it() -> None:
    # Given a deployment whose stacks registered themselves, an added service among them, and a stage beside it
    stacks = ("Billing", "Inventory", "MessagingCore", "Monitoring", "Notifications", "Orders", "Quotes")
    registry = {f"/fifo-messaging/default/stacks/{name}": name for name in stacks}
    registry["/fifo-messaging/dev/stacks/dev-Orders"] = "dev-Orders"
    cloudformation = RecordingCloudFormation(outputs_for(), registry)
    # When the CLI looks the system up with no --stacks
    find_endpoints(environ={}, client=lambda _: cloudformation)
    # Then it reads every registered stack of the default stage, the added one included, and no other stage's
    assert cloudformation.paths == ["/fifo-messaging/default/stacks"]
    assert sorted(cloudformation.asked) == sorted(registry[k] for k in registry if "/default/" in k)
    # When --stacks names stacks / Then they are read as given and the registry is not asked
    cloudformation.asked.clear()
    find_endpoints(environ={}, stacks=["Orders"], client=lambda _: cloudformation)
    assert cloudformation.asked == ["Orders"] and cloudformation.paths == ["/fifo-messaging/default/stacks"]


def test_without_a_registry_the_example_stacks_are_read() -> None:
    # Given a system deployed before the registry existed (no parameters)
    cloudformation = RecordingCloudFormation(outputs_for())
    # When the CLI looks it up / Then it reads the example stacks
    find_endpoints(environ={}, client=lambda _: cloudformation)
    assert cloudformation.asked == ["MessagingCore", "Orders", "Billing", "Notifications", "Quotes", "BillingCredit",
                                    "Inventory", "OrderSaga"]
