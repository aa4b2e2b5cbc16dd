"""The saga page (``/_console/sagas/<id>``): a saga's state, steps, what it received in order and its deadline, read
from the saga tables of the deployed stacks (:mod:`cli.saga`); the journey of a message a saga sent links here.

Example::

    saga_page(dynamodb, cloud.outputs, "5b0c...")   # None: no saga table holds it
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from cli.saga import SagaNotFound, find_saga, saga_record, saga_tables
from localcloud.console.html import html, join, link, message_link, page, table
from messaging.saga.engine import parse_command_id

_STATUS_CSS = {"failed": "bad", "rejected": "bad", "abandoned": "bad", "refused": "bad"}


def saga_page(dynamodb: Any, outputs: Mapping[str, Any], saga_id: str) -> str | None:
    """The HTML of saga ``saga_id`` (None: no saga table of the outputs holds it)."""
    try:
        state = find_saga(saga_id, saga_tables(outputs), dynamodb)
    except SagaNotFound:
        return None
    record = saga_record(state)
    parts = [
        html('<p>{} {}: <span class="{}">{}</span>, deadline {} (UTC), version {}.</p>', record["type"],
             message_link(state.saga_id, "started by this message"), _STATUS_CSS.get(state.status, "ok"),
             state.status, record["deadline"], state.version),
    ]
    if state.reason:
        parts.append(html("<p>Reason: {}</p>", ", ".join(f"{k}={v}" for k, v in state.reason.items())))
    parts.append(table(("step", "status"), [(s["name"], html('<span class="{}">{}</span>',
                                                             _STATUS_CSS.get(s["status"], "ok"), s["status"]))
                                            for s in record["steps"]]))
    parts.append(table(("time (UTC)", "received", "step", "action", "outcome", "message", "note"), [
        (e["at"], e["kind"], e.get("step", "-"), e.get("action", "-"),
         e.get("outcome", "-") + (f" ({e['code']})" if e.get("code") else ""), message_link(e["message_id"]),
         "ignored" if e.get("ignored") else ("late" if e.get("late") else "-"))
        for e in record["history"]
    ]))
    return page(f"Saga {saga_id}", join(parts))


def saga_links(message_ids: Iterable[str]) -> Markup | None:
    """Links to the sagas whose commands are among ``message_ids`` (``<saga id>:<step>:<action>``), or None."""
    sagas = sorted({parsed[0] for parsed in map(parse_command_id, message_ids) if parsed is not None})
    if not sagas:
        return None
    return html("<p>Saga: {}</p>", join((link(f"/sagas/{quote(s, safe='')}", s) for s in sagas), ", "))
