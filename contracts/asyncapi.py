"""The AsyncAPI 3.0.0 document of the system, from the catalogue, the models and the synthesized topology alone.

- ``servers``: SNS and SQS of an AWS region, and the local cloud (``make local``); the stage is a parameter of every
  channel address (``{stage}orders-commands.fifo``: empty, or ``<stage>-`` for ``cdk deploy -c stage=<stage>``).
- ``channels``: every SNS topic and SQS queue of the cloud assembly, with SNS/SQS channel bindings read from the
  templates (FIFO, deduplication scope, visibility timeout, retention, redrive policy) and the messages each one
  carries: a topic the catalogue types declared on it, a queue those declared on it plus what its subscription's
  filter policy lets through, a dead-letter queue what its source queue carries, the reply queue the replies.
- ``operations``: per function (service) it receives from its queue, publishes events (with the SNS binding's
  consumers and their filter policies), sends replies and dead letters; per catalogued channel, what a client sends.
- ``components.messages``: one per type, CloudEvents attributes as ``headers`` (structured mode: they travel in the
  JSON body next to ``data``), ``data`` as ``payload``; ``components.schemas`` from the models
  (:func:`contracts.schemas.component_schemas`).

Example:
    >>> from catalogue import CATALOGUE
    >>> headers = cloudevent_headers(CATALOGUE["orders.CreateOrder"])
    >>> headers["properties"]["type"]["const"], headers["properties"]["dataschema"]["const"]
    ('orders.CreateOrder', 'urn:fifo-messaging:schema:orders.CreateOrder:1.0')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cli.topology import DEAD_LETTER_QUEUE, FUNCTION, QUEUE, TOPIC, Topology
from contracts.schemas import component_schemas
from messaging.codec import MAX_LENGTHS
from messaging.contracts import MessageType
from messaging.envelope import SCHEMA_VERSION, Kind
from messaging.failures import CODES
from messaging.tracecontext import TRACEPARENT

ASYNCAPI_VERSION = "3.0.0"
REPLY = "Reply"
"""The message id of a reply (``kind: reply``, ``type`` = the request's type + ``.Reply``)."""
_SNS_BINDING, _SQS_BINDING = "0.1.0", "0.2.0"
_STAGE = {"$ref": "#/components/parameters/stage"}


@dataclass
class _Channel:
    id: str
    kind: str  # topic | queue | dead-letter-queue
    name: str
    resource: Mapping[str, Any]
    messages: list[str] = field(default_factory=list)


def base_name(physical: str) -> str:
    """A channel's id: its physical name without ``.fifo``.

    Example:
        >>> base_name("orders-commands.fifo")
        'orders-commands'
    """
    return physical.removesuffix(".fifo")


def build_document(catalogue: Mapping[str, MessageType], templates: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The AsyncAPI document (see the module docstring) as plain data, in a stable order."""
    topology = Topology.from_templates(templates)
    resources = {
        re.sub(r"\W", "_", f"{stack}_{logical_id}"): resource
        for stack, template in templates.items()
        for logical_id, resource in (template.get("Resources") or {}).items()
    }
    nodes = {node.id: node for node in topology.nodes}
    channels: dict[str, _Channel] = {}
    for node in topology.nodes:
        if node.kind in (TOPIC, QUEUE, DEAD_LETTER_QUEUE):
            channel = _Channel(base_name(node.label), node.kind, node.label, resources[node.id])
            channels[node.id] = channel
    by_channel: dict[str, list[str]] = {}
    for name, message_type in catalogue.items():
        by_channel.setdefault(message_type.channel, []).append(name)
    edges = topology.edges
    subscriptions = [(e.source, e.target) for e in edges if e.kind == "subscription"]
    for channel in channels.values():
        channel.messages.extend(sorted(by_channel.get(channel.id, [])))
    for topic_id, queue_id in subscriptions:
        if topic_id in channels and queue_id in channels:
            policy = _subscription(templates, resources, channels[topic_id], channels[queue_id]).get("FilterPolicy")
            allowed = _filtered(catalogue, channels[topic_id].messages, policy)
            channels[queue_id].messages.extend(m for m in allowed if m not in channels[queue_id].messages)
    reply_queues = {e.target for e in edges if e.kind == "replies"}
    for queue_id in reply_queues:
        if queue_id in channels:
            channels[queue_id].messages.append(REPLY)
    for edge in edges:
        if edge.kind == "dead-letters" and edge.source in channels and edge.target in channels:
            channels[edge.target].messages.extend(channels[edge.source].messages)
    document: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": _info(),
        "defaultContentType": "application/cloudevents+json",
        "servers": _servers(),
        "channels": {
            c.id: _channel_object(c, channels, edges) for c in sorted(channels.values(), key=lambda c: c.id)
        },
        "operations": _operations(catalogue, channels, nodes, edges, templates, resources),
        "components": {
            "messages": {
                **{name: _message(t) for name, t in sorted(catalogue.items())},
                REPLY: _reply_message(),
            },
            "schemas": {
                **dict(sorted(component_schemas(catalogue.values()).items())),
                REPLY: _reply_schema(),
            },
            "parameters": {
                "stage": {
                    "description": "The stage prefix of every physical name: empty for the default stacks, "
                    "`<stage>-` for stacks deployed with `cdk deploy -c stage=<stage>`.",
                    "default": "",
                    "examples": ["", "dev-"],
                }
            },
        },
    }
    return document


READING_REPLIES = (
    "A request is a command with `replyto` = the system's reply queue (stack output `ReplyQueueUrl`) and an `id` "
    "nobody can guess (a random UUID, version 4): the requester sends it and writes nothing else, before or after. "
    "The reply router stores every reply that reaches the reply queue in the reply table (stack output "
    "`ReplyTableName`), one item per reply: `correlationid` (partition key, the request's `id`), `replyid` (sort key, "
    "`<reply source>|<reply id>`), `body` (the reply CloudEvent as JSON), `stored_at` (epoch milliseconds), "
    "`expires_at` (epoch seconds, one day after it was stored). A requester reads its replies with a DynamoDB "
    "`Query` (`correlationid = <request id>`, `ConsistentRead: true`; `dynamodb:Query` is the only permission it "
    "needs), oldest first by `stored_at`, skipping items whose `expires_at` is past or that have no `body`; none yet "
    "means not yet. Only the system's responders may send to the reply queue (its policy denies every other "
    "principal)."
)
"""How a requester in any language sends a request and reads its reply (the README's wire contract says the same)."""


def _info() -> dict[str, Any]:
    codes = ", ".join(f"`{code}`" for code in CODES)
    return {
        "title": "FIFO messaging example system",
        "version": SCHEMA_VERSION,
        "description": (
            "Generated by `make contracts` from `functions/catalogue.py`, the pydantic models and the synthesized "
            "CDK app; do not edit by hand.\n\n"
            "Every message is a CloudEvent 1.0 in structured JSON mode: the attributes described under `headers` "
            "and `data` (the `payload`) travel together in one JSON body, on SNS FIFO topics (raw message delivery "
            "to the subscribed queues) and SQS FIFO queues. `partitionkey` is the FIFO `MessageGroupId`; the "
            "`MessageDeduplicationId` is the SHA-256 hex of `source` + newline + `id`. `dataschema` names the type "
            "and the version of `data` (`urn:fifo-messaging:schema:<type>:<major>.<minor>`, version 1.0 when "
            "absent); `traceparent` carries the W3C trace context.\n\n"
            "Readers are tolerant: a field of `data` they do not know is ignored, unless the message is strict "
            "(`x-strict`). A message a consumer cannot process is moved to its queue's dead-letter queue with a "
            f"failure code ({codes}).\n\n"
            f"Requests and replies: {READING_REPLIES}"
        ),
    }


def _servers() -> dict[str, Any]:
    region = {"region": {"default": "eu-west-1", "description": "the AWS region the stacks are deployed to"}}
    return {
        "aws-sns": {
            "host": "sns.{region}.amazonaws.com",
            "protocol": "sns",
            "title": "Amazon SNS",
            "description": "The SNS FIFO topics of a deployed stage (`cdk deploy [-c stage=<stage>]`).",
            "variables": region,
        },
        "aws-sqs": {
            "host": "sqs.{region}.amazonaws.com",
            "protocol": "sqs",
            "title": "Amazon SQS",
            "description": "The SQS FIFO queues of a deployed stage (`cdk deploy [-c stage=<stage>]`).",
            "variables": region,
        },
        "local": {
            "host": "localhost:{port}",
            "protocol": "sqs",
            "title": "The local cloud",
            "description": "`make local PORT=<port> [STAGE=<stage>]`: the same stacks on moto; SNS and SQS answer at "
            "this one endpoint.",
            "variables": {"port": {"default": "4566"}},
        },
    }


def _subscription(
    templates: Mapping[str, Mapping[str, Any]],
    resources: Mapping[str, Mapping[str, Any]],
    topic: _Channel,
    queue: _Channel,
) -> Mapping[str, Any]:
    """The properties of the subscription of ``queue`` to ``topic``."""
    queue_ids = {node_id for node_id, resource in resources.items() if resource is queue.resource}
    for stack, template in templates.items():
        for resource in (template.get("Resources") or {}).values():
            if resource.get("Type") != "AWS::SNS::Subscription":
                continue
            properties = resource.get("Properties") or {}
            endpoint = properties.get("Endpoint") or {}
            target = (endpoint.get("Fn::GetAtt") or [None])[0] if isinstance(endpoint, Mapping) else None
            if isinstance(target, str) and re.sub(r"\W", "_", f"{stack}_{target}") in queue_ids:
                return dict(properties)
    return {}


def _filtered(catalogue: Mapping[str, MessageType], names: list[str], policy: Any) -> list[str]:
    """The messages of ``names`` a body filter policy on ``type`` and ``kind`` lets through."""
    if not isinstance(policy, Mapping):
        return list(names)
    types, kinds = policy.get("type"), policy.get("kind")
    return [
        name
        for name in names
        if (not isinstance(types, list) or name in types)
        and (not isinstance(kinds, list) or catalogue[name].kind.value in kinds)
    ]


def _queue_binding(resource: Mapping[str, Any], name: str) -> dict[str, Any]:
    properties = resource.get("Properties") or {}
    queue: dict[str, Any] = {"name": name, "fifoQueue": bool(properties.get("FifoQueue", False))}
    for source, target in (
        ("DeduplicationScope", "deduplicationScope"),
        ("FifoThroughputLimit", "fifoThroughputLimit"),
        ("VisibilityTimeout", "visibilityTimeout"),
        ("MessageRetentionPeriod", "messageRetentionPeriod"),
        ("ReceiveMessageWaitTimeSeconds", "receiveMessageWaitTime"),
        ("DelaySeconds", "deliveryDelay"),
    ):
        if isinstance(properties.get(source), str | int):
            queue[target] = properties[source]
    return queue


def _channel_object(channel: _Channel, channels: Mapping[str, _Channel], edges: list[Any]) -> dict[str, Any]:
    properties = channel.resource.get("Properties") or {}
    result: dict[str, Any] = {
        "address": "{stage}" + channel.name,
        "title": channel.name,
        "parameters": {"stage": _STAGE},
    }
    if channel.kind == TOPIC:
        result["servers"] = [{"$ref": "#/servers/aws-sns"}, {"$ref": "#/servers/local"}]
        fifo = bool(properties.get("FifoTopic", False))
        sns: dict[str, Any] = {"name": channel.name, "bindingVersion": _SNS_BINDING}
        if fifo:
            deduplication = bool(properties.get("ContentBasedDeduplication", False))
            sns["ordering"] = {"type": "FIFO", "contentBasedDeduplication": deduplication}
        result["description"] = (
            "SNS FIFO topic." if fifo else "SNS topic (not CloudEvents: CloudWatch alarm notifications)."
        )
        result["bindings"] = {"sns": sns}
    else:
        result["servers"] = [{"$ref": "#/servers/aws-sqs"}, {"$ref": "#/servers/local"}]
        sqs: dict[str, Any] = {"queue": _queue_binding(channel.resource, channel.name), "bindingVersion": _SQS_BINDING}
        redrive = properties.get("RedrivePolicy") or {}
        dead = next(
            (channels[e.target] for e in edges if e.kind == "dead-letters" and channels.get(e.source) is channel), None
        )
        if dead is not None:
            sqs["queue"]["redrivePolicy"] = {
                "deadLetterQueue": {"name": dead.name},
                "maxReceiveCount": int(redrive.get("maxReceiveCount", 0)) or 10,
            }
            sqs["deadLetterQueue"] = _queue_binding(dead.resource, dead.name)
        result["description"] = (
            "SQS FIFO dead-letter queue: messages its consumer could not process, unchanged, with the failure in "
            "message attributes (failure-code, failure-reason, failure-field, source-queue, source-message-id)."
            if channel.kind == DEAD_LETTER_QUEUE
            else "SQS FIFO queue."
        )
        result["bindings"] = {"sqs": sqs}
    result["messages"] = {name: {"$ref": f"#/components/messages/{name}"} for name in channel.messages}
    return result


def _operations(  # noqa: PLR0917 - the parts of the topology, passed along
    catalogue: Mapping[str, MessageType],
    channels: Mapping[str, _Channel],
    nodes: Mapping[str, Any],
    edges: list[Any],
    templates: Mapping[str, Mapping[str, Any]],
    resources: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    operations: dict[str, Any] = {}

    def messages_of(channel: _Channel, names: list[str] | None = None) -> list[dict[str, str]]:
        return [{"$ref": f"#/channels/{channel.id}/messages/{name}"} for name in (names or channel.messages)]

    reply_channel = next((channels[e.target] for e in edges if e.kind == "replies" and e.target in channels), None)
    for function in sorted((n for n in nodes.values() if n.kind == FUNCTION), key=lambda n: n.label):
        service = function.label
        for edge in edges:
            if edge.target == function.id and edge.kind == "triggers" and edge.source in channels:
                queue = channels[edge.source]
                operations[f"{service}.receive"] = {
                    "action": "receive",
                    "channel": {"$ref": f"#/channels/{queue.id}"},
                    "title": f"{service} receives from {queue.name}",
                    "summary": "Processed once per (source, id), in order per partitionkey; a message it cannot "
                    "process goes to the dead-letter queue with its failure code.",
                    "messages": messages_of(queue),
                }
            if edge.source != function.id or edge.target not in channels:
                continue
            target = channels[edge.target]
            if edge.kind == "publishes":
                published = [m for m in target.messages if catalogue[m].kind is Kind.EVENT]
                operations[f"{service}.publish"] = {
                    "action": "send",
                    "channel": {"$ref": f"#/channels/{target.id}"},
                    "title": f"{service} publishes events to {target.name}",
                    "messages": messages_of(target, published),
                    "bindings": {"sns": _sns_consumers(target, channels, edges, templates, resources)},
                }
            elif edge.kind == "replies":
                operations[f"{service}.reply"] = {
                    "action": "send",
                    "channel": {"$ref": f"#/channels/{target.id}"},
                    "title": f"{service} replies to the requester's replyto",
                    "messages": messages_of(target, [REPLY]),
                }
            elif edge.kind == "sends":
                operations[f"{service}.dead-letter"] = {
                    "action": "send",
                    "channel": {"$ref": f"#/channels/{target.id}"},
                    "title": f"{service} dead-letters what it cannot process",
                    "messages": messages_of(target),
                }
    for channel in sorted(channels.values(), key=lambda c: c.id):
        declared = [name for name in channel.messages if name in catalogue and catalogue[name].channel == channel.id]
        if not declared:
            continue
        operation: dict[str, Any] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel.id}"},
            "title": f"a client sends to {channel.name}",
            "messages": messages_of(channel, declared),
        }
        if reply_channel is not None and any(catalogue[name].kind is Kind.COMMAND for name in declared):
            operation["reply"] = {
                "address": {
                    "location": "$message.header#/replyto",
                    "description": "a command with replyto is answered there (the reply queue of the system); the "
                    "requester reads the reply from the reply table by the command's id (see info.description)",
                },
                "channel": {"$ref": f"#/channels/{reply_channel.id}"},
                "messages": [{"$ref": f"#/channels/{reply_channel.id}/messages/{REPLY}"}],
            }
        operations[f"client.send.{channel.id}"] = operation
    return operations


def _sns_consumers(
    topic: _Channel,
    channels: Mapping[str, _Channel],
    edges: list[Any],
    templates: Mapping[str, Mapping[str, Any]],
    resources: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    consumers = []
    for edge in edges:
        if edge.kind == "subscription" and channels.get(edge.source) is topic and edge.target in channels:
            queue = channels[edge.target]
            properties = _subscription(templates, resources, topic, queue)
            consumer: dict[str, Any] = {
                "protocol": properties.get("Protocol", "sqs"),
                "endpoint": {"name": queue.name},
                "rawMessageDelivery": bool(properties.get("RawMessageDelivery", False)),
            }
            if isinstance(properties.get("FilterPolicy"), Mapping):
                consumer["filterPolicy"] = properties["FilterPolicy"]
                consumer["filterPolicyScope"] = properties.get("FilterPolicyScope", "MessageAttributes")
            consumers.append(consumer)
    return {"consumers": consumers, "bindingVersion": _SNS_BINDING}


def cloudevent_headers(message_type: MessageType | None) -> dict[str, Any]:
    """The CloudEvents attributes of a message of ``message_type`` (a reply without one) as a JSON Schema."""
    kind = message_type.kind.value if message_type is not None else Kind.REPLY.value

    def text(description: str, name: str | None = None, **more: Any) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "description": description, **more}
        if name in MAX_LENGTHS:
            schema["maxLength"] = MAX_LENGTHS[name]
        return schema

    properties: dict[str, Any] = {
        "specversion": {"const": "1.0", "description": "CloudEvents version"},
        "id": text("unique per source; (source, id) is the message's identity", "id", minLength=1),
        "source": text("URI-reference of the sender", "source", minLength=1),
        "type": (
            {"const": message_type.type, "description": "the message type"}
            if message_type is not None
            else text("the request's type + .Reply", "type", pattern=r"\.Reply$")
        ),
        "kind": {"const": kind, "description": "command, event, document or reply"},
        "time": text("RFC 3339", format="date-time"),
        "datacontenttype": {"const": "application/json"},
        "schemaversion": {"const": SCHEMA_VERSION, "description": "version of the wire contract"},
        "partitionkey": text(
            "the FIFO MessageGroupId"
            + (f"; must equal data.{message_type.shard_key}" if message_type and message_type.shard_key else ""),
            minLength=1,
            maxLength=128,
        ),
        "traceparent": text("W3C trace context (CloudEvents distributed tracing)", pattern=TRACEPARENT.pattern),
        "tracestate": text("W3C trace state, carried along", "tracestate"),
    }
    required = ["specversion", "id", "source", "type", "kind", "time", "partitionkey"]
    if message_type is not None:
        properties["dataschema"] = {
            "const": message_type.dataschema,
            "description": "type and data version; a message without it is version 1.0 "
            f"(current {message_type.version})",
        }
        if message_type.kind is Kind.COMMAND:
            properties["replyto"] = text("the queue URL a reply goes to (on the consumers' allowlist)", "replyto")
        properties["dataref"] = text("claim check: s3:// location of data too large for the channel", "dataref")
    else:
        properties["correlationid"] = text("the id of the request this reply answers", "correlationid")
        required.append("correlationid")
    return {"type": "object", "properties": properties, "required": required}


def _message(message_type: MessageType) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": message_type.type,
        "title": message_type.type.rsplit(".", 1)[-1],
        "contentType": "application/cloudevents+json",
        "headers": cloudevent_headers(message_type),
        "payload": {"$ref": f"#/components/schemas/{message_type.type}"},
        "x-kind": message_type.kind.value,
        "x-version": message_type.version,
        "x-strict": message_type.strict,
        "x-channel": message_type.channel,
        "x-shard-key": message_type.shard_key,
    }
    if message_type.summary:
        message["summary"] = message_type.summary
    if message_type.upcasters:
        message["description"] = "Older major versions are read through upcasters: " + ", ".join(
            f"{major}.x -> {major + 1}.x" for major in sorted(message_type.upcasters)
        )
    return message


def _reply_message() -> dict[str, Any]:
    return {
        "name": REPLY,
        "title": "Reply",
        "summary": "The outcome of a command sent with replyto: success with a result, or failure with a code.",
        "contentType": "application/cloudevents+json",
        "headers": cloudevent_headers(None),
        "payload": {"$ref": f"#/components/schemas/{REPLY}"},
        "correlationId": {"location": "$message.header#/correlationid"},
        "x-kind": Kind.REPLY.value,
    }


def _reply_schema() -> dict[str, Any]:
    return {
        "title": REPLY,
        "oneOf": [
            {
                "type": "object",
                "properties": {"outcome": {"const": "success"}, "result": {"type": "object"}},
                "required": ["outcome", "result"],
            },
            {
                "type": "object",
                "properties": {
                    "outcome": {"const": "failure"},
                    "error": {
                        "type": "object",
                        "properties": {
                            "code": {
                                "type": "string",
                                "description": "a failure code of the runtime or a service's own business code",
                                "examples": sorted(CODES),
                            },
                            "message": {"type": "string"},
                        },
                        "required": ["code", "message"],
                    },
                },
                "required": ["outcome", "error"],
            },
        ],
    }
