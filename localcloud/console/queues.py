"""The queue page (``/_console/queues/<name>``).

The messages are read from moto's models (:mod:`.state`), never received, so looking changes nothing: no receive
count goes up and no FIFO group is held. On a dead-letter queue each message shows the failure the consumer attached
(``failure-code``, ``failure-reason``, ``failure-field``) or, when SQS moved it after ``maxReceiveCount``, that it has
none, with its Retry and Delete links; the messages are counted per failure code (Retry all / Delete all of a code);
the Redrive button offers the product's bounded redrive. The DLQ of a function's event source (an on-failure
destination, as the outbox relay's) is shown the same way, with Delete only: no queue is behind it to retry into.
Every action asks first (:mod:`.dead_letters`).

Example::

    queue_page(cloud, topology, "orders-commands-dlq.fifo")    # None: no such queue
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlencode

from markupsafe import Markup

from cli.dead_letters import NO_CODE
from localcloud.console.html import CONSOLE, age, html, join, link, message_link, page, queue_link, table
from localcloud.console.state import Cloud, QueuedMessage, queue_depth, queue_messages, queue_size
from localcloud.console.topology import QueueInfo, Topology
from localcloud.console.triggers import consumers_cell

MAX_REDRIVE_LIMIT = 10_000
ACTIONS_WITH_SOURCE = ("retry", "delete")
"""What can be done to one dead letter of a queue's DLQ."""
ACTIONS_WITHOUT_SOURCE = ("delete",)
"""... and of an event source's on-failure destination, which has no queue to retry into."""


class BadRequest(Exception):  # noqa: N818 - named after the HTTP status it becomes
    """A request the console refuses, with a one-line reason (answered with 400)."""


class RedriveFailed(Exception):  # noqa: N818
    """SQS refused a call of the redrive (answered with 502 and SQS's message)."""


def queue_page(cloud: Cloud, topology: Topology, name: str, *, notice: str | None = None,
               triggers: Mapping[str, Sequence[tuple[str, str]]] | None = None) -> str | None:
    """The HTML of a queue's page (None: no deployed stack has a queue called ``name``); ``notice`` is the outcome of
    the action that redirected here, ``triggers`` the state of each trigger (:mod:`.triggers`)."""
    queue = topology.queue(name)
    messages = queue_messages(cloud, name) if queue is not None else None
    depth = queue_depth(cloud, name)
    if queue is None or messages is None or depth is None:
        return None
    source = topology.source_of(name)
    facts = [html("Stack {}. {} visible, {} in flight, {} delayed; oldest message {}.", queue.stack, depth.visible,
                  depth.in_flight, depth.delayed, age(depth.oldest_age_seconds))]
    if queue.consumers:
        consumers = consumers_cell((triggers or {}).get(queue.arn, ())) if triggers else ", ".join(queue.consumers)
        facts.append(html("Consumed by {}.", consumers))
    if queue.dead_letter_queue:
        facts.append(html("Dead-letter queue: {} (after {} receives).", queue_link(queue.dead_letter_queue),
                          queue.max_receive_count))
    parts = [html("<p>{}</p>", join(facts, " "))]
    if notice:
        parts.insert(0, html('<p class="card" role="status">{}</p>', notice[:400]))
    function = topology.failing_function_of(name)
    actions = ACTIONS_WITH_SOURCE if source is not None else ACTIONS_WITHOUT_SOURCE
    if source is not None:
        parts.append(html("<p>Dead-letter queue of {}.</p>", queue_link(source.name)))
        parts.append(_redrive_form(name, source, depth.visible))
    elif function is not None:
        parts.append(html("<p>Dead-letter queue of the event source of function <b>{}</b> (its on-failure "
                          "destination, and where it puts what it cannot deliver). No queue is behind it to move "
                          "messages back to: delete them once dealt with.</p>", function))
    if topology.is_dead_letter_queue(name):
        counts = count_by_code([m.failure_code for m in messages])
        if counts:
            parts.append(html("<h2>By failure code</h2>"))
            parts.append(code_table(name, counts, actions))
    total = queue_size(cloud, name)
    parts.append(html("<h2>Messages ({})</h2>", total))
    if not messages:
        parts.append(html('<p class="muted">The queue is empty.</p>'))
    else:
        parts.append(_dead_letter_table(name, messages, actions) if topology.is_dead_letter_queue(name)
                     else _message_table(messages))
        if total > len(messages):
            parts.append(html('<p class="muted">The oldest {} of {} messages are shown.</p>', len(messages), total))
    return page(f"Queue {name}", join(parts))


def _redrive_form(name: str, source: QueueInfo, visible: int) -> Markup:
    action = f"{CONSOLE}/queues/{quote(name, safe='')}/confirm"
    return html('<form method="get" action="{}" class="card"><input type="hidden" name="action" value="redrive">'
                '<button type="submit">Redrive</button> moves the {} message(s) present (at most) back to {}, each '
                "message group in order, with new deduplication ids and without their failure attributes; a "
                "message that fails again comes back here once. It asks first.</form>",
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


def count_by_code(codes: Sequence[str | None]) -> dict[str, int]:
    """Messages per failure code, most frequent first (SQS's own moves under ``(no code: maxReceiveCount)``)."""
    counts: dict[str, int] = {}
    for code in codes:
        counts[code or NO_CODE] = counts.get(code or NO_CODE, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _dead_letter_table(name: str, messages: list[QueuedMessage], actions: Sequence[str]) -> Markup:
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
                     _body(m), action_links(name, m.message_id, actions)))
    return table(("message id", "group", "type", "CloudEvent id (journey)", "failure", "age", "body", "actions"),
                 rows)


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


def action_links(name: str, message_id: str, actions: Sequence[str] = ACTIONS_WITH_SOURCE) -> Markup:
    """The links of one dead letter's ``actions`` (Retry, Delete) to their confirmation pages."""
    return join((link(f"/queues/{quote(name, safe='')}/confirm?{urlencode({'action': a, 'id': message_id})}",
                      a.capitalize()) for a in actions), " ")


def code_table(name: str, counts: Mapping[str, int], actions: Sequence[str] = ACTIONS_WITH_SOURCE) -> Markup:
    """Messages per failure code, each code with its ``actions`` (Retry all, Delete all)."""
    rows = [(code, count, join((link(f"/queues/{quote(name, safe='')}/confirm?{urlencode({'action': a, 'code': code})}",
                                     f"{a.capitalize()} all") for a in actions), " "))
            for code, count in counts.items()]
    return table(("failure code", "messages", "actions"), rows, numeric=(1,))
