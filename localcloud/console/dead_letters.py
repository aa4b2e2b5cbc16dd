"""Acting on dead letters from the console: Redrive (the whole DLQ, bounded), and Retry or Delete of one message or
of every message with one failure code. Nothing acts on a GET, and nothing acts without a confirmation:

1. a message's (or a code's) Retry / Delete link, or the Redrive button, leads to ``GET .../confirm?action=...`` : a
   page that says what will happen, to which messages, with a Confirm button (and a way back);
2. the Confirm button posts ``confirm=yes`` to ``POST /_console/queues/<dlq>/<action>``; a post without it is sent to
   the confirmation page (303), so a stray form never acts;
3. the post acts through the same SQS calls as ``fifo-messaging dlq retry|delete|redrive`` and answers 303 to the queue
   page, which shows the outcome (``?notice=...``): reloading it does not post again.

Example::

    confirm_page(cloud, topology, "orders-commands-dlq.fifo", {"action": "retry", "id": message_id})
    location = act(cloud, topology, "orders-commands-dlq.fifo", "retry", form)   # where to redirect
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode

from botocore.exceptions import BotoCoreError, ClientError
from markupsafe import Markup

from cli import dead_letters as dl
from cli.endpoints import QueueEndpoint
from cli.queues import redrive
from localcloud.console.html import CONSOLE, html, join, link, page, queue_link, table
from localcloud.console.queues import BadRequest, RedriveFailed, parse_limit
from localcloud.console.state import Cloud, queue_messages
from localcloud.console.topology import QueueInfo, Topology

ACTIONS = ("redrive", "retry", "delete")
MAX_NOTICE_CHARS = 400


def _what(action: str, target: Markup) -> Markup:
    if action == "redrive":
        return html("Redrive moves the messages present (at most) back to {}, each message group in order, with new "
                    "deduplication ids and without their failure attributes; a message that fails again comes back "
                    "here.", target)
    if action == "retry":
        return html("Retry moves the chosen message(s) back to {} (same body, so the same source and id; same "
                    "group), without their failure attributes.", target)
    return html("Delete removes the chosen message(s) from the dead-letter queue for good (nothing goes back to "
                "{}).", target)


def queue_path(name: str) -> str:
    return f"{CONSOLE}/queues/{quote(name, safe='')}"


def confirm_location(name: str, form: Mapping[str, str], action: str) -> str:
    """The confirmation page of ``action`` with the choice of ``form`` (id, code, limit)."""
    query = {"action": action, **{k: v for k, v in form.items() if k in ("id", "code", "limit") and v}}
    return f"{queue_path(name)}/confirm?{urlencode(query)}"


def _check(topology: Topology, name: str, action: str, form: Mapping[str, str]
           ) -> tuple[QueueInfo, QueueInfo | None] | None:
    """The DLQ and the queue it serves (None for an event source's DLQ, which only deletes); None: no such queue."""
    dlq = topology.queue(name)
    if dlq is None:
        return None
    if action not in ACTIONS:
        raise BadRequest(f"nothing to do called {action[:40]!r} (the actions are {', '.join(ACTIONS)})")
    source = topology.source_of(name)
    function = topology.failing_function_of(name)
    if source is None and function is None:
        raise BadRequest(f"{name} is not the dead-letter queue of a deployed queue: there is nothing to {action}")
    if source is None and action != "delete":
        raise BadRequest(f"{name} is the on-failure destination of function {function}'s event source: no queue is "
                         f"behind it to {action} into (delete its messages once dealt with)")
    unknown = sorted(set(form) - {"limit", "confirm", "id", "code", "action"})
    if unknown:
        raise BadRequest(f"unknown form field {unknown[0]!r} (an action takes id, code, limit and confirm)")
    if action == "redrive":
        parse_limit({k: v for k, v in form.items() if k == "limit"})
    elif not (form.get("id") or form.get("code")):
        raise BadRequest(f"{action} needs a message (id) or a failure code (code)")
    return dlq, source


def _chosen(cloud: Cloud, name: str, form: Mapping[str, str]) -> list[str]:
    """The SQS message ids an id or a code chooses in the DLQ ``name`` (read without receiving)."""
    messages = queue_messages(cloud, name) or []
    if form.get("id"):
        wanted = form["id"]
        return [m.message_id for m in messages if wanted in (m.message_id, m.cloudevent_id)]
    code = form.get("code", "")
    return [m.message_id for m in messages if (m.failure_code or dl.NO_CODE) == code]


def confirm_page(cloud: Cloud, topology: Topology, name: str, query: Mapping[str, str]) -> str | None:
    """The page that asks before ``query['action']`` acts on the DLQ ``name`` (None: no such queue)."""
    action = query.get("action", "")
    checked = _check(topology, name, action, {k: v for k, v in query.items() if k != "action"})
    if checked is None:
        return None
    _, source = checked
    target = queue_link(source.name) if source is not None else html("the event source it came from")
    parts = [html("<p>{}</p>", _what(action, target))]
    hidden = {k: v for k, v in query.items() if k in ("id", "code", "limit") and v}
    if action != "redrive":
        chosen = _chosen(cloud, name, query)
        which = f"failure code {query['code']}" if query.get("code") else f"message {query.get('id')}"
        parts.append(html("<p>{}: <b>{}</b> message(s) of {}.</p>", which, len(chosen), queue_link(name)))
        if chosen:
            parts.append(table(("message id",), [(m,) for m in chosen]))
    fields = join(html('<input type="hidden" name="{}" value="{}">', k, v) for k, v in hidden.items())
    parts.append(html('<form method="post" action="{}/{}" class="card">{}<input type="hidden" name="confirm" '
                      'value="yes"><button type="submit">Confirm {}</button> {}</form>', queue_path(name), action,
                      fields, action, link(f"/queues/{quote(name, safe='')}", "Cancel")))
    return page(f"{action.capitalize()} in {name}?", join(parts))


def act(cloud: Cloud, topology: Topology, name: str, action: str, form: Mapping[str, str]) -> str | None:
    """Run a confirmed action and return where to redirect (None: no such queue). Without ``confirm=yes`` the
    redirect is to the confirmation page and nothing is done."""
    checked = _check(topology, name, action, form)
    if checked is None:
        return None
    dlq, source = checked
    if form.get("confirm") != "yes":
        return confirm_location(name, form, action)
    endpoint = QueueEndpoint(source.name, source.url, dlq.url) if source is not None else QueueEndpoint(
        name, None, dlq.url)
    sqs = cloud.client("sqs")
    try:
        if action == "redrive":
            result = redrive(sqs, endpoint, limit=parse_limit({k: v for k, v in form.items() if k == "limit"}))
            notice = (f"Redrive {result.run_id[:8]}: moved {result.moved} message(s) back to {endpoint.name} (bound: "
                      f"{result.budget}); skipped {result.skipped}; {len(result.failed)} failed.")
        else:
            chosen = _chosen(cloud, name, form)
            outcome = (dl.retry if action == "retry" else dl.delete)(sqs, endpoint, chosen)
            where = f" back to {endpoint.name}" if action == "retry" else ""
            notice = (f"{outcome.action.capitalize()} {len(outcome.done)} message(s){where}; "
                      f"{len(outcome.missing)} not found; {len(outcome.failed)} failed.")
    except (ClientError, BotoCoreError) as exc:
        raise RedriveFailed(f"the {action} in {name} failed: {exc}") from exc
    return f"{queue_path(name)}?{urlencode({'notice': notice[:MAX_NOTICE_CHARS]})}"
