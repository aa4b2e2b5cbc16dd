"""The real CDK CLI against the local cloud: ``make deploy-local`` into an empty server, then the system works.

Run by ``make test-deploy`` (about 2 min: the app is synthesized with its asset bundled by pip, bootstrapped,
deployed, deployed again, diffed, deployed as a second stage and destroyed), not by ``make test``; ``.ci/run``
runs both.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from localcloud import cdkdeploy
from localcloud.server import LocalCloudServer
from tests.support.servers import free_port

pytestmark = pytest.mark.deploy
REPO = Path(__file__).resolve().parents[2]
STACKS = ("MessagingCore", "Orders", "Billing", "Notifications", "Quotes", "BillingCredit", "Inventory", "OrderSaga",
          "Monitoring")
ORDER = {"customer_id": "customer-42", "lines": [{"sku": "book", "quantity": 1, "unit_price": "12.50"}]}


def create_order(url: str, *stage: str) -> dict[str, Any]:
    """A CreateOrder request through the CLI, which finds the outputs by endpoint (and stage); its reply."""
    request = subprocess.run(
        [sys.executable, "-m", "cli", "--endpoint-url", url, *stage, "--json", "request", "orders-command",
         "orders.CreateOrder", "-k", "customer-42", "-d", json.dumps(ORDER), "--timeout", "20"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=60,
        env={**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'functions'}"},
    )
    assert request.returncode == 0, request.stdout + request.stderr
    reply: dict[str, Any] = json.loads(request.stdout)
    return reply


def cdk(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The CDK CLI against the local endpoint, as make deploy-local runs it."""
    return subprocess.run([str(REPO / cdkdeploy.CDK), *args, "--no-notices"], cwd=REPO,
                          env=cdkdeploy.cdk_environment(url), capture_output=True, text=True, check=False, timeout=180)


def test_cdk_deploy_into_an_empty_local_cloud_runs_the_system() -> None:
    """cdk bootstrap + cdk deploy --all into ``serve --empty``: every stack complete with its outputs, a CreateOrder
    request through the CLI gets its reply; a second deploy changes nothing, cdk diff shows no difference; a stage
    deploys beside it with names of its own; cdk destroy deletes it all."""
    # Given an empty local cloud
    port = free_port()
    server = LocalCloudServer(port)
    server.start()
    try:
        # When the real CDK CLI bootstraps and deploys every stack into it
        assert cdkdeploy.deploy(port, app_dir=REPO) == 0
        # Then every stack is complete, with its outputs
        cfn = boto3.client("cloudformation", endpoint_url=server.url, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        stacks = {s["StackName"]: s for s in cfn.describe_stacks()["Stacks"]}
        assert set(stacks) == {*STACKS, "CDKToolkit"}
        assert {stacks[name]["StackStatus"] for name in STACKS} == {"CREATE_COMPLETE"}
        assert {o["OutputKey"] for o in stacks["Orders"]["Outputs"]} >= {"OrdersCommandQueueUrl", "OrderEventsTopicArn"}
        # And the CLI, finding the outputs by endpoint, gets the reply to a CreateOrder
        reply = create_order(server.url)
        assert (reply["outcome"], reply["result"]["status"], reply["result"]["total"]) == ("success", "open", "12.50")
        # And deploying again changes nothing, and cdk diff sees no difference
        assembly = str(REPO / ".localcloud" / str(port) / "cdk.out")
        again = cdk(server.url, "deploy", "--app", assembly, "--all", "--require-approval", "never")
        assert again.returncode == 0, (again.stdout + again.stderr)[-2000:]
        assert (again.stdout + again.stderr).count("(no changes)") == len(STACKS)  # stdout when CI is set
        # And the CLI's output has no stray warning (Node's end of life, the AWS SDK's Node support) nor bytes repr
        noise = [line for line in (again.stdout + again.stderr).splitlines()
                 if "Warning" in line or "end-of-life" in line or line.startswith(("b'", 'b"'))]
        assert noise == []
        diff = cdk(server.url, "diff", "--app", assembly)
        assert diff.returncode == 0
        assert "Number of stacks with differences: 0" in diff.stdout + diff.stderr

        # When the stage dev is deployed beside it (cdk deploy -c stage=dev)
        assert cdkdeploy.deploy(port, stage="dev", app_dir=REPO) == 0
        # Then its stacks are complete, its queue is its own, and the CLI with --stage dev gets its reply from it
        staged = {s["StackName"]: s for s in cfn.describe_stacks()["Stacks"] if s["StackName"].startswith("dev-")}
        assert {name: s["StackStatus"] for name, s in staged.items()} == {f"dev-{n}": "CREATE_COMPLETE" for n in STACKS}
        dev_queue = {o["OutputKey"]: o["OutputValue"] for o in staged["dev-Orders"]["Outputs"]}["OrdersCommandQueueUrl"]
        assert dev_queue.endswith("/dev-orders-commands.fifo")
        assert create_order(server.url, "--stage", "dev")["outcome"] == "success"

        # When cdk destroy runs for both, Then every stack of the app is gone, with its functions and triggers
        for app in (assembly, f"{assembly}.dev"):
            destroy = cdk(server.url, "destroy", "--app", app, "--all", "--force")
            assert destroy.returncode == 0, (destroy.stdout + destroy.stderr)[-2000:]
        assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"]] == ["CDKToolkit"]
        assert (server.cloud.functions, len(server.cloud.triggers)) == ({}, 0)
    finally:
        server.stop()
        shutil.rmtree(REPO / ".localcloud" / str(port), ignore_errors=True)
