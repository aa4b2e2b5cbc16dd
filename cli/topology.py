"""The messaging topology read from the synthesized cloud assembly (``cdk.out``), rendered as Mermaid or Graphviz DOT.

Nodes are SNS topics, SQS queues (dead-letter queues marked) and Lambda functions; edges are subscriptions (with
their filter policies), dead-letter redrives, event source mappings, and "publishes" links from a function's
``EVENT_TOPIC_ARN``, "sends" links from its ``DEAD_LETTER_QUEUE_URL`` and "replies" links to the queues of its
``REPLY_TO_ALLOWLIST``. References across stacks (``Fn::ImportValue`` of another stack's export) are followed.

Example:
    >>> template = {"Resources": {
    ...     "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "events.fifo"}},
    ...     "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "billing.fifo"}},
    ...     "Sub": {"Type": "AWS::SNS::Subscription", "Properties": {"TopicArn": {"Ref": "Topic"},
    ...             "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]}, "FilterPolicy": {"kind": ["event"]}}}}}
    >>> graph = Topology.from_templates({"Billing": template})
    >>> [(e.kind, e.label) for e in graph.edges]
    [('subscription', 'kind: event')]
    >>> print(to_mermaid(graph).splitlines()[0])
    flowchart LR
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NodeKey = tuple[str, str]  # (stack, logical id)

TOPIC, QUEUE, DEAD_LETTER_QUEUE, FUNCTION = "topic", "queue", "dead-letter-queue", "function"


class TopologyError(Exception):
    """The cloud assembly cannot be read, or a picture cannot be rendered."""


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    kind: str
    label: str
    stack: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    kind: str  # subscription | dead-letters | triggers | publishes | sends | replies
    label: str = ""


@dataclass(frozen=True, slots=True)
class Topology:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    @classmethod
    def from_assembly(cls, directory: Path) -> Topology:
        """Read every stack template of a cloud assembly directory (``cdk.out``)."""
        return cls.from_templates(load_templates(directory))

    @classmethod
    def from_templates(cls, templates: Mapping[str, Mapping[str, Any]]) -> Topology:
        """Build from ``{stack name: template}``."""
        return _Builder(templates).build()


def load_templates(directory: Path) -> dict[str, dict[str, Any]]:
    """``{stack name: template}`` of the stacks listed in ``manifest.json`` (or every ``*.template.json``)."""
    if not directory.is_dir():
        raise TopologyError(f"no cloud assembly at {directory} (run `make synth` or `cdk synth` first)")
    files: dict[str, Path] = {}
    manifest = directory / "manifest.json"
    if manifest.is_file():
        artifacts = _read_json(manifest).get("artifacts", {})
        for artifact_id, artifact in artifacts.items():
            if artifact.get("type") == "aws:cloudformation:stack":
                properties = artifact.get("properties", {})
                name = properties.get("stackName") or artifact.get("displayName") or artifact_id
                files[name] = directory / properties["templateFile"]
    if not files:
        files = {p.name.removesuffix(".template.json"): p for p in sorted(directory.glob("*.template.json"))}
    if not files:
        raise TopologyError(f"no stack templates in {directory}")
    return {name: _read_json(path) for name, path in files.items()}


class _Builder:
    def __init__(self, templates: Mapping[str, Mapping[str, Any]]) -> None:
        self.templates = templates
        self.exports: dict[str, NodeKey] = {}
        for stack, template in templates.items():
            for output in (template.get("Outputs") or {}).values():
                name = (output.get("Export") or {}).get("Name")
                target = self._local_ref(stack, output.get("Value"))
                if isinstance(name, str) and target:
                    self.exports[name] = target
        self.node_ids: dict[NodeKey, str] = {}
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []

    def build(self) -> Topology:
        resources = [
            (stack, logical_id, resource)
            for stack, template in self.templates.items()
            for logical_id, resource in (template.get("Resources") or {}).items()
        ]
        dead_letter_targets: set[NodeKey] = set()
        for stack, _, resource in resources:
            if resource.get("Type") == "AWS::SQS::Queue":
                redrive = (resource.get("Properties") or {}).get("RedrivePolicy") or {}
                target = self._ref(stack, redrive.get("deadLetterTargetArn"))
                if target:
                    dead_letter_targets.add(target)
        for stack, logical_id, resource in resources:
            kind = {
                "AWS::SNS::Topic": TOPIC,
                "AWS::SQS::Queue": QUEUE,
                "AWS::Lambda::Function": FUNCTION,
            }.get(resource.get("Type", ""))
            if kind == QUEUE and (stack, logical_id) in dead_letter_targets:
                kind = DEAD_LETTER_QUEUE
            if kind:
                self._add_node((stack, logical_id), kind, resource)
        for stack, logical_id, resource in resources:
            self._add_edges(stack, logical_id, resource)
        return Topology(nodes=self.nodes, edges=_dedupe(self.edges))

    def _add_node(self, key: NodeKey, kind: str, resource: Mapping[str, Any]) -> None:
        node_id = re.sub(r"\W", "_", f"{key[0]}_{key[1]}")
        self.node_ids[key] = node_id
        properties = resource.get("Properties") or {}
        label, detail = _label(key, kind, resource), ""
        if kind == FUNCTION:
            handler = properties.get("Handler")
            variables = (properties.get("Environment") or {}).get("Variables") or {}
            responder = variables.get("QUOTE_RESPONDER_NAME")
            detail = f"{handler}" + (f" ({responder})" if isinstance(responder, str) else "") if handler else ""
        self.nodes.append(Node(id=node_id, kind=kind, label=label, stack=key[0], detail=detail))

    def _add_edges(self, stack: str, logical_id: str, resource: Mapping[str, Any]) -> None:
        properties = resource.get("Properties") or {}
        kind = resource.get("Type")
        if kind == "AWS::SNS::Subscription":
            self._edge(
                stack,
                properties.get("TopicArn"),
                properties.get("Endpoint"),
                "subscription",
                _filter_label(properties.get("FilterPolicy")),
            )
        elif kind == "AWS::SQS::Queue":
            redrive = properties.get("RedrivePolicy") or {}
            count = redrive.get("maxReceiveCount")
            label = f"after {count} receives" if count else ""
            self._edge(stack, {"Ref": logical_id}, redrive.get("deadLetterTargetArn"), "dead-letters", label)
        elif kind == "AWS::Lambda::EventSourceMapping":
            size = properties.get("BatchSize")
            self._edge(
                stack,
                properties.get("EventSourceArn"),
                properties.get("FunctionName"),
                "triggers",
                f"batch {size}" if size else "",
            )
        elif kind == "AWS::Lambda::Function":
            variables = (properties.get("Environment") or {}).get("Variables") or {}
            self._edge(stack, {"Ref": logical_id}, variables.get("EVENT_TOPIC_ARN"), "publishes", "events")
            self._edge(
                stack, {"Ref": logical_id}, variables.get("DEAD_LETTER_QUEUE_URL"), "sends", "permanent failures"
            )
            for reply_queue in _list_items(variables.get("REPLY_TO_ALLOWLIST")):
                self._edge(stack, {"Ref": logical_id}, reply_queue, "replies", "replies")

    def _edge(self, stack: str, source: Any, target: Any, kind: str, label: str) -> None:
        source_key, target_key = self._ref(stack, source), self._ref(stack, target)
        if source_key in self.node_ids and target_key in self.node_ids:
            assert source_key is not None and target_key is not None
            self.edges.append(Edge(self.node_ids[source_key], self.node_ids[target_key], kind, label))

    def _ref(self, stack: str, value: Any) -> NodeKey | None:
        if isinstance(value, Mapping) and "Fn::ImportValue" in value:
            name = value["Fn::ImportValue"]
            return self.exports.get(name) if isinstance(name, str) else None
        return self._local_ref(stack, value)

    @staticmethod
    def _local_ref(stack: str, value: Any) -> NodeKey | None:
        if not isinstance(value, Mapping):
            return None
        if isinstance(value.get("Ref"), str):
            return (stack, value["Ref"])
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute and isinstance(attribute[0], str):
            return (stack, attribute[0])
        if isinstance(attribute, str):
            return (stack, attribute.split(".", 1)[0])
        return None


def _label(key: NodeKey, kind: str, resource: Mapping[str, Any]) -> str:
    properties = resource.get("Properties") or {}
    name = properties.get({TOPIC: "TopicName", FUNCTION: "FunctionName"}.get(kind, "QueueName"))
    if isinstance(name, str):
        return name
    path = (resource.get("Metadata") or {}).get("aws:cdk:path")
    if isinstance(path, str):
        parts = [p for p in path.split("/") if p not in ("Resource", "Default")]
        return "/".join(parts[1:]) or path
    return re.sub(r"[0-9A-F]{8}$", "", key[1])


def _list_items(value: Any) -> list[Any]:
    """The items of a comma-separated list value: ``Fn::Join`` on ``,`` or a single reference."""
    if isinstance(value, Mapping) and isinstance(value.get("Fn::Join"), list) and len(value["Fn::Join"]) == 2:
        separator, items = value["Fn::Join"]
        if separator == "," and isinstance(items, list):
            return items
    return [value] if value is not None else []


def _filter_label(policy: Any) -> str:
    if not isinstance(policy, Mapping):
        return ""
    parts = []
    for attribute, rule in policy.items():
        values = rule if isinstance(rule, list) else [rule]
        parts.append(f"{attribute}: {', '.join(v if isinstance(v, str) else json.dumps(v) for v in values)}")
    return "; ".join(parts)


def _dedupe(edges: Iterable[Edge]) -> list[Edge]:
    return list(dict.fromkeys(edges))


_MERMAID_SHAPES = {
    TOPIC: ('{{"', '"}}'),
    QUEUE: ('[["', '"]]'),
    DEAD_LETTER_QUEUE: ('[("', '")]'),
    FUNCTION: ('("', '")'),
}
_MERMAID_ARROWS = {
    "subscription": "-->",
    "triggers": "==>",
    "dead-letters": "-.->",
    "publishes": "-->",
    "sends": "-.->",
    "replies": "-->",
}


def to_mermaid(topology: Topology) -> str:
    """A Mermaid flowchart: one subgraph per stack; topics hexagons, queues boxes, DLQs cylinders, functions rounded."""
    lines = ["flowchart LR"]
    for stack in _stacks(topology):
        lines.append(f'  subgraph {_safe_id(stack)}["{_mermaid_text(stack)}"]')
        for node in (n for n in topology.nodes if n.stack == stack):
            opening, closing = _MERMAID_SHAPES[node.kind]
            text = _mermaid_text(node.label) + (
                f"<br/><small>{_mermaid_text(node.detail)}</small>" if node.detail else ""
            )
            lines.append(f"    {node.id}{opening}{text}{closing}")
            lines.append(f"    class {node.id} {node.kind.replace('-', '_')}")
        lines.append("  end")
    for edge in topology.edges:
        arrow = _MERMAID_ARROWS.get(edge.kind, "-->")
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"  {edge.source} {arrow}{label} {edge.target}")
    lines += [
        "  classDef topic fill:#fde7c8,stroke:#c77800",
        "  classDef queue fill:#dcecff,stroke:#2866b1",
        "  classDef dead_letter_queue fill:#ffd9d9,stroke:#b12828",
        "  classDef function fill:#e3f5dc,stroke:#3b8a1f",
    ]
    return "\n".join(lines) + "\n"


def to_markdown(topology: Topology, *, title: str = "Messaging topology") -> str:
    """A Markdown page with the Mermaid diagram (GitHub and most editors render it)."""
    return f"# {title}\n\n```mermaid\n{to_mermaid(topology)}```\n"


_DOT_SHAPES = {
    TOPIC: 'shape=hexagon, style=filled, fillcolor="#fde7c8"',
    QUEUE: 'shape=box, style="filled", fillcolor="#dcecff"',
    DEAD_LETTER_QUEUE: 'shape=cylinder, style=filled, fillcolor="#ffd9d9"',
    FUNCTION: 'shape=box, style="rounded,filled", fillcolor="#e3f5dc"',
}
_DOT_EDGES = {
    "subscription": "",
    "triggers": "penwidth=2",
    "dead-letters": 'style=dashed, color="#b12828"',
    "publishes": 'color="#c77800"',
    "sends": 'style=dotted, color="#b12828"',
    "replies": 'color="#2866b1"',
}


def to_dot(topology: Topology) -> str:
    """A Graphviz digraph: one cluster per stack."""
    lines = [
        "digraph messaging {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for stack in _stacks(topology):
        lines.append(f"  subgraph cluster_{_safe_id(stack)} {{")
        lines.append(f"    label={_dot_text(stack)}; style=rounded; color=gray;")
        for node in (n for n in topology.nodes if n.stack == stack):
            label = node.label + (f"\n{node.detail}" if node.detail else "")
            lines.append(f"    {node.id} [label={_dot_text(label)}, {_DOT_SHAPES[node.kind]}];")
        lines.append("  }")
    for edge in topology.edges:
        attributes = [
            a for a in (_DOT_EDGES.get(edge.kind, ""), f"label={_dot_text(edge.label)}" if edge.label else "") if a
        ]
        lines.append(f"  {edge.source} -> {edge.target}" + (f" [{', '.join(attributes)}]" if attributes else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(dot_source: str, *, dot_binary: str = "dot") -> str:
    """SVG via the Graphviz ``dot`` binary; :class:`TopologyError` if it is not installed or fails."""
    executable = shutil.which(dot_binary)
    if executable is None:
        raise TopologyError(
            f"Graphviz '{dot_binary}' not found: install graphviz (e.g. apt-get install graphviz) or use --format dot"
        )
    completed = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [executable, "-Tsvg"], input=dot_source, capture_output=True, text=True, check=False, timeout=60
    )
    if completed.returncode != 0:
        first = (completed.stderr.strip().splitlines() or ["unknown error"])[0]
        raise TopologyError(f"dot failed: {first}")
    return completed.stdout


def _stacks(topology: Topology) -> list[str]:
    return list(dict.fromkeys(n.stack for n in topology.nodes))


def _safe_id(text: str) -> str:
    return re.sub(r"\W", "_", text)


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _dot_text(text: str) -> str:
    return json.dumps(text)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TopologyError(f"cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise TopologyError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise TopologyError(f"{path} is not a JSON object")
    return document
