"""The topology page (``/_console/``): the deployed stacks, each topic with the queues subscribed to it (and their
filter policies), each queue with its live depth, its consumer and its dead-letter queue.

The topology is read from the deployment (the resources the templates created), the depths from moto's models
(:mod:`.state`), so every queue of every deployed stack is listed.

Example::

    topology = Topology.of(cloud.deployment)
    topology.queue("orders-commands.fifo").dead_letter_queue     # "orders-commands-dlq.fifo"
    html_text = topology_page(cloud, topology)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from localcloud.cloudformation.deployment import Deployment
from localcloud.console.html import age, html, join, page, queue_link, table
from localcloud.console.state import Cloud, queue_depth
from localcloud.console.triggers import consumers_cell


@dataclass(frozen=True, slots=True)
class QueueInfo:
    """A queue of a stack: names, and what it is wired to."""

    stack: str
    name: str
    arn: str
    url: str
    dead_letter_arn: str | None
    max_receive_count: int | None
    consumers: tuple[str, ...] = ()

    @property
    def dead_letter_queue(self) -> str | None:
        return self.dead_letter_arn.rsplit(":", 1)[-1] if self.dead_letter_arn else None


@dataclass(frozen=True, slots=True)
class SubscriptionInfo:
    topic_arn: str
    protocol: str
    endpoint: str
    filter_policy: str | None
    filter_scope: str | None

    @property
    def queue_name(self) -> str | None:
        return self.endpoint.rsplit(":", 1)[-1] if self.protocol == "sqs" else None


@dataclass(frozen=True, slots=True)
class TopicInfo:
    stack: str
    name: str
    arn: str
    subscriptions: tuple[SubscriptionInfo, ...] = ()


@dataclass
class StackInfo:
    name: str
    status: str
    topics: list[TopicInfo] = field(default_factory=list)
    queues: list[QueueInfo] = field(default_factory=list)


@dataclass
class Topology:
    """Stacks with their topics and queues, and which queues are dead-letter queues of which: of a queue (its
    redrive policy) or of a function's event source (the mapping's on-failure destination, as the outbox relay's)."""

    stacks: list[StackInfo]
    failure_destinations: dict[str, str] = field(default_factory=dict)
    """Queue name -> the function whose event source mapping sends its failure records there."""

    @classmethod
    def of(cls, deployment: Deployment) -> Topology:
        """Read the topology of everything deployed."""
        consumers: dict[str, list[str]] = {}
        failure_destinations: dict[str, str] = {}
        for mapping in deployment.mappings:
            consumers.setdefault(mapping.event_source_arn, []).append(mapping.function_name)
            if mapping.on_failure_destination.startswith("arn:aws:sqs:"):
                failure_destinations[mapping.on_failure_destination.rsplit(":", 1)[-1]] = mapping.function_name
        subscriptions: dict[str, list[SubscriptionInfo]] = {}
        for stack in deployment.stacks.values():
            for state in stack.resources.values():
                if state.type == "AWS::SNS::Subscription" and state.skipped is None:
                    props = state.props
                    subscriptions.setdefault(str(props.get("TopicArn")), []).append(SubscriptionInfo(
                        topic_arn=str(props.get("TopicArn")), protocol=str(props.get("Protocol", "")),
                        endpoint=str(props.get("Endpoint", "")), filter_policy=_compact(props.get("FilterPolicy")),
                        filter_scope=_text(props.get("FilterPolicyScope"))))
        stacks = []
        for stack in deployment.stacks.values():
            info = StackInfo(stack.name, stack.status)
            for state in stack.resources.values():
                if state.skipped is not None:
                    continue
                if state.type == "AWS::SQS::Queue":
                    redrive = _json(state.props.get("RedrivePolicy"))
                    arn = str(state.attrs.get("Arn", ""))
                    info.queues.append(QueueInfo(
                        stack=stack.name, name=str(state.attrs.get("QueueName", "")), arn=arn,
                        url=str(state.physical_id), dead_letter_arn=_text(redrive.get("deadLetterTargetArn")),
                        max_receive_count=_int(redrive.get("maxReceiveCount")),
                        consumers=tuple(consumers.get(arn, ()))))
                elif state.type == "AWS::SNS::Topic":
                    arn = str(state.attrs.get("TopicArn", state.physical_id))
                    info.topics.append(TopicInfo(stack.name, str(state.attrs.get("TopicName", "")), arn,
                                                 tuple(subscriptions.get(arn, ()))))
            stacks.append(info)
        return cls(stacks, failure_destinations)

    @property
    def queues(self) -> list[QueueInfo]:
        return [queue for stack in self.stacks for queue in stack.queues]

    def queue(self, name: str) -> QueueInfo | None:
        """The queue of a deployed stack called ``name``."""
        return next((queue for queue in self.queues if queue.name == name), None)

    def source_of(self, dead_letter_queue: str) -> QueueInfo | None:
        """The queue whose redrive policy names ``dead_letter_queue`` as its DLQ (None: not a queue's DLQ)."""
        return next((queue for queue in self.queues if queue.dead_letter_queue == dead_letter_queue), None)

    def failing_function_of(self, dead_letter_queue: str) -> str | None:
        """The function whose event source sends its failures to ``dead_letter_queue`` (None: no function's)."""
        return self.failure_destinations.get(dead_letter_queue)

    def is_dead_letter_queue(self, name: str) -> bool:
        """True for the DLQ of a queue or of a function's event source."""
        return self.source_of(name) is not None or self.failing_function_of(name) is not None


