from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_fixtures import cfn_stack, outputs_for

from cli.endpoints import (
    Endpoints,
    EndpointsError,
    MissingOutput,
    UnknownName,
    from_local_cloud,
    local_outputs_file,
    stack_names,
)

pytestmark = pytest.mark.unit


def test_missing_outputs_are_named_in_a_typed_error() -> None:
    # Given outputs without the reply channel
    outputs = outputs_for()
    del outputs["ReplyQueueUrl"]
    del outputs["ReplyTableName"]
    # When endpoints are built / Then the error names exactly what is missing
    with pytest.raises(MissingOutput) as raised:
        Endpoints.from_outputs(outputs)
    assert raised.value.names == ("ReplyQueueUrl", "ReplyTableName")
    assert "ReplyQueueUrl" in str(raised.value)


def test_queue_and_dead_letter_outputs_pair_up_by_name() -> None:
    # Given outputs with a queue that has a DLQ and one without
    outputs = outputs_for({"Billing": ("https://q/billing.fifo", "https://q/billing-dlq.fifo"), "Plain": ("u", None)})
    # When endpoints are built
    endpoints = Endpoints.from_outputs(outputs)
    # Then every <Name>QueueUrl / <Name>DeadLetterQueueUrl pair is one queue, looked up case/dash-insensitively
    assert {q.name for q in endpoints.queues} == {"Billing", "OrdersCommand", "Plain", "Reply"}
    assert endpoints.queue("billing").dead_letter_url == "https://q/billing-dlq.fifo"
    assert endpoints.queue("orders-command").url == outputs["OrdersCommandQueueUrl"]
    assert endpoints.queue("Plain").dead_letter_url is None
    assert endpoints.topic_arn("order-events") == outputs["OrderEventsTopicArn"]


def test_unknown_queue_and_topic_names_list_the_known_ones() -> None:
    # Given endpoints
    endpoints = Endpoints.from_outputs(outputs_for())
    # When an unknown name is used / Then the error lists what exists
    with pytest.raises(UnknownName, match=r"known: .*OrdersCommand"):
        endpoints.queue("nope")
    with pytest.raises(UnknownName, match="OrderEvents"):
        endpoints.topic_arn("nope")
    # And URLs and ARNs pass through untouched
    assert endpoints.queue_url("https://x/q.fifo") == "https://x/q.fifo"
    assert endpoints.topic_arn("arn:aws:sns:r:1:t") == "arn:aws:sns:r:1:t"


def test_outputs_file_accepts_flat_and_cdk_outputs_file_forms(tmp_path: Path) -> None:
    # Given the same outputs as a flat file and as `cdk deploy --outputs-file` (per stack)
    outputs = outputs_for()
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps(outputs))
    per_stack = tmp_path / "stacks.json"
    per_stack.write_text(json.dumps({"MessagingCore": {k: v for k, v in outputs.items() if "Reply" in k},
                                     "Orders": {k: v for k, v in outputs.items() if "Reply" not in k}}))
    # When both are read / Then they give the same endpoints
    assert Endpoints.from_file(flat) == Endpoints.from_file(per_stack)


def test_unreadable_outputs_file_is_a_typed_error(tmp_path: Path) -> None:
    # Given a missing file and a non-JSON file
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    # When read / Then each is an EndpointsError
    with pytest.raises(EndpointsError, match="cannot read"):
        Endpoints.from_file(tmp_path / "absent.json")
    with pytest.raises(EndpointsError, match="not JSON"):
        Endpoints.from_file(broken)


def test_from_stacks_merges_the_outputs_of_every_stack() -> None:
    # Given a CloudFormation client that knows two stacks
    outputs = outputs_for()
    stacks = {
        "MessagingCore": {k: v for k, v in outputs.items() if "Reply" in k},
        "Orders": {k: v for k, v in outputs.items() if "Reply" not in k},
    }

    class FakeCloudFormation:
        def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 - boto3 keyword
            return cfn_stack(stacks[StackName])

    # When endpoints are read from both stacks
    endpoints = Endpoints.from_stacks(FakeCloudFormation(), ["MessagingCore", "Orders"])
    # Then they hold the outputs of both
    assert endpoints.reply_table_name == "replies"
    assert endpoints.orders_command_queue_url == outputs["OrdersCommandQueueUrl"]


class NoStacks:
    """A CloudFormation client of an empty local cloud."""

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 - boto3 keyword
        raise MissingOutput((StackName,))


def test_each_local_server_is_found_by_its_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two local cloud servers of one checkout, each with its outputs file per stack
    monkeypatch.chdir(tmp_path)
    for port, table in ((4566, "replies-a"), (4567, "replies-b")):
        path = local_outputs_file(f"http://localhost:{port}")
        assert path is not None
        path.parent.mkdir(parents=True)
        outputs = {**outputs_for(), "ReplyTableName": table}
        path.write_text(json.dumps({"MessagingCore": {k: v for k, v in outputs.items() if "Reply" in k},
                                    "Orders": {k: v for k, v in outputs.items() if "Reply" not in k}}))
    # When the CLI reads the endpoints of each / Then each gets its own server's outputs
    assert from_local_cloud("http://localhost:4566", NoStacks()).reply_table_name == "replies-a"
    assert from_local_cloud("http://127.0.0.1:4567", NoStacks()).reply_table_name == "replies-b"
    # And a server without a file, or without the stacks, is a typed error naming what to do
    (tmp_path / ".localcloud" / "4568").mkdir()
    (tmp_path / ".localcloud" / "4568" / "outputs.json").write_text("{}")
    for url in ("http://localhost:4568", "http://localhost:4569"):
        with pytest.raises(EndpointsError, match="make deploy-local"):
            from_local_cloud(url, NoStacks())
    # And a remote endpoint has no local outputs file
    assert local_outputs_file("https://cloudformation.eu-west-1.amazonaws.com") is None


def test_a_stage_reads_its_own_stacks_from_a_server_running_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one local server running the default stage and the stage dev (cdk deploy -c stage=dev)
    monkeypatch.chdir(tmp_path)
    document = {}
    for stage, table in ((None, "replies"), ("dev", "dev-replies")):
        outputs = {**outputs_for(), "ReplyTableName": table}
        core, orders = stack_names(stage, ("MessagingCore", "Orders"))
        document[core] = {k: v for k, v in outputs.items() if "Reply" in k}
        document[orders] = {k: v for k, v in outputs.items() if "Reply" not in k}
    path = tmp_path / ".localcloud" / "4566" / "outputs.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(document))
    # When the CLI reads the endpoints of each stage / Then each gets its own
    url = "http://localhost:4566"
    assert from_local_cloud(url, NoStacks(), stack_names("dev")).reply_table_name == "dev-replies"
    assert from_local_cloud(url, NoStacks(), stack_names(None)).reply_table_name == "replies"
    with pytest.raises(EndpointsError, match="qa-MessagingCore"):
        from_local_cloud(url, NoStacks(), stack_names("qa"))
