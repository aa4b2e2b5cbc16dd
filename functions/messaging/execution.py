"""One record's way through a consumer after its checks: run the handler in a unit of work, commit its writes with
the message's dedup record (or get the stored outcome back for a duplicate), then hand its deliveries to the batch.

:func:`execute` applies a message at most once: the handler stages writes and emits events; the outcome (reply,
events, messages sent to queues) is built by the :class:`~messaging.outbox.Outbox` and committed in its compact form
with the writes (:class:`~messaging.unit_of_work.Committer`). A second run of the same (``source``, ``id``) loses the
commit's condition and gets the first outcome back, rebuilt by :meth:`~messaging.outbox.Outbox.replay`.
:func:`hand_over` queues what the record sends - or its dead letter - on the invocation's
:class:`~messaging.delivery.BatchDelivery`, which sends it after the batch's commits; the record's log line
(``message processed``, with the ids of what it sent) and its counts follow once it is delivered.

Example:
    >>> from messaging.envelope import command
    >>> content_check(command("t", {"a": 1}, source="/s", partitionkey="k")) == content_check(
    ...     command("t", {"a": 1}, source="/s", partitionkey="other"))
    True
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from messaging import unit_of_work
from messaging.delivery import Action, BatchDelivery
from messaging.envelope import Envelope, Kind, ReplyOutcome
from messaging.errors import (
    CommandRejected,
    ConcurrentWriteConflict,
    ConfigurationError,
    DeadlinePassed,
    MessageIdConflict,
    PermanentMessageError,
)
from messaging.fifo import dedup_id_of
from messaging.logs import processed_keys
from messaging.outbox import REPLIES_SENT, Outbox, Outcome
from messaging.unit_of_work import Committer, DedupRecord

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from messaging.context import MessageContext
    from messaging.contracts import MessageType

MESSAGES_PROCESSED = "MessagesProcessed"

#: Runs of a handler per delivery when its commit meets a concurrent write (another message changed the state it
#: read). The conflict is transient: each new run reads the new state. Retrying in the invocation costs milliseconds;
#: leaving it to SQS costs the queue's visibility timeout (minutes) and holds the message group meanwhile.
CONFLICT_ATTEMPTS = 3
#: Upper bound of the random pause before the n-th new run, times n (seconds): full jitter, so two writers of one
#: hot item part ways.
CONFLICT_PAUSE_SECONDS = 0.02


def as_result(returned: Any) -> dict[str, Any]:
    """A command handler's return value as the reply's ``result``."""
    if returned is None:
        return {}
    if hasattr(returned, "model_dump"):  # a pydantic model (pydantic is imported by the services that use models)
        return dict(returned.model_dump(mode="json"))
    if isinstance(returned, Mapping):
        return dict(returned)
    raise TypeError(f"a command handler must return a mapping, a pydantic model or None, not {type(returned).__name__}")


def content_check(envelope: Envelope) -> str:
    """Digest of what a message says (``type`` and ``data``): a reuse of its (``source``, ``id``) with other content
    is a :class:`~messaging.errors.MessageIdConflict`, not a duplicate."""
    canonical = json.dumps([envelope.type, envelope.data or {}], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def execute(
    handler: Callable[[Any, MessageContext], Any],
    payload: Any,
    ctx: MessageContext,
    *,
    idempotent: bool,
    outbox: Outbox,
    committer: Callable[[], Committer],
    catalogue: Mapping[str, MessageType],
    expires_at: Callable[[], int],
    pause: Callable[[float], None] = time.sleep,
) -> tuple[Outcome, bool]:
    """Run ``handler`` in a unit of work, then commit its writes with the dedup record; return (outcome, duplicate).
    A duplicate returns the outcome the first commit stored, rebuilt. ``idempotent=False`` keeps no record.

    A commit that meets a concurrent write (:class:`~messaging.errors.ConcurrentWriteConflict`: the state the handler
    read changed) runs the handler again on the new state, at most :data:`CONFLICT_ATTEMPTS` runs in all, each with
    a fresh context (what the lost run emitted is dropped); the last conflict is raised and SQS retries the message.
    """
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            return _execute_once(handler, payload, ctx, idempotent=idempotent, outbox=outbox, committer=committer,
                                 catalogue=catalogue, expires_at=expires_at)
        except ConcurrentWriteConflict as conflict:
            if attempt == CONFLICT_ATTEMPTS:
                raise
            ctx.logger.info("concurrent write; running the handler again on the new state",
                            extra={"attempt": attempt + 1, "conflict": str(conflict)})
            ctx.restart()
            pause(random.uniform(0, CONFLICT_PAUSE_SECONDS * attempt))  # noqa: S311 - jitter, not security
    raise AssertionError("unreachable")  # pragma: no cover


def _execute_once(
    handler: Callable[[Any, MessageContext], Any],
    payload: Any,
    ctx: MessageContext,
    *,
    idempotent: bool,
    outbox: Outbox,
    committer: Callable[[], Committer],
    catalogue: Mapping[str, MessageType],
    expires_at: Callable[[], int],
) -> tuple[Outcome, bool]:
    request = ctx.envelope
    with unit_of_work.unit_of_work() as work:
        try:
            returned = handler(payload, ctx)
        except CommandRejected as rejected:
            if request.kind is not Kind.COMMAND:
                raise
            work.clear()  # a rejection has no effects
            ctx.logger.info("command rejected", extra={"code": rejected.code, "reason": rejected.message})
            failure = ReplyOutcome.failure(rejected.code, rejected.message)
            result = outbox.outcome(request, failure, events=(), at=ctx.time, traceparent=ctx.traceparent)
        else:
            replies = request.kind is Kind.COMMAND and not ctx.reply_deferred
            outcome = ReplyOutcome.success(as_result(returned)) if replies else None
            result = outbox.outcome(request, outcome, events=ctx.emitted, outgoing=ctx.outgoing, at=ctx.time,
                                    catalogue=catalogue, traceparent=ctx.traceparent)
    if not idempotent:
        if work.writes:
            raise ConfigurationError(f"{request.type}: a handler registered idempotent=False staged writes")
        return result, False
    remaining = ctx.remaining_time_in_millis()
    if remaining is not None and remaining <= 0:
        # A timed-out run that carries on (its calls were in flight) must not commit: its retry already runs.
        raise DeadlinePassed(f"the invocation timed out before {request.id} was committed")
    record = DedupRecord(
        key=dedup_id_of(request.source, request.id),
        check=content_check(request),
        outcome=json.dumps(result.stored, separators=(",", ":")),
        expires_at=expires_at(),
    )
    commit = committer().commit(work.writes, record)
    if commit.committed or commit.stored is None:
        return result, False
    if commit.stored.check != record.check:
        raise MessageIdConflict()
    return outbox.replay(request, json.loads(commit.stored.outcome), catalogue), True


@contextmanager
def _record_keys(logger: Logger, keys: Mapping[str, Any]) -> Iterator[None]:
    """The log keys of a record around what is logged for it after the batch (its delivery)."""
    logger.thread_safe_append_keys(**keys)
    try:
        yield
    finally:
        logger.thread_safe_remove_keys(list(keys))


def hand_over(
    delivery: BatchDelivery,
    record: SQSRecord,
    envelope: Envelope | None,
    outcome: Outcome | PermanentMessageError,
    *,
    duplicate: bool,
    outbox: Outbox,
    logger: Logger,
    counts: Counter[str],
    log_keys: Mapping[str, Any],
) -> None:
    """Queue what ``record`` sends (``outcome``'s deliveries, or its dead letter for a
    :class:`~messaging.errors.PermanentMessageError`) on ``delivery``, in the record's message group. Failure policy:
    a delivery SNS/SQS refuse for good dead-letters the record; anything else fails it, and the rest of its group:
    SQS retries them. ``log_keys`` are the record's log keys, put back on its lines logged after the batch."""

    def dead_letter(reason: PermanentMessageError) -> None:
        with _record_keys(logger, log_keys):
            outbox.dead_letter(record, reason, envelope, counts)

    def failed(exc: Exception) -> None:
        with _record_keys(logger, log_keys):
            logger.warning("delivery failed; SQS will retry", extra={"error": str(exc)})

    group = record.attributes.message_group_id
    if isinstance(outcome, PermanentMessageError) or envelope is None:
        reason = outcome if isinstance(outcome, PermanentMessageError) else PermanentMessageError("no message")
        step = Action(lambda: dead_letter(reason), name=f"dead letter {record.message_id}")
        delivery.add(record.message_id, group, [step], on_failed=failed)
        return
    steps, sent = outbox.plan(envelope, outcome)
    kind = envelope.kind.value

    def delivered() -> None:
        counts[MESSAGES_PROCESSED] += 1
        counts[REPLIES_SENT] += 1 if "reply_id" in sent else 0
        # One line per message (what happened, the events and the reply it sent): the record of its journey. The
        # record's keys ride on the line itself (the logger holds no record's keys after the batch): the same line
        # as with the keys appended to the logger, without appending and removing them.
        logger.info("message processed", extra={**log_keys, **processed_keys(kind, duplicate=duplicate, sent=sent)})

    delivery.add(record.message_id, group, steps, on_delivered=delivered, on_rejected=dead_letter, on_failed=failed)
