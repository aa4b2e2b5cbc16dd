"""``make service`` end to end: a service generated into a copy of the project (the app, ``infra/``, ``functions/``)
is synthesized with the app once, deployed into an in-process local cloud, and answers a command sent to it; its
generated tests pass there too. What ``make service NAME=... && make test`` relies on, in one module."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.run import System
from localcloud import LocalCloud
from messaging.client import MessagingClient
from messaging.reply_store import DynamoDbReplyStore
from tests.support.generated_project import GeneratedProject as Generated
from tests.support.generated_project import generated_project

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    # Given a copy of the project (the app, infra/, functions/) with a service it did not have generated into it, and
    # the app synthesized there once (begun in the background when this module was collected)
    return generated_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="module")
def cloud(generated: Generated) -> Iterator[LocalCloud]:
    # When it is deployed into an in-process local cloud, triggers running
    with LocalCloud() as local:
        local.deploy(generated.assembly)
        local.start_pollers()
        yield local


def test_the_generated_service_answers_a_command_through_the_local_cloud(
    generated: Generated, cloud: LocalCloud
) -> None:
    # Given the generated service deployed with the rest of the system, and a requester
    names = generated.names
    outputs = cloud.outputs
    dynamodb = cloud.client("dynamodb")
    client = MessagingClient(
        outputs["ReplyQueueUrl"],
        DynamoDbReplyStore(outputs["ReplyTableName"], client=dynamodb),
        source="/tests/make-service",
        sqs_client=cloud.client("sqs"),
    )
    owner = f"owner-{uuid.uuid4().hex[:8]}"
    # When its command is sent to its queue and the reply awaited
    reply = client.request(
        outputs[f"{names.title}CommandQueueUrl"],
        f"{names.name}.Create{names.title}Item",
        {"owner_id": owner, "name": "widget", "quantity": 7},
        partitionkey=owner,
        timeout=30,
    )
    # Then the service answered with the item it recorded
    assert reply.outcome.ok, reply.outcome.error_code
    result = dict(reply.outcome.result or {})
    assert (result["owner_id"], result["name"], result["quantity"]) == (owner, "widget", 7)
    assert reply.envelope.source == f"/{names.slug}"
    # And the item is in the service's own state table
    items = dynamodb.query(
        TableName=outputs[f"{names.title}TableName"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"OWNER#{owner}"}},
        ConsistentRead=True,
    )["Items"]
    assert [(item["item_id"]["S"], item["quantity"]["N"]) for item in items] == [(result["item_id"], "7")]
    # And it ran as the function the generated stack declared, from the copy's code
    [function] = [f for f in cloud.functions.values() if f.spec.handler == f"{names.name}.handler.lambda_handler"]
    assert function.spec.name == names.slug
    assert Path(function.spec.code_dir).resolve() == (generated.root / "functions").resolve()


def test_the_generated_e2e_test_passes_against_the_deployed_copy(generated: Generated, cloud: LocalCloud) -> None:
    # Given the e2e test the generator wrote for the service
    path = generated.root / "tests" / "e2e" / f"test_e2e_{generated.names.name}.py"
    spec = importlib.util.spec_from_file_location(f"generated_e2e_{generated.names.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tests = [getattr(module, name) for name in dir(module) if name.startswith("test_")]
    assert tests
    # When each of its tests runs against the deployed copy / Then it passes
    for test in tests:
        test(System(cloud))


def test_the_generated_unit_tests_and_docstring_examples_pass(generated: Generated) -> None:
    # Given the unit tests and the service module the generator wrote
    name = generated.names.name
    # When pytest runs them in the copy, with the copy's configuration
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--doctest-modules",
            f"tests/services/test_{name}_service.py",
            f"functions/{name}/service.py",
        ],
        cwd=generated.root,
        capture_output=True,
        text=True,
        check=False,
    )
    # Then they all pass (the 4 tests, the bad-payload cases and the module's example)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    assert "8 passed" in completed.stdout, completed.stdout[-1000:]
