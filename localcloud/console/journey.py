"""The journey page (``/_console/messages/<id>``): what happened to a message, or to the request a correlation id
names, hop by hop, read with :func:`cli.trace.trace` from the local CloudWatch Logs (flushed first: the local cloud
ships invocation logs in the background, as Lambda does).

Example::

    journey_page(logs_client, "5b0c...")        # None: no log line mentions it
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from cli.trace import Hop, Journey, trace
from localcloud.console.html import html, join, message_link, page, table
from localcloud.console.saga import saga_links

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


def journey_page(logs: Any, message_id: str) -> str | None:
    """The HTML of the journey of ``message_id`` (None: no log line mentions it)."""
    journey = trace(logs, message_id)
    if not journey.hops:
        return None
    return page(f"Journey of {message_id}", _journey(journey))


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
    outcome = html('<span class="{}">{}</span>', _OUTCOME_CSS.get(hop.what, "ok"), hop.what)
    cause = message_link(hop.caused_by) if hop.caused_by else "-"
    return (hop.time, hop.function, message, hop.type or "-", outcome, hop.detail or "-", cause)
