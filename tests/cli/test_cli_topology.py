from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from cli import topology as topo
from cli.app import Connection, main
from cli.topology import Topology, TopologyError, load_templates, render_svg, to_dot, to_markdown, to_mermaid

pytestmark = pytest.mark.unit

ASSEMBLY = Path(__file__).parent / "fixtures" / "assembly"


@pytest.fixture(scope="module")
def graph() -> Topology:
    return Topology.from_assembly(ASSEMBLY)


def test_templates_are_found_through_the_manifest() -> None:
    # Given a cloud assembly with two stacks and a tree artifact / When loaded / Then only the stacks are read
    assert sorted(load_templates(ASSEMBLY)) == ["Billing", "MessagingCore"]


def test_nodes_are_topics_queues_dead_letter_queues_and_functions(graph: Topology) -> None:
    # Given the fixture assembly / When read / Then each resource is a node of the right kind with a readable label
    kinds = {(n.label, n.kind) for n in graph.nodes}
    assert kinds == {
        ("order-events.fifo", "topic"),
        ("reply.fifo", "queue"),
        ("reply-dlq.fifo", "dead-letter-queue"),
        ("ReplyRouter/Function", "function"),
        ("billing.fifo", "queue"),
        ("billing-dlq.fifo", "dead-letter-queue"),
        ("Consumer/Function", "function"),
    }


def test_edges_follow_cross_stack_imports_and_carry_filters(graph: Topology) -> None:
    # Given the fixture assembly, whose Billing subscription imports the topic from MessagingCore
    labels = {n.id: n.label for n in graph.nodes}
    # When edges are read
    edges = {(labels[e.source], e.kind, labels[e.target], e.label) for e in graph.edges}
    # Then the subscription, the redrives, the event source mappings and the function links are all there
    assert edges == {
        ("order-events.fifo", "subscription", "billing.fifo",
         "type: orders.OrderCreated, orders.OrderCancelled; kind: event"),
        ("reply.fifo", "dead-letters", "reply-dlq.fifo", "after 5 receives"),
        ("billing.fifo", "dead-letters", "billing-dlq.fifo", "after 3 receives"),
        ("reply.fifo", "triggers", "ReplyRouter/Function", "batch 10"),
        ("billing.fifo", "triggers", "Consumer/Function", ""),
        ("Consumer/Function", "publishes", "order-events.fifo", "events"),
        ("Consumer/Function", "sends", "billing-dlq.fifo", "permanent failures"),
    }


def test_mermaid_has_a_subgraph_per_stack_and_labelled_edges(graph: Topology) -> None:
    # Given the topology / When rendered as Mermaid
    text = to_mermaid(graph)
    # Then it is a flowchart with one subgraph per stack, shaped nodes and the filter on the subscription edge
    assert text.startswith("flowchart LR\n")
    assert '  subgraph MessagingCore["MessagingCore"]' in text
    assert '    MessagingCore_OrderEventsTopic1A2B3C4D{{"order-events.fifo"}}' in text
    assert ('  MessagingCore_OrderEventsTopic1A2B3C4D -->|"type: orders.OrderCreated, orders.OrderCancelled; '
            'kind: event"| Billing_BillingQueueAABBCCDD') in text
    assert '[("billing-dlq.fifo")]' in text
    # And the markdown page wraps it in a mermaid fence
    assert to_markdown(graph).startswith("# Messaging topology\n\n```mermaid\nflowchart LR\n")


def test_dot_is_a_digraph_with_clusters(graph: Topology) -> None:
    # Given the topology / When rendered as DOT
    text = to_dot(graph)
    # Then every stack is a cluster and the subscription edge carries its filter as a label
    assert text.startswith("digraph messaging {")
    assert "subgraph cluster_Billing {" in text
    assert ('MessagingCore_OrderEventsTopic1A2B3C4D -> Billing_BillingQueueAABBCCDD '
            '[label="type: orders.OrderCreated, orders.OrderCancelled; kind: event"];') in text
    assert 'label="Consumer/Function\\nbilling.handler.lambda_handler"' in text