def topology_page(cloud: Cloud, topology: Topology, triggers: Mapping[str, Sequence[tuple[str, str]]] | None = None
                  ) -> str:
    """The HTML of ``/_console/``; ``triggers`` (queue ARN -> (function, state) pairs, see :mod:`.triggers`) shows
    each consumer's trigger state."""
    if not topology.stacks:
        return page("Topology", html("<p>No stack is deployed.</p>"))
    dead_letter_queues = {q.dead_letter_queue for q in topology.queues if q.dead_letter_queue}
    parts: list[Markup] = [html("<p>{} stacks, {} topics, {} queues (depths live, oldest message age from the "
                                "queue itself).</p>", len(topology.stacks),
                                sum(len(s.topics) for s in topology.stacks), len(topology.queues))]
    for stack in topology.stacks:
        parts.append(html('<h2>Stack {} <span class="muted">{}</span></h2>', stack.name, stack.status))
        for topic in stack.topics:
            parts.append(_topic(topic))
        # A dead-letter queue is shown, with its count, in the row of the queue it serves.
        listed = [q for q in stack.queues if q.name not in dead_letter_queues]
        if listed:
            parts.append(_queues(cloud, listed, triggers))
    return page("Topology", join(parts))


def _topic(topic: TopicInfo) -> Markup:
    rows = []
    for subscription in topic.subscriptions:
        target = queue_link(subscription.queue_name) if subscription.queue_name else subscription.endpoint
        policy = (html("<code>{}</code>", subscription.filter_policy) if subscription.filter_policy
                  else html('<span class="muted">every message</span>'))
        scope = f" (on the {subscription.filter_scope})" if subscription.filter_scope else ""
        rows.append((target, subscription.protocol, html("{}{}", policy, scope)))
    if not rows:
        return html('<div class="card">Topic <b>{}</b>: no subscriptions</div>', topic.name)
    return html('<div class="card">Topic <b>{}</b> delivers to:{}</div>', topic.name,
                table(("subscriber", "protocol", "filter policy"), rows))


def _queues(cloud: Cloud, queues: list[QueueInfo], triggers: Mapping[str, Sequence[tuple[str, str]]] | None
            ) -> Markup:
    rows = []
    for queue in queues:
        depth = queue_depth(cloud, queue.name)
        dlq = queue.dead_letter_queue
        dlq_depth = queue_depth(cloud, dlq) if dlq else None
        if dlq is None:
            dead = html('<span class="muted">none</span>')
        else:
            count = (dlq_depth.visible + dlq_depth.in_flight + dlq_depth.delayed) if dlq_depth else None
            css = "bad" if count else "ok"
            oldest = f", oldest {age(dlq_depth.oldest_age_seconds)}" if dlq_depth and count else ""
            dead = html('{}: <span class="{}">{}</span>{} {}', queue_link(dlq), css,
                        "missing" if count is None else f"{count} message{'' if count == 1 else 's'}", oldest,
                        f"(after {queue.max_receive_count} receives)" if queue.max_receive_count else "")
        rows.append((
            queue_link(queue.name),
            consumers_cell(triggers.get(queue.arn, ())) if triggers is not None else ", ".join(queue.consumers) or "-",
            "missing" if depth is None else depth.visible,
            "" if depth is None else depth.in_flight,
            "" if depth is None else depth.delayed,
            age(depth.oldest_age_seconds if depth else None),
            dead,
        ))
    return table(("queue", "consumer", "visible", "in flight", "delayed", "oldest message", "dead-letter queue"),
                 rows, numeric=(2, 3, 4, 5))


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _compact(value: Any) -> str | None:
    if value is None or value == "":
        return None
    parsed = _json(value) if isinstance(value, str) else value
    return json.dumps(parsed or value, separators=(", ", ": "))


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
