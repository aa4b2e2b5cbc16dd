"""What is in a queue right now, read from moto's models in this process: no ``ReceiveMessage``, so looking neither
changes a message's visibility nor its receive count, and never holds a FIFO message group.

Example::

    depth = queue_depth(cloud, "orders-commands.fifo")        # None: no such queue
    depth.visible, depth.in_flight, depth.oldest_age_seconds
    for message in queue_messages(cloud, "orders-commands-dlq.fifo"):
        message.type, message.failure_code
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from moto.sqs.models import sqs_backends

from localcloud.clock import CLOCK
from localcloud.motopatches import MOTO_LOCK
from localcloud.sqs.metrics import enqueued_at, gauges

MAX_MESSAGES_SHOWN = 200
"""Messages a queue page lists (the oldest first); the page says how many more the queue holds."""
BODY_CHARS_SHOWN = 4000


class Cloud(Protocol):
    """What the console reads of a local cloud (:class:`localcloud.LocalCloud`)."""

    account_id: str
    region: str

    def client(self, service: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """The gauges SQS reports for a queue, at the local clock's now."""

    name: str
    visible: int
    in_flight: int
    delayed: int
    oldest_age_seconds: float | None


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """One message of a queue as a person wants to see it (CloudEvent attributes read from the body, if it is one)."""

    message_id: str
    group_id: str | None
    state: str
    age_seconds: float
    receive_count: int
    body: str
    body_truncated: bool
    type: str | None
    cloudevent_id: str | None
    correlation_id: str | None
    attributes: dict[str, str]

    @property
    def failure_code(self) -> str | None:
        return self.attributes.get("failure-code")

    @property
    def failure_reason(self) -> str | None:
        return self.attributes.get("failure-reason")


def _queue(cloud: Cloud, name: str) -> Any:
    return sqs_backends[cloud.account_id][cloud.region].queues.get(name)


def queue_depth(cloud: Cloud, name: str) -> QueueDepth | None:
    """The depth of the queue ``name`` (None: no such queue)."""
    now = CLOCK.now()
    with MOTO_LOCK:
        queue = _queue(cloud, name)
        if queue is None:
            return None
        values = gauges(queue, now=now)
        empty = not queue._messages
    return QueueDepth(
        name=name,
        visible=int(values["ApproximateNumberOfMessagesVisible"]),
        in_flight=int(values["ApproximateNumberOfMessagesNotVisible"]),
        delayed=int(values["ApproximateNumberOfMessagesDelayed"]),
        oldest_age_seconds=None if empty else values["ApproximateAgeOfOldestMessage"],
    )


def queue_messages(cloud: Cloud, name: str, limit: int = MAX_MESSAGES_SHOWN) -> list[QueuedMessage] | None:
    """Up to ``limit`` messages of the queue ``name`` in queue order, left exactly as they are (None: no queue)."""
    now = CLOCK.now()
    now_ms = now * 1000.0
    with MOTO_LOCK:
        queue = _queue(cloud, name)
        if queue is None:
            return None
        raw = [(m.id, m.group_id, m.body, m.approximate_receive_count, enqueued_at(m), m.delayed_until > now_ms,
                m.visible_at > now_ms, dict(m.message_attributes or {})) for m in list(queue._messages)[:limit]]
    messages = []
    for message_id, group, body, count, enqueued, delayed, in_flight, attributes in raw:
        document = _document(body)
        messages.append(QueuedMessage(
            message_id=message_id,
            group_id=group,
            state="delayed" if delayed else "in flight" if in_flight else "visible",
            age_seconds=max(0.0, now - enqueued),
            receive_count=int(count),
            body=body[:BODY_CHARS_SHOWN],
            body_truncated=len(body) > BODY_CHARS_SHOWN,
            type=_text(document.get("type")),
            cloudevent_id=_text(document.get("id")),
            correlation_id=_text(document.get("correlationid")),
            attributes={str(k): str(v.get("StringValue", "")) for k, v in attributes.items() if isinstance(v, dict)},
        ))
    return messages


def queue_size(cloud: Cloud, name: str) -> int:
    """Every message the queue holds (visible, in flight or delayed); 0 when there is no such queue."""
    with MOTO_LOCK:
        queue = _queue(cloud, name)
        return 0 if queue is None else len(queue._messages)


def _document(body: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return {}
    return document if isinstance(document, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
