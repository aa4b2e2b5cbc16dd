"""The server's own behaviour (``make local``): its outputs file per port, and its console, quiet unless verbose."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from localcloud.server import LocalCloudServer, outdated_by
from tests.endpoint.test_endpoint_cloudformation import triggered_function_template
from tests.support.servers import free_port

pytestmark = pytest.mark.e2e


def invocations_of(server: LocalCloudServer, name: str, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while sum(i.function_name == name for i in server.cloud.invocations) < count:
        assert time.monotonic() < deadline, f"{name}: fewer than {count} invocations within {timeout}s"
        time.sleep(0.05)


def test_the_outputs_file_follows_the_stacks(server: LocalCloudServer, aws: Any) -> None:
    """``<root>/<port>/outputs.json`` holds every stack's outputs, per stack, and follows creates and deletes."""
    cfn = aws("cloudformation")
    # Given the example system deployed: its outputs are in the file of this server's port
    assert server.outputs_path.parent.name == str(server.port)
    document = json.loads(server.outputs_path.read_text())
    assert document["Orders"]["OrdersCommandQueueUrl"] == server.cloud.outputs["OrdersCommandQueueUrl"]
    # When a stack is created and deleted through CloudFormation, Then the file follows
    name = f"out-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=json.dumps({
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {}}},
        "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}}}))
    url = cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"][0]["OutputValue"]
    assert json.loads(server.outputs_path.read_text())[name] == {"QueueUrl": url}
    cfn.delete_stack(StackName=name)
    assert name not in json.loads(server.outputs_path.read_text())


def test_a_stopped_server_leaves_no_outputs_file(tmp_path: Path) -> None:
    """The outputs file is removed on exit (a stale one would send the CLI to a server that is gone)."""
    # Given a server that has written its (empty) outputs
    stopped = LocalCloudServer(free_port(), root=tmp_path)
    stopped.start()
    assert json.loads(stopped.outputs_path.read_text()) == {}
    # When it stops, Then neither the file nor the port's directory is left
    stopped.stop()
    assert list(tmp_path.iterdir()) == []


def test_the_console_is_quiet_unless_verbose(
    server: LocalCloudServer, aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Quiet: one line per stack change, nothing per invocation, totals per minute. Verbose: each invocation's log."""
    cfn, sqs = aws("cloudformation"), aws("sqs")
    name = f"con-{uuid.uuid4().hex[:8]}"
    capsys.readouterr()
    # Given a stack with a triggered function, created on the quiet server
    cfn.create_stack(StackName=name, TemplateBody=triggered_function_template(name))
    url = sqs.get_queue_url(QueueName=f"{name}.fifo")["QueueUrl"]
    server.totals.report(server.cloud)  # a new minute begins
    try:
        # When a message is processed
        sqs.send_message(QueueUrl=url, MessageBody="{}", MessageGroupId="g", MessageDeduplicationId="quiet")
        invocations_of(server, name, 1)
        # Then the console has the stack's one line and nothing of the invocation
        quiet = capsys.readouterr().out
        assert quiet.splitlines() == [line for line in quiet.splitlines() if line.startswith(f"stack {name}: ")]
        assert len(quiet.splitlines()) == 1 and "CREATE_COMPLETE" in quiet
        # And the minute's totals count it
        assert "last minute: 1 invocations, 0 failed" in server.totals.report(server.cloud)
        # When the server is verbose, Then the next invocation's log is printed with Lambda's lines
        server.verbose = True
        sqs.send_message(QueueUrl=url, MessageBody="{}", MessageGroupId="g", MessageDeduplicationId="verbose")
        invocations_of(server, name, 2)
        verbose, deadline = "", time.monotonic() + 5
        while "REPORT RequestId:" not in verbose and time.monotonic() < deadline:
            verbose += capsys.readouterr().out
            time.sleep(0.05)
        assert "START RequestId:" in verbose and "got 1" in verbose and "REPORT RequestId:" in verbose
    finally:
        server.verbose = False
        cfn.delete_stack(StackName=name)


def test_make_local_synthesizes_again_after_the_app_changed(tmp_path: Path) -> None:
    """An assembly older than app.py, cdk.json or a module of infra/ is out of date; a newer one is current."""
    # Given an app and an assembly made after it
    (tmp_path / "infra" / "stacks").mkdir(parents=True)
    module = tmp_path / "infra" / "stacks" / "orders.py"
    for source in (tmp_path / "app.py", tmp_path / "cdk.json", module):
        source.write_text("")
        os.utime(source, (1_000, 1_000))
    (tmp_path / "cdk.out").mkdir()
    (tmp_path / "cdk.out" / "manifest.json").write_text("{}")
    os.utime(tmp_path / "cdk.out" / "manifest.json", (2_000, 2_000))
    assert outdated_by(tmp_path / "cdk.out", tmp_path) is None
    # When a stack module changes afterwards, Then the assembly is out of date because of it
    os.utime(module, (3_000, 3_000))
    assert outdated_by(tmp_path / "cdk.out", tmp_path) == module
    # And a directory that is no assembly is never "out of date" (it is not the app's to overwrite)
    assert outdated_by(tmp_path / "elsewhere", tmp_path) is None
