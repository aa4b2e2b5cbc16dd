"""Dead letters one by one: retry, delete or correct-and-retry chosen messages of a queue's DLQ, and count its
messages by failure code.

A message is named by its SQS message id or its CloudEvent ``id`` (as ``dlq list`` shows them). The DLQ is received
from until every named message was seen or a receive comes back empty; the others are held invisible meanwhile and
released at the end, untouched (their receive count grows by one, harmless on a DLQ). A FIFO queue hands out a
group's messages only while none of them is in flight, so a message deeper than the first receive of its group (10
messages) is reached once those ahead of it were retried or deleted: it is then reported as not found.

- **retry** moves each found message back to its source queue as ``dlq redrive`` does (same body, so same
  ``source`` and ``id``; same group; the failure attributes dropped; ``redrive-count`` + 1; a new deduplication id),
  then deletes it from the DLQ.
- **delete** deletes the found messages.
- **edit-retry** sends a corrected body in place of the message: a CloudEvent with the same ``source`` and ``id``
  (the identity consumers deduplicate on, so a corrected command is still applied once), to the same group.

Example::

    result = retry(sqs, endpoints.queue("orders-command"), ["5b0c...", "9f1e..."])
    result.done, result.missing
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cli.endpoints import QueueEndpoint, UnknownName
from cli.queues import (
    REDRIVE_RUN_ATTRIBUTE,
    DeadLetter,
    _delete,
    _receive,
    _release,
    _send_back,
    cloud_event_identity,
    redrive_count,
    source_queue_url,
)

NO_CODE = "(no code: maxReceiveCount)"
"""What ``--group-by code`` calls a message SQS moved after ``maxReceiveCount`` receives (no failure attribute)."""
_BATCH = 10
MAX_RECEIVED = 1000
"""Messages received at most while looking for the named ones."""


class BadCorrection(ValueError):  # noqa: N818 - named after what is wrong, like the other CLI errors
    """A corrected body that is not a CloudEvent with the original's ``source`` and ``id``."""


@dataclass
class Outcome:
    """What an operation did: the ids it acted on (as given), those it did not find, and send failures."""

    queue: str
    action: str
    done: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def count_by_code(messages: Sequence[DeadLetter]) -> dict[str, int]:
    """How many of ``messages`` failed with each code, most frequent first.

    Example:
        >>> from cli.queues import DeadLetter
        >>> letters = [DeadLetter("m", None, None, None, code, None, None, None, None, "")
        ...            for code in ("not_json", None, "not_json")]
        >>> count_by_code(letters)
        {'not_json': 2, '(no code: maxReceiveCount)': 1}
    """
    counts = Counter(message.failure_code or NO_CODE for message in messages)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _matches(message: dict[str, Any], wanted: str) -> bool:
    return message.get("MessageId") == wanted or cloud_event_identity(str(message.get("Body", "")))[1] == wanted


def _select(sqs: Any, url: str, wanted: Sequence[str], visibility: int) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Receive until every id of ``wanted`` was found (or nothing more comes): found message per id, and the
    receipt handles of the others (held, to release)."""
    found: dict[str, dict[str, Any]] = {}
    held: list[str] = []
    received = 0
    while len(found) < len(wanted) and received < MAX_RECEIVED:
        batch = _receive(sqs, url, _BATCH, visibility)
        if not batch:
            break
        received += len(batch)
        for message in batch:
            name = next((w for w in wanted if w not in found and _matches(message, w)), None)
            if name is None:
                held.append(message["ReceiptHandle"])
            else:
                found[name] = message
    return found, held


def _dlq_of(queue: QueueEndpoint) -> str:
    if not queue.dead_letter_url:
        raise UnknownName(f"queue {queue.name} has no dead-letter queue output")
    return queue.dead_letter_url


def retry(sqs: Any, queue: QueueEndpoint, ids: Sequence[str], *, visibility: int = 60) -> Outcome:
    """Move the named messages of ``queue``'s DLQ back to ``queue`` (see the module notes)."""
    dlq = _dlq_of(queue)
    url = source_queue_url(queue, "retry")
    outcome = Outcome(queue.name, "retried")
    found, held = _select(sqs, dlq, ids, visibility)
    try:
        run = uuid.uuid4().hex
        by_message = {message["MessageId"]: name for name, message in found.items()}
        for name, message in found.items():  # one at a time: a failure never lets a later one overtake it
            sent, errors = _send_back(sqs, url, [message], run)
            if sent:
                _delete(sqs, dlq, [message])
                outcome.done.append(name)
            else:
                outcome.failed[by_message[message["MessageId"]]] = "; ".join(errors.values())
                held.append(message["ReceiptHandle"])
    finally:
        _release(sqs, dlq, held)
    outcome.missing = [name for name in ids if name not in found]
    return outcome


