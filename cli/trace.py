"""What happened to a message: its journey across services, read from the functions' logs in CloudWatch Logs.

Every consumer writes one structured line per message it handles (Powertools Logger, JSON), keyed by
``cloudevent_id`` and ``correlationid``: ``message processed`` (with the ids of the events it published and of the
reply it sent), ``processing failed; SQS will retry``, ``message moved to the dead-letter queue`` (with the failure
code), ``command rejected``, ``failure reply sent``. :func:`trace` looks up an id (a message id or a correlation id)
with ``FilterLogEvents`` in every ``/aws/lambda/`` log group, follows each event the message emitted to its own
deliveries and orders the hops by time, causes first: a consumer writes its line once the message is done, after it
published its events, so a fast subscriber may log an event before the line of the command that emitted it; such a
hop is listed right after its cause (its own time still shown). The same code reads AWS and the local cloud (which
ships every invocation's log to CloudWatch Logs as Lambda does).

Example:
    >>> class FakeLogs:
    ...     def describe_log_groups(self, **kwargs):
    ...         return {"logGroups": [{"logGroupName": "/aws/lambda/orders"}]}
    ...     def filter_log_events(self, **kwargs):
    ...         line = ('{"message": "message processed", "service": "orders", "cloudevent_id": "c-1", '
    ...                 '"cloudevent_type": "orders.CreateOrder", "kind": "command", "duplicate": false}')
    ...         found = '"c-1"' in kwargs["filterPattern"]
    ...         return {"events": [{"timestamp": 1796100000000, "message": line}] if found else []}
    >>> [hop.what for hop in trace(FakeLogs(), "c-1").hops]
    ['processed']
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

LOG_GROUP_PREFIX = "/aws/lambda/"
MAX_MESSAGES = 50
"""How many messages one trace follows (the message, its events, theirs...): a bound for fan-outs."""


@dataclass(frozen=True)
class Hop:
    """One thing that happened to one message in one function."""

    at_ms: int
    function: str
    service: str
    message_id: str
    type: str
    what: str
    detail: str = ""
    caused_by: str | None = None  # the message that emitted this one (an event of a command)

    @property
    def time(self) -> str:
        return datetime.fromtimestamp(self.at_ms / 1000, tz=UTC).strftime("%H:%M:%S.%f")[:-3]


@dataclass
class Journey:
    """Every hop found for an id and the messages it led to, in time order."""

    root: str
    hops: list[Hop] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def render(self) -> str:
        if not self.hops:
            return f"no log line mentions {self.root}"
        kinds = sorted({hop.type for hop in self.hops if hop.message_id == self.root})
        lines = [f"journey of {self.root} ({', '.join(kinds) or 'unknown type'}): {len(self.hops)} hop(s), "
                 f"{len(self.messages)} message(s)"]
        for hop in self.hops:
            origin = f"  (event of {hop.caused_by})" if hop.caused_by else ""
            detail = f": {hop.detail}" if hop.detail else ""
            lines.append(f"  {hop.time}  {hop.function:<26} {hop.type:<28} {hop.message_id:<38} {hop.what}{detail}"
                         f"{origin}")
        return "\n".join(lines)


def _log_groups(logs: Any) -> list[str]:
    groups: list[str] = []
    kwargs: dict[str, Any] = {"logGroupNamePrefix": LOG_GROUP_PREFIX}
    while True:
        page = logs.describe_log_groups(**kwargs)
        groups.extend(group["logGroupName"] for group in page.get("logGroups", []))
        if not page.get("nextToken"):
            return groups
        kwargs["nextToken"] = page["nextToken"]


def _events(logs: Any, group: str, term: str, start_ms: int | None) -> Iterator[dict[str, Any]]:
    kwargs: dict[str, Any] = {"logGroupName": group, "filterPattern": f'"{term}"'}
    if start_ms is not None:
        kwargs["startTime"] = start_ms
    while True:
        page = logs.filter_log_events(**kwargs)
        yield from page.get("events", [])
        if not page.get("nextToken"):
            return
        kwargs["nextToken"] = page["nextToken"]


def _document(message: str) -> dict[str, Any] | None:
    start = message.find("{")
    if start < 0:
        return None
    try:
        document = json.loads(message[start:])
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _hop(document: dict[str, Any], at_ms: int, group: str, caused_by: str | None) -> Hop | None:
    """The hop a log line records; a message a redrive brought back says so (``redriven N time(s)``)."""
    hop = _plain_hop(document, at_ms, group, caused_by)
    count = document.get("redrive_count")
    if hop is None or not isinstance(count, int) or count <= 0:
        return hop
    return replace(hop, what=f"{hop.what} (redriven {count} time(s))")


def _plain_hop(  # noqa: PLR0911
    document: dict[str, Any], at_ms: int, group: str, caused_by: str | None
) -> Hop | None:
    text = str(document.get("message", ""))
    common: dict[str, Any] = {
        "at_ms": at_ms,
        "function": group.removeprefix(LOG_GROUP_PREFIX),
        "service": str(document.get("service", "")),
        "message_id": str(document.get("cloudevent_id", "")),
        "type": str(document.get("cloudevent_type", "")),
        "caused_by": caused_by,
    }
    if text == "message processed":
        parts = []
        if document.get("event_ids"):
            parts.append(f"published {len(document['event_ids'])} event(s)")
        if document.get("reply_id"):
            parts.append(f"replied {document['reply_id']} ({document.get('outcome')})")
        if document.get("kind") == "reply":
            return Hop(**common, what="reply stored", detail=f"for request {document.get('correlationid')}")
        what = "duplicate delivery, stored outcome replayed" if document.get("duplicate") else "processed"
        return Hop(**common, what=what, detail=", ".join(parts))
    if text == "http request accepted":  # the HTTP front door: where a request's journey starts
        what = "HTTP request repeated (same key), same answer" if document.get("duplicate") else "HTTP request accepted"
        return Hop(**common, what=what, detail=f"{document.get('http_method')} {document.get('path')}")
    if text == "outbox message relayed":
        return Hop(**common, what="relayed from the outbox", detail=f"to {document.get('destination')}")
    if text.startswith("processing failed"):
        return Hop(**common, what="failed, SQS retries it", detail=str(document.get("exception_name", "")))
    if text == "message moved to the dead-letter queue":
        return Hop(**common, what="dead-lettered",
                   detail=f"{document.get('failure_code')}: {document.get('failure_reason')}")
    if text == "command rejected":
        return Hop(**common, what="rejected", detail=f"{document.get('code')}: {document.get('reason')}")
    if text == "failure reply sent":
        return Hop(**common, what="failure reply sent", detail=f"{document.get('reply_id')} ({document.get('code')})")
    if text == "the failure reply was refused by the broker":
        return Hop(**common, what="failure reply refused", detail=str(document.get("reply_id", "")))
    return None


def trace(
    logs: Any, message_id: str, *, start_ms: int | None = None, log_groups: Sequence[str] | None = None
) -> Journey:
    """The journey of ``message_id`` (or of the request whose correlation id it is) and of the events it emitted.

    ``logs`` is a CloudWatch Logs client; ``start_ms`` limits the search to events after it (epoch milliseconds).
    """
    groups = list(log_groups) if log_groups is not None else _log_groups(logs)
    journey = Journey(message_id)
    queue: deque[tuple[str, str | None]] = deque([(message_id, None)])
    seen: set[tuple[int, str, str]] = set()
    emitted_by: dict[str, Hop] = {}  # message -> the hop whose line names it among its events
    while queue and len(journey.messages) < MAX_MESSAGES:
        current, caused_by = queue.popleft()
        if current in journey.messages:
            continue
        journey.messages.append(current)
        for group in groups:
            for event in _events(logs, group, current, start_ms):
                document = _document(str(event.get("message", "")))
                if document is None:
                    continue
                names = (document.get("cloudevent_id"), document.get("correlationid"), document.get("sqs_message_id"))
                if current not in names:
                    continue
                if current == document.get("sqs_message_id") and document.get("cloudevent_id"):
                    queue.append((str(document["cloudevent_id"]), caused_by))  # an SQS id: follow its CloudEvent
                hop = _hop(document, int(event.get("timestamp", 0)), group, caused_by)
                if hop is None:
                    continue
                key = (hop.at_ms, group, f"{hop.message_id}:{document.get('message')}")
                if key in seen:
                    continue
                seen.add(key)
                journey.hops.append(hop)
                for emitted in document.get("event_ids") or []:
                    emitted_by.setdefault(str(emitted), hop)
                    queue.append((str(emitted), hop.message_id))
    journey.hops.sort(key=lambda hop: _causal_key(hop, emitted_by))
    return journey


def _causal_key(hop: Hop, emitted_by: dict[str, Hop]) -> tuple[int, int, int, str]:
    """Sort by time, but never before the hop that emitted the message (nor before that hop's own cause)."""
    settled, depth, cause = hop.at_ms, 0, emitted_by.get(hop.message_id)
    while cause is not None and depth < MAX_MESSAGES:
        settled, depth = max(settled, cause.at_ms), depth + 1
        cause = emitted_by.get(cause.message_id)
    return settled, depth, hop.at_ms, hop.function
