"""The queue page (``/_console/queues/<name>``) and the dead-letter redrive (``POST .../<name>/redrive``).

The messages are read from moto's models (:mod:`.state`), never received, so looking changes nothing: no receive
count goes up and no FIFO group is held. On a dead-letter queue each message shows the failure the consumer attached
(``failure-code``, ``failure-reason``, ``failure-field``) or, when SQS moved it after ``maxReceiveCount``, that it has
none; the Redrive button runs the product's bounded redrive (:func:`cli.queues.redrive`) and shows what it did.

Example::

    queue_page(cloud, topology, "orders-commands-dlq.fifo")    # None: no such queue
    redrive_page(cloud, topology, "orders-commands-dlq.fifo", {"limit": "10"})
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError
from markupsafe import Markup

from cli.endpoints import QueueEndpoint
from cli.queues import redrive
from localcloud.console.html import CONSOLE, age, html, join, message_link, page, queue_link, table
from localcloud.console.state import Cloud, QueuedMessage, queue_depth, queue_messages, queue_size
from localcloud.console.topology import QueueInfo, Topology

MAX_REDRIVE_LIMIT = 10_000


class BadRequest(Exception):  # noqa: N818 - named after the HTTP status it becomes
    """A request the console refuses, with a one-line reason (answered with 400)."""


class RedriveFailed(Exception):  # noqa: N818
    """SQS refused a call of the redrive (answered with 502 and SQS's message)."""


def queue_page(cloud: Cloud, topology: Topology, name: str) -> str | None:
    """The HTML of a queue's page (None: no deployed stack has a queue called ``name``)."""
    queue = topology.queue(name)
    messages = queue_messages(cloud, name) if queue is not None else None
    depth = queue_depth(cloud, name)
    if queue is None or messages is None or depth is None:
        return None
    source = topology.source_of(name)
    facts = [html("Stack {}. {} visible, {} in flight, {} delayed; oldest message {}.", queue.stack, depth.visible,
                  depth.in_flight, depth.delayed, age(depth.oldest_age_seconds))]
    if queue.consumers:
        facts.append(html("Consumed by {}.", ", ".join(queue.consumers)))
    if queue.dead_letter_queue:
        facts.append(html("Dead-letter queue: {} (after {} receives).", queue_link(queue.dead_letter_queue),
                          queue.max_receive_count))
    parts = [html("<p>{}</p>", join(facts, " "))]
    if source is not None:
        parts.append(html("<p>Dead-letter queue of {}.</p>", queue_link(source.name)))
        parts.append(_redrive_form(name, source, depth.visible))
    total = queue_size(cloud, name)
    parts.append(html("<h2>Messages ({})</h2>", total))
    if not messages:
        parts.append(html('<p class="muted">The queue is empty.</p>'))
    else:
        parts.append(_dead_letter_table(messages) if source is not None else _message_table(messages))
        if total > len(messages):
            parts.append(html('<p class="muted">The oldest {} of {} messages are shown.</p>', len(messages), total))
    return page(f"Queue {name}", join(parts))


def _redrive_form(name: str, source: QueueInfo, visible: int) -> Markup:
    action = f"{CONSOLE}/queues/{quote(name, safe='')}/redrive"
    return html('<form method="post" action="{}" class="card"><button type="submit">Redrive</button> moves the {} '
                "message(s) present (at most) back to {}, each message group in order, with new deduplication "
                "ids and without their failure attributes; a message that fails again comes back here once.</form>",
                action, visible, queue_link(source.name))


def _identity(message: QueuedMessage) -> Markup:
    if message.cloudevent_id is None:
        return html('<span class="muted">not a CloudEvent</span>')
    return message_link(message.cloudevent_id)


def _body(message: QueuedMessage) -> Markup:
    more = " (cut)" if message.body_truncated else ""
    return html("<details><summary>body{}</summary><pre>{}</pre></details>", more, message.body)


def _message_table(messages: list[QueuedMessage]) -> Markup:
    rows = [(m.message_id, m.group_id or "-", m.type or "-", _identity(m), m.state, age(m.age_seconds),
             m.receive_count, _body(m)) for m in messages]
    return table(("message id", "group", "type", "CloudEvent id (journey)", "state", "age", "receives", "body"),
                 rows, numeric=(6,))


def _dead_letter_table(messages: list[QueuedMessage]) -> Markup:
    rows = []
    for m in messages:
        if m.failure_code is not None:
            failure = html('<span class="bad">{}</span>: {}', m.failure_code, m.failure_reason or "")
            if m.attributes.get("failure-field"):
                failure = html("{} <span class=\"muted\">(field {})</span>", failure, m.attributes["failure-field"])
        else:
            failure = html('<span class="bad">no failure code</span>: moved by SQS after its receives ran out '
                           "(transient failures, see its journey)")
        if m.attributes.get("redrive-run"):
            failure = html("{} <span class=\"muted\">(came back from redrive {})</span>", failure,
                           m.attributes["redrive-run"][:8])
        rows.append((m.message_id, m.group_id or "-", m.type or "-", _identity(m), failure, age(m.age_seconds),
                     _body(m)))
    return table(("message id", "group", "type", "CloudEvent id (journey)", "failure", "age", "body"), rows)


def parse_limit(form: Mapping[str, str]) -> int | None:
    """The optional ``limit`` field of a redrive form: a whole number from 1 to 10000.

    Example:
        >>> parse_limit({"limit": "5"}), parse_limit({})
        (5, None)
        >>> parse_limit({"limit": "all"})
        Traceback (most recent call last):
        ...
        localcloud.console.queues.BadRequest: limit must be a whole number from 1 to 10000, not 'all'
    """
    unknown = sorted(set(form) - {"limit"})
    if unknown:
        raise BadRequest(f"unknown form field {unknown[0]!r} (a redrive takes only 'limit')")
    text = form.get("limit", "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_REDRIVE_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_REDRIVE_LIMIT}, not {text[:40]!r}")
    return int(text)


def redrive_page(cloud: Cloud, topology: Topology, name: str, form: Mapping[str, str]) -> str | None:
    """Run the redrive of the dead-letter queue ``name`` and return the outcome page (None: no such queue).

    Raises :class:`BadRequest` when ``name`` is not a dead-letter queue or the form is wrong, and
    :class:`RedriveFailed` when SQS refused a call.
    """
    dlq = topology.queue(name)
    if dlq is None:
        return None
    source = topology.source_of(name)
    if source is None:
        raise BadRequest(f"{name} is not the dead-letter queue of a deployed queue: there is nothing to redrive")
    limit = parse_limit(form)
    try:
        result = redrive(cloud.client("sqs"), QueueEndpoint(source.name, source.url, dlq.url), limit=limit)
    except (ClientError, BotoCoreError) as exc:
        raise RedriveFailed(f"the redrive of {name} failed: {exc}") from exc
    summary = html("<p>Moved <b>{}</b> message(s) from {} back to {} (bound: {}); skipped {} that came back during "
                   "the run; {} failed.</p>", result.moved, queue_link(name), queue_link(source.name), result.budget,
                   result.skipped, len(result.failed))
    parts = [summary]
    if result.groups:
        parts.append(table(("message group", "moved"), sorted(result.groups.items()), numeric=(1,)))
    if result.failed:
        parts.append(table(("message id", "error"), [(f["message_id"], f["error"]) for f in result.failed]))
    parts.append(html('<p class="muted">Redrive run {}. Messages that fail again return to the dead-letter queue '
                      "marked with it.</p>", result.run_id))
    return page(f"Redrive of {name}", join(parts))