def delete(sqs: Any, queue: QueueEndpoint, ids: Sequence[str], *, visibility: int = 60) -> Outcome:
    """Delete the named messages of ``queue``'s DLQ."""
    dlq = _dlq_of(queue)
    outcome = Outcome(queue.name, "deleted")
    found, held = _select(sqs, dlq, ids, visibility)
    try:
        _delete(sqs, dlq, list(found.values()))
        outcome.done = list(found)
    finally:
        _release(sqs, dlq, held)
    outcome.missing = [name for name in ids if name not in found]
    return outcome


def check_correction(original_body: str, corrected: dict[str, Any]) -> str:
    """The corrected body as JSON text, if it keeps the original's ``source`` and ``id`` (else :class:`BadCorrection`).

    Example:
        >>> check_correction('{"id": "c-1", "source": "/web"}', {"id": "c-2", "source": "/web"})
        Traceback (most recent call last):
        ...
        cli.dead_letters.BadCorrection: the corrected message must keep id 'c-1' (it has 'c-2')
    """
    try:
        original = json.loads(original_body)
    except (ValueError, RecursionError):
        original = None
    if not isinstance(original, dict) or not isinstance(original.get("id"), str):
        raise BadCorrection("the dead letter is not a CloudEvent: there is no id and source to keep; delete it")
    for attribute in ("id", "source"):
        if corrected.get(attribute) != original.get(attribute):
            raise BadCorrection(f"the corrected message must keep {attribute} {original.get(attribute)!r} "
                                f"(it has {corrected.get(attribute)!r})")
    return json.dumps(corrected, separators=(",", ":"))


def edit_retry(sqs: Any, queue: QueueEndpoint, wanted: str, corrected: dict[str, Any], *,
               visibility: int = 60) -> Outcome:
    """Send ``corrected`` (a CloudEvent with the dead letter's ``source`` and ``id``) to ``queue`` in place of the
    dead letter ``wanted``, then delete the dead letter. Raises :class:`BadCorrection` before anything is sent."""
    dlq = _dlq_of(queue)
    url = source_queue_url(queue, "retry")
    outcome = Outcome(queue.name, "corrected and retried")
    found, held = _select(sqs, dlq, [wanted], visibility)
    try:
        message = found.get(wanted)
        if message is None:
            outcome.missing = [wanted]
            return outcome
        try:
            body = check_correction(str(message.get("Body", "")), corrected)
        except BadCorrection:
            held.append(message["ReceiptHandle"])
            raise
        system = message.get("Attributes") or {}
        params: dict[str, Any] = {
            "QueueUrl": url,
            "MessageBody": body,
            "MessageAttributes": {
                REDRIVE_RUN_ATTRIBUTE: {"DataType": "String", "StringValue": uuid.uuid4().hex},
                "redrive-count": {"DataType": "Number", "StringValue": str(redrive_count(message) + 1)},
            },
        }
        if url.endswith(".fifo"):
            params["MessageGroupId"] = system.get("MessageGroupId") or "redrive"
            digest = hashlib.sha256(f"edit\n{message['MessageId']}\n{body}".encode()).hexdigest()
            params["MessageDeduplicationId"] = digest
        sqs.send_message(**params)
        _delete(sqs, dlq, [message])
        outcome.done = [wanted]
        return outcome
    finally:
        _release(sqs, dlq, held)
