"""Where a message is now: waiting in a queue (which, since when, in which group, behind what), in its dead-letter
queue (failure code and reason, how many times redriven), or nowhere in a queue (then its log lines say whether it
is done or in flight; see :mod:`cli.trace`).

A message is looked for by its CloudEvent ``id`` or its SQS message id in every service queue and dead-letter queue of
the system, with the non-destructive peek of ``dlq list`` (:func:`cli.queues.peek`: received with a short visibility
timeout, released at once). SQS offers no other way to look into a queue, so a peek counts one receive on each
message it sees and briefly holds its group; on a DLQ that is harmless, on a source queue the message is released
before the trigger's next poll could want it. A FIFO peek sees the head of each group that is not in flight: a
message behind one that is being processed is not visible to anybody, the peek included.

Example:
    >>> location = Location(state=WAITING, queue="orders-commands.fifo", group="customer-7", ahead=("c-1",),
    ...                     sqs_message_id="m-2", cloudevent_id="c-2", trigger="disabled")
    >>> print(location.describe())
    waiting in orders-commands.fifo, group customer-7, behind 1 message(s) of its group (c-1); its trigger is disabled
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cli.endpoints import QueueEndpoint
from cli.queues import cloud_event_identity, peek, queue_name_of, redrive_count
from cli.trace import Journey

WAITING, DEAD_LETTERED = "waiting", "dead-lettered"
PEEK_LIMIT = 100
"""Messages looked at per queue."""
MAX_AHEAD_SHOWN = 3


@dataclass(frozen=True)
class Location:
    """Where a message was found: its queue, group, what is ahead of it, and for a dead letter why it is there."""

    state: str
    queue: str
    group: str | None = None
    since: datetime | None = None
    ahead: tuple[str, ...] = ()
    """CloudEvent ids (or SQS ids) of the messages of its group ahead of it, oldest first."""
    sqs_message_id: str | None = None
    cloudevent_id: str | None = None
    type: str | None = None
    receive_count: int | None = None
    failure_code: str | None = None
    failure_reason: str | None = None
    times_redriven: int = 0
    trigger: str | None = None
    """The state of the trigger that consumes the queue (``enabled``, ``disabled``, ``failing``), None: none."""

    def describe(self, now: datetime | None = None) -> str:
        """One line for people."""
        since = ""
        if self.since is not None:
            waited = ((now or datetime.now(UTC)) - self.since).total_seconds()
            since = f" since {self.since:%Y-%m-%d %H:%M:%S} UTC ({max(0, waited):.0f} s)"
        group = f", group {self.group}" if self.group else ""
        redriven = f", redriven {self.times_redriven} time(s)" if self.times_redriven else ""
        if self.state == DEAD_LETTERED:
            code = self.failure_code or "no code: SQS moved it after maxReceiveCount receives"
            reason = f": {self.failure_reason}" if self.failure_reason else ""
            return f"in the dead-letter queue {self.queue}{since}{group}, failure {code}{reason}{redriven}"
        shown = ", ".join(self.ahead[:MAX_AHEAD_SHOWN]) + (", ..." if len(self.ahead) > MAX_AHEAD_SHOWN else "")
        ahead = f", behind {len(self.ahead)} message(s) of its group ({shown})" if self.ahead else (
            ", first of its group" if self.group else "")
        trigger = f"; its trigger is {self.trigger}" if self.trigger else ""
        return f"{self.state} in {self.queue}{since}{group}{ahead}{redriven}{trigger}"

    def as_dict(self) -> dict[str, Any]:
        record = dict(vars(self))
        record["since"] = self.since.isoformat() if self.since else None
        record["ahead"] = list(self.ahead)
        return record


def find_in(messages: Sequence[dict[str, Any]], wanted: str) -> int | None:
    """The index of the message ``wanted`` names (SQS message id or CloudEvent id) among received ``messages``."""
    for index, message in enumerate(messages):
        if message.get("MessageId") == wanted or cloud_event_identity(str(message.get("Body", "")))[1] == wanted:
            return index
    return None


def _location(state: str, url: str, messages: Sequence[dict[str, Any]], index: int, trigger: str | None) -> Location:
    message = messages[index]
    system = message.get("Attributes") or {}
    attributes = message.get("MessageAttributes") or {}
    group = system.get("MessageGroupId")
    ahead = tuple(cloud_event_identity(str(m.get("Body", "")))[1] or str(m.get("MessageId")) for m in messages[:index]
                  if group is not None and (m.get("Attributes") or {}).get("MessageGroupId") == group)
    sent = system.get("SentTimestamp")
    kind, ident = cloud_event_identity(str(message.get("Body", "")))
    count = system.get("ApproximateReceiveCount")
    return Location(
        state=state,
        queue=queue_name_of(url),
        group=group,
        since=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        ahead=ahead if state == WAITING else (),
        sqs_message_id=message.get("MessageId"),
        cloudevent_id=ident,
        type=kind,
        receive_count=int(count) - 1 if count else None,  # less the peek's own receive
        failure_code=(attributes.get("failure-code") or {}).get("StringValue"),
        failure_reason=(attributes.get("failure-reason") or {}).get("StringValue"),
        times_redriven=redrive_count(message),
        trigger=trigger,
    )


TriggerState = Callable[[str], str | None]
"""Queue URL -> the state of the trigger consuming it (None: no trigger)."""


def locate(sqs: Any, queues: Sequence[QueueEndpoint], wanted: str, *, trigger_state: TriggerState | None = None,
           limit: int = PEEK_LIMIT) -> Location | None:
    """Find ``wanted`` (a CloudEvent id or an SQS message id) in the dead-letter queues, then the queues, of
    ``queues``; None when no peek saw it (done, in flight, or deeper than ``limit``)."""
    for queue in queues:
        if queue.dead_letter_url:
            messages = peek(sqs, queue.dead_letter_url, limit=limit)
            index = find_in(messages, wanted)
            if index is not None:
                return _location(DEAD_LETTERED, queue.dead_letter_url, messages, index, None)
    for queue in queues:
        if queue.url:
            messages = peek(sqs, queue.url, limit=limit)
            index = find_in(messages, wanted)
            if index is not None:
                state = trigger_state(queue.url) if trigger_state is not None else None
                return _location(WAITING, queue.url, messages, index, state)
    return None


def lambda_trigger_state(sqs: Any, lambda_client: Any) -> TriggerState:
    """The trigger state of a queue from Lambda ``ListEventSourceMappings`` (``enabled`` / ``disabled``)."""

    def state(url: str) -> str | None:
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        mappings = lambda_client.list_event_source_mappings(EventSourceArn=arn).get("EventSourceMappings", [])
        if not mappings:
            return None
        states = {str(m.get("State", "")).lower() for m in mappings}
        return "enabled" if "enabled" in states else ", ".join(sorted(states))

    return state


def summarize(journey: Journey, location: Location | None) -> str:
    """Where the message of ``journey`` is now, in one line: its queue if one holds it, else what its last hop says
    (done with N hops; in flight while SQS retries it; unknown)."""
    if location is not None:
        return location.describe()
    last = journey.hops[-1] if journey.hops else None
    if last is None:
        return "unknown: no queue holds it and no log line mentions it"
    if last.what.startswith("failed"):
        return (f"in flight: {last.function} failed on it at {last.time} UTC and SQS will deliver it again after its "
                "visibility timeout")
    if last.what.startswith("dead-lettered"):
        return f"dead-lettered by {last.function} at {last.time} UTC ({last.detail}), no longer in its DLQ"
    return f"done: {len(journey.hops)} hop(s), the last {last.what} in {last.function} at {last.time} UTC"
