"""The real CDK CLI against the local cloud: ``make deploy-local`` into an empty server, then the system works.

Run by ``make test-deploy`` (about 50-80 s: the app is synthesized with its asset bundled by pip, bootstrapped,
deployed, deployed again, diffed and destroyed), not by ``make test``; ``.ci/run`` runs both.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from localcloud import cdkdeploy
from localcloud.server import LocalCloudServer
from tests.endpoint.conftest import free_port

pytestmark = pytest.mark.deploy
REPO = Path(__file__).resolve().parents[2]
STACKS = ("MessagingCore", "Orders", "Billing", "Notifications", "Quotes", "Monitoring")


def test_cdk_deploy_into_an_empty_local_cloud_runs_the_system(tmp_path: Path) -> None:
    """cdk bootstrap + cdk deploy --all into ``serve --empty``: every stack complete with its outputs, a CreateOrder
    request through the CLI gets its reply; a second deploy changes nothing, cdk diff shows no difference, and cdk
    destroy deletes it all."""
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
        assert set(STACKS) | {"CDKToolkit"} <= set(stacks)
        assert {stacks[name]["StackStatus"] for name in STACKS} == {"CREATE_COMPLETE"}
        assert {o["OutputKey"] for o in stacks["Orders"]["Outputs"]} >= {"OrdersCommandQueueUrl", "OrderEventsTopicArn"}
        # And the CLI, finding the outputs by endpoint, gets the reply to a CreateOrder
        order = {"customer_id": "customer-42", "lines": [{"sku": "book", "quantity": 1, "unit_price": "12.50"}]}
        request = subprocess.run(
            [sys.executable, "-m", "cli", "--endpoint-url", server.url, "--json", "request", "orders-command",
             "orders.CreateOrder", "-k", "customer-42", "-d", json.dumps(order), "--timeout", "20"],
            cwd=REPO, capture_output=True, text=True, check=False, timeout=60,
            env={**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'functions'}"},
        )
        assert request.returncode == 0, request.stdout + request.stderr
        reply = json.loads(request.stdout)
        assert (reply["outcome"], reply["result"]["status"], reply["result"]["total"]) == ("success", "open", "12.50")
        # And deploying again changes nothing, and cdk diff sees no difference
        assembly = REPO / ".localcloud" / str(port) / "cdk.out"
        env = cdkdeploy.cdk_environment(server.url)
        again = subprocess.run([str(REPO / cdkdeploy.CDK), "deploy", "--no-notices", "--app", str(assembly), "--all",
                                "--require-approval", "never"], cwd=REPO, env=env, capture_output=True, text=True,
                               check=False, timeout=120)
        assert again.returncode == 0, again.stderr[-2000:]
        assert again.stderr.count("(no changes)") == len(STACKS)
        diff = subprocess.run([str(REPO / cdkdeploy.CDK), "diff", "--no-notices", "--app", str(assembly)], cwd=REPO,
                              env=env, capture_output=True, text=True, check=False, timeout=120)
        assert diff.returncode == 0
        assert "Number of stacks with differences: 0" in diff.stdout + diff.stderr
        # And cdk destroy deletes every stack of the app, and with them its functions and triggers
        destroy = subprocess.run([str(REPO / cdkdeploy.CDK), "destroy", "--no-notices", "--app", str(assembly), "--all",
                                  "--force"], cwd=REPO, env=env, capture_output=True, text=True, check=False,
                                 timeout=120)
        assert destroy.returncode == 0, destroy.stderr[-2000:]
        assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"]] == ["CDKToolkit"]
        assert (server.cloud.functions, len(server.cloud.triggers)) == ({}, 0)
    finally:
        server.stop()
        shutil.rmtree(REPO / ".localcloud" / str(port), ignore_errors=True)
