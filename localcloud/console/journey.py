"""The journey page (``/_console/messages/<id>``): what happened to a message, or to the request a correlation id
names, hop by hop, read with :func:`cli.trace.trace` from the local CloudWatch Logs (flushed first: the local cloud
ships invocation logs in the background, as Lambda does).

Example::

    journey_page(logs_client, "5b0c...")        # None: no log line mentions it
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from cli.trace import Hop, Journey, trace
from cli.whereabouts import DEAD_LETTERED, WAITING, Location, summarize
from localcloud.clock import CLOCK
from localcloud.console.html import html, join, message_link, page, table
from localcloud.console.saga import saga_links
from localcloud.console.state import Cloud, queue_messages
from localcloud.console.topology import Topology

MAX_ID_CHARS = 1024
_OUTCOME_CSS = {"dead-lettered": "bad", "failed, SQS retries it": "bad", "rejected": "bad",
                "failure reply sent": "bad", "failure reply refused": "bad"}


def check_id(message_id: str) -> str | None:
    """Why ``message_id`` cannot be looked up (None: it can).

    Example:
        >>> check_id("5b0c-1") is None, check_id('a"b')
        (True, 'a message id has no quotes, backslashes or control characters')
    """
    if not message_id or len(message_id) > MAX_ID_CHARS:
        return f"a message id has 1 to {MAX_ID_CHARS} characters"
    if any(c in '"\\' or not c.isprintable() for c in message_id):
        return "a message id has no quotes, backslashes or control characters"
    return None


def journey_page(logs: Any, message_id: str, location: Location | None = None) -> str | None:
    """The HTML of the journey of ``message_id`` and where it is now (``location``: the queue holding it, see
    :func:`locate`); None when no queue holds it and no log line mentions it."""
    journey = trace(logs, message_id)
    if not journey.hops and location is None:
        return None
    now = html('<p class="card" role="status"><b>Now:</b> {}</p>', summarize(journey, location))
    if not journey.hops:
        nothing = html('<p class="muted">No function has logged it yet.</p>')
        return page(f"Journey of {message_id}", join([now, nothing]))
    return page(f"Journey of {message_id}", join([now, _journey(journey)]))


def locate(cloud: Cloud, topology: Topology, wanted: str,
           triggers: Mapping[str, Sequence[tuple[str, str]]] | None = None) -> Location | None:
    """Where ``wanted`` (a CloudEvent id or an SQS message id) is, read from the queues' state without receiving:
    a dead-letter queue first, then the other queues (waiting, in flight or delayed, with what is ahead of it in its
    group)."""
    now = CLOCK.now()
    dead_letter_queues = {q.dead_letter_queue for q in topology.queues if q.dead_letter_queue}
    ordered = sorted(topology.queues, key=lambda q: q.name not in dead_letter_queues)
    for queue in ordered:
        messages = queue_messages(cloud, queue.name) or []
        index = next((i for i, m in enumerate(messages) if wanted in (m.message_id, m.cloudevent_id)), None)
        if index is None:
            continue
        found = messages[index]
        dead = queue.name in dead_letter_queues
        ahead = tuple(m.cloudevent_id or m.message_id for m in messages[:index]
                      if found.group_id is not None and m.group_id == found.group_id)
        states = dict((triggers or {}).get(queue.arn, ()))
        count = found.attributes.get("redrive-count", "")
        return Location(
            state=DEAD_LETTERED if dead else WAITING if found.state == "visible" else found.state,
            queue=queue.name, group=found.group_id,
            since=datetime.fromtimestamp(now - found.age_seconds, UTC), ahead=() if dead else ahead,
            sqs_message_id=found.message_id, cloudevent_id=found.cloudevent_id, type=found.type,
            receive_count=found.receive_count, failure_code=found.failure_code, failure_reason=found.failure_reason,
            times_redriven=int(count) if count.isdigit() else 0,
            trigger=", ".join(states.values()) or None)
    return None


def _journey(journey: Journey) -> Markup:
    types = sorted({hop.type for hop in journey.hops if hop.message_id == journey.root and hop.type})
    what = ", ".join(types) or "a message whose type no hop names (or a correlation id)"
    events = [m for m in journey.messages if m != journey.root]
    parts = [html("<p>{}: {} hop(s) across {} message(s), in order (a message's own hops after the hop that "
                  "emitted it).</p>", what, len(journey.hops), len(journey.messages))]
    if events:
        parts.append(html("<p>Emitted messages: {}</p>", join((message_link(e) for e in events), ", ")))
    sagas = saga_links([journey.root, *journey.messages])
    if sagas is not None:
        parts.append(sagas)
    parts.append(table(("time (UTC)", "function", "message", "type", "outcome", "detail", "emitted by"),
                       [_row(journey, hop) for hop in journey.hops]))
    return join(parts)


def _row(journey: Journey, hop: Hop) -> tuple[object, ...]:
    message: object = hop.message_id if hop.message_id == journey.root else message_link(hop.message_id)
    outcome = html('<span class="{}">{}</span>', _OUTCOME_CSS.get(hop.what.split(" (redriven")[0], "ok"), hop.what)
    cause = message_link(hop.caused_by) if hop.caused_by else "-"
    return (hop.time, hop.function, message, hop.type or "-", outcome, hop.detail or "-", cause)
