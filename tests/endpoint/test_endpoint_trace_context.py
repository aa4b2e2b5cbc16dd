"""Trace context end to end on a local cloud server: a request sent by the CLI with a given ``traceparent``; its reply
and the events it caused carry the same trace id, and ``aws logs filter-log-events`` with that trace id finds the
lines of every function that handled a part of it."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cli.app import main
from localcloud.server import LocalCloudServer

# About 20 s (the AWS CLI per log group, the log shipping interval); the unit tests of the consumer hold the trace
# continuation itself.
pytestmark = pytest.mark.e2e  # on the endpoint package's server: no deployment of its own

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"
AWS = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")


def aws_cli(server: LocalCloudServer, *argv: str) -> dict[str, Any]:
    """The AWS CLI against the server, as a user runs it; its JSON output."""
    assert AWS is not None, "the AWS CLI (awscli in requirements-dev.txt) is not installed"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": ""}
    completed = subprocess.run([AWS, "--endpoint-url", server.url, "--output", "json", *argv], env=env,
                               capture_output=True, text=True, check=True, timeout=60)
    result: dict[str, Any] = json.loads(completed.stdout or "{}")
    return result


def lines_with_trace_id(server: LocalCloudServer, groups: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The log lines of each group that ``filter-log-events`` finds with the trace id as the filter pattern."""
    found: dict[str, list[dict[str, Any]]] = {}
    for group in groups:
        events = aws_cli(server, "logs", "filter-log-events", "--log-group-name", group,
                         "--filter-pattern", f'"{TRACE_ID}"')["events"]
        if events:
            found[group] = [json.loads(event["message"]) for event in events if event["message"].startswith("{")]
    return found


def test_a_request_with_a_traceparent_is_one_trace_across_the_functions(server: LocalCloudServer) -> None:
    # Given a CreateOrder request sent by the CLI with a given traceparent
    customer = f"cust-trace-{int(time.time() * 1000)}"
    data = {"customer_id": customer, "lines": [{"sku": "book", "quantity": 2, "unit_price": "12.50"}]}
    out, err = io.StringIO(), io.StringIO()
    status = main(["--endpoint-url", server.url, "request", "orders-command", "orders.CreateOrder",
                   "-d", json.dumps(data), "--traceparent", TRACEPARENT, "--timeout", "30", "--json", "-q"],
                  stdout=out, stderr=err)
    # Then the reply carries the same trace id (with the orders service's own parent id)
    assert status == 0, err.getvalue()
    reply = json.loads(out.getvalue())
    assert reply["traceparent"].startswith(f"00-{TRACE_ID}-") and reply["traceparent"] != TRACEPARENT
    # When the logs are searched with the AWS CLI for the trace id, in every function's log group
    groups = [g["logGroupName"] for g in aws_cli(server, "logs", "describe-log-groups",
                                                  "--log-group-name-prefix", "/aws/lambda/")["logGroups"]]
    wanted = {"/aws/lambda/orders", "/aws/lambda/billing", "/aws/lambda/notifications", "/aws/lambda/reply-router"}
    found: dict[str, list[dict[str, Any]]] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not wanted <= set(found):
        time.sleep(2)  # the server ships the functions' log lines every few seconds
        found = lines_with_trace_id(server, groups)
    # Then lines of at least three functions carry it: orders processed the request, billing and notifications the
    # event it caused, the reply router its reply
    assert len(found) >= 3 and wanted <= set(found), sorted(found)
    processed = {group: [line for line in lines if line.get("message") == "message processed"]
                 for group, lines in found.items()}
    [command] = processed["/aws/lambda/orders"]
    assert command["cloudevent_id"] == reply["correlation_id"] and command["trace_id"] == TRACE_ID
    # And the events it caused carry the trace: billing and notifications processed exactly them under it
    event_ids = set(command["event_ids"])
    for subscriber in ("/aws/lambda/billing", "/aws/lambda/notifications"):
        assert {line["cloudevent_id"] for line in processed[subscriber]} == event_ids
        assert all(line["trace_id"] == TRACE_ID for line in processed[subscriber])