def test_svg_without_graphviz_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no dot binary on PATH
    monkeypatch.setattr(topo.shutil, "which", lambda _name: None)
    # When SVG is requested / Then a typed error says what to install
    with pytest.raises(TopologyError, match="install graphviz"):
        render_svg("digraph {}")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")
def test_svg_with_graphviz(graph: Topology) -> None:
    # Given Graphviz / When rendered / Then the result is SVG
    assert "<svg" in render_svg(to_dot(graph))


def test_missing_assembly_is_a_typed_error(tmp_path: Path) -> None:
    # Given no cdk.out / When read / Then the error says to synthesize first
    with pytest.raises(TopologyError, match="synth"):
        Topology.from_assembly(tmp_path / "cdk.out")
    # And a directory without templates is an error too
    with pytest.raises(TopologyError, match="no stack templates"):
        Topology.from_assembly(tmp_path)


def test_templates_without_a_manifest_are_globbed(tmp_path: Path) -> None:
    # Given a directory with only a template file
    (tmp_path / "Solo.template.json").write_text(json.dumps(
        {"Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {}}}}))
    # When read / Then the stack is named after the file and the topic after its logical id
    assert [(n.stack, n.label) for n in Topology.from_assembly(tmp_path).nodes] == [("Solo", "T")]


def test_functions_link_to_the_reply_queues_they_may_answer_on() -> None:
    # Given a responder whose REPLY_TO_ALLOWLIST joins two queues, one imported from another stack
    core = {
        "Resources": {"Replies": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "replies.fifo"}}},
        "Outputs": {"X": {"Value": {"Ref": "Replies"}, "Export": {"Name": "Core:Replies"}}},
    }
    quotes = {"Resources": {
        "Other": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "other.fifo"}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "quotes", "Environment": {"Variables": {
            "REPLY_TO_ALLOWLIST": {"Fn::Join": [",", [{"Fn::ImportValue": "Core:Replies"}, {"Ref": "Other"}]]}}}}},
    }}
    # When the topology is built
    graph = Topology.from_templates({"Core": core, "Quotes": quotes})
    # Then the function has a "replies" edge to each queue
    labels = {n.id: n.label for n in graph.nodes}
    assert {(labels[e.source], labels[e.target]) for e in graph.edges if e.kind == "replies"} == {
        ("quotes", "replies.fifo"), ("quotes", "other.fifo")}


class DeployedStacks:
    """CloudFormation and SSM of a deployed system: the fixture's templates, registered under the default stage."""

    def __init__(self) -> None:
        self.templates = {name: (ASSEMBLY / f"{name}.template.json").read_text() for name in ("Billing",
                                                                                              "MessagingCore")}

    def get_template(self, StackName: str) -> dict[str, str]:  # noqa: N803 - boto3 keyword
        return {"TemplateBody": self.templates[StackName]}

    def get_paginator(self, operation: str) -> object:
        names = list(self.templates)

        class Pages:
            def paginate(self, Path: str, Recursive: bool) -> list[dict[str, object]]:  # noqa: N803
                assert Path == "/fifo-messaging/default/stacks"
                return [{"Parameters": [{"Name": f"{Path}/{n}", "Value": n} for n in names]}]

        return Pages()


def test_topology_outside_a_checkout_draws_the_deployed_stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               graph: Topology) -> None:
    # Given a directory with no cdk.out, and a deployed system whose stacks are registered
    monkeypatch.chdir(tmp_path)
    deployed = DeployedStacks()
    out, err = io.StringIO(), io.StringIO()
    # When the topology is asked for
    code = main(["topology", "--json"], connect=lambda args: Connection(args, client_factory=lambda _: deployed),
                stdout=out, stderr=err)
    # Then it is drawn from the deployed stacks' templates: the same graph as from the assembly
    assert code == 0, err.getvalue()
    document = json.loads(out.getvalue())
    assert sorted(n["label"] for n in document["nodes"]) == sorted(n.label for n in graph.nodes)
    # And with --assembly pointing nowhere it is one error line
    code = main(["topology", "--assembly", str(tmp_path / "cdk.out")], stdout=io.StringIO(), stderr=err)
    assert code == 1 and err.getvalue().startswith("error: no cloud assembly at ")
