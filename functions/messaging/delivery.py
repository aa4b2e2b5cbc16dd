"""Delivery per Lambda batch: what the records of one batch send leaves after the batch's commits, in as few calls as
the APIs allow, without ever reordering a message group.

The consumer runs and commits every record of a Lambda batch first; each committed record hands its deliveries to a
:class:`BatchDelivery` (its events for the topic, the messages it sends to queues, its reply, a scheduled message,
or its dead letter). :meth:`BatchDelivery.deliver` then sends them in *rounds*: each round makes one ``PublishBatch``
per topic and one ``SendMessageBatch`` per queue (10 entries and 256 KiB per call, :mod:`messaging.channels`), and
the records whose deliveries failed come back, with every later record of their group, for ``batchItemFailures``.

Why rounds. AWS documents that the entries of one FIFO batch call are enqueued in the order sent and that the result
of each entry is reported individually; it does not say that a failed entry stops the later entries of its message
group. LocalStack's SQS provider (whose ``SendMessageBatch`` tests are validated against AWS) puts every entry on its
own: an entry that fails does not stop the next one, and AWS's recorded answers show a batch with one ``Failed`` and
one ``Successful`` entry. So if two messages of one group travel in one call and the first fails transiently, the
second may be enqueued ahead of it: the group is reordered for good (the first goes out only on the retry). The rules:

1. *One entry per chain per call.* A chain is a destination and a ``MessageGroupId``; a record sends at most the first
   pending message of each of its chains per round (and a round never two messages with one id to one
   destination). Messages of distinct groups share calls, so the usual batch (records of distinct shards) costs one
   call per destination. Records of *distinct* incoming groups may put messages of one chain in one call: the source
   queue defines no order between them either (Lambda runs distinct groups concurrently), so nothing is reordered.
2. *A record's reply after the rest of its deliveries* (stages): whoever gets the reply may rely on the events being
   published, as with delivery per record.
3. *Records of one group one after the other.* The records of one incoming message group are delivered in batch
   order: a record's deliveries start only once every delivery of the group's earlier records succeeded, so no
   record's deliveries ever go out before those of an earlier record of its group, whatever the destination.
4. *A failure stops the group.* An entry that fails transiently (throttling, a server error, an unreachable endpoint)
   fails its record and every later record of the group: they are reported in ``batchItemFailures``, their commits
   are kept, and the retry is a duplicate that replays the stored outcome with the same ids, so SNS/SQS deduplicate
   whatever the first attempt got through and downstream consumers recognise it. An entry refused for good (the
   sender's fault, :func:`messaging.failures.rejection_of`) dead-letters its record, as before, and its group moves
   on. A whole call refused as the sender's fault is sent again entry by entry (:mod:`messaging.channels`), so the
   refusal lands on the one message at fault.

Example:
    >>> from messaging.envelope import event
    >>> class Topic:
    ...     calls = []
    ...     def publish_batch(self, envelopes):
    ...         self.calls.append([e.id for e in envelopes])
    ...         return BatchResult(succeeded=[e.id for e in envelopes])
    >>> topic = Topic()
    >>> batch = BatchDelivery(publisher=lambda: topic, queue=lambda url: None)
    >>> for n, key in enumerate(["c-1", "c-2", "c-1"]):
    ...     evt = event("orders.OrderCreated", {}, source="/orders", partitionkey=key, id=f"e-{n}")
    ...     batch.add(f"m-{n}", key, [Message(evt)])
    >>> batch.deliver(), topic.calls
    ([], [['e-0', 'e-1'], ['e-2']])
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from messaging.channels import NO_RESULT, BatchResult, FailedEntry
from messaging.envelope import Envelope
from messaging.errors import DeliveryRejected, PermanentMessageError, PublishFailed
from messaging.failures import is_sender_fault, rejection_of
from messaging.fifo import message_group_id

__all__ = ["PRECEDING_FAILED", "Action", "BatchDelivery", "BatchSender", "Message", "send_in_order"]

PRECEDING_FAILED = "PrecedingMessageFailed"
"""Code of a message :func:`send_in_order` did not send because an earlier message of its group failed."""


class BatchSender(Protocol):
    """Where the messages of one destination go: a publisher (``publish_batch``) or a queue sender (``send_batch``)
    adapted to one callable: envelopes in, a :class:`~messaging.channels.BatchResult` out."""

    def __call__(self, envelopes: Sequence[Envelope]) -> BatchResult: ...


@dataclass(frozen=True, slots=True)
class Message:
    """A message to deliver: to the consumer's event topic (``queue_url`` None) or to an SQS queue; ``stage`` orders
    the deliveries of one record (a reply is stage 1: it waits for the events and sends of stage 0)."""

    envelope: Envelope
    queue_url: str | None = None
    stage: int = 0

    @property
    def destination(self) -> str:
        return self.queue_url or ""

    def chains(self) -> tuple[tuple[str, str, str], ...]:
        return (("group", self.destination, message_group_id(self.envelope)),)

    def identity(self) -> tuple[str, str, str]:
        return ("id", self.destination, self.envelope.id)


@dataclass(frozen=True, slots=True)
class Action:
    """A delivery that is a call of its own (a schedule, its cancellation, a dead letter); ``run`` raises on failure."""

    run: Callable[[], None]
    name: str
    stage: int = 0

    def chains(self) -> tuple[tuple[str, str, str], ...]:
        return (("action", self.name, str(id(self))),)

    def identity(self) -> tuple[str, str, str]:
        return self.chains()[0]


Step = Message | Action


def _never(_: DeliveryRejected) -> None:
    raise AssertionError("unreachable")


@dataclass(eq=False)
class _Record:
    key: str
    steps: list[Step]
    on_delivered: Callable[[], None]
    on_rejected: Callable[[DeliveryRejected], None] | None
    on_failed: Callable[[Exception], None]
    done: list[bool] = field(default_factory=list)
    error: Exception | None = None
    rejected: DeliveryRejected | None = None

    def __post_init__(self) -> None:
        self.done = [False] * len(self.steps)

    @property
    def complete(self) -> bool:
        return all(self.done)

    def eligible(self) -> list[int]:
        """The steps this record may send now: of its lowest unfinished stage, the first pending one of each chain."""
        pending = [i for i, done in enumerate(self.done) if not done]
        if not pending:
            return []
        stage = min(self.steps[i].stage for i in pending)
        seen: set[tuple[str, str, str]] = set()
        chosen = []
        for i in pending:
            if self.steps[i].stage != stage:
                continue
            chains = self.steps[i].chains()
            if not seen.intersection(chains):
                chosen.append(i)
            seen.update(chains)
        return chosen

    def fail(self, error: Exception) -> None:
        rejected = error if isinstance(error, DeliveryRejected) else rejection_of(error)
        if rejected is not None and self.on_rejected is not None:
            self.rejected = self.rejected or rejected
        else:
            self.error = self.error or error


class BatchDelivery:
    """Collects the deliveries of a batch's records, then sends them in rounds (see the module docstring).

    ``publisher`` gives the event topic's publisher (asked for on the first event), ``queue`` a queue's sender by URL.
    """

    def __init__(
        self,
        *,
        publisher: Callable[[], object],
        queue: Callable[[str], object],
    ) -> None:
        self._publisher = publisher
        self._queue = queue
        self._groups: dict[str, deque[_Record]] = {}
        self._order: list[str] = []
        self.calls = 0
        """Calls made so far (batch calls and actions), for tests and logs."""

    def add(
        self,
        key: str,
        group: str | None,
        steps: Sequence[Step],
        *,
        on_delivered: Callable[[], None] = lambda: None,
        on_rejected: Callable[[DeliveryRejected], None] | None = None,
        on_failed: Callable[[Exception], None] = lambda error: None,
    ) -> None:
        """Queue the deliveries of the record ``key`` (its SQS message id) of message ``group`` (``None``: a record
        of a standard queue, ordered with nothing). ``on_delivered`` runs once all went out, ``on_rejected`` when one
        was refused for good (it dead-letters the record; if it raises, the record fails), ``on_failed`` when the
        record fails (transiently) or follows a failed record of its group (then with :class:`PublishFailed`)."""
        record = _Record(key, list(steps), on_delivered, on_rejected, on_failed)
        self._groups.setdefault(group if group is not None else f"\0{key}", deque()).append(record)
        self._order.append(key)

    def deliver(self) -> list[str]:
        """Send everything queued; return the keys of the records to report in ``batchItemFailures``, in the order
        they were added."""
        failed: set[str] = set()
        self._settle(failed)
        while self._groups:
            self._round()
            self._settle(failed)
        return [key for key in self._order if key in failed]

    # -- one round --------------------------------------------------------------------------------------------------

    def _round(self) -> None:
        taken: set[tuple[str, str, str]] = set()
        messages: dict[str | None, list[tuple[_Record, int]]] = {}
        actions: list[tuple[_Record, int]] = []
        for records in self._groups.values():
            head = records[0]
            for index in head.eligible():
                step = head.steps[index]
                if step.identity() in taken:  # one message per id and destination in a call (results map by id)
                    continue
                taken.add(step.identity())
                if isinstance(step, Message):
                    messages.setdefault(step.queue_url, []).append((head, index))
                else:
                    actions.append((head, index))
        for record, index in actions:
            step = record.steps[index]
            assert isinstance(step, Action)
            self.calls += 1
            try:
                step.run()
            except Exception as exc:
                record.fail(exc)
            else:
                record.done[index] = True
        for queue_url, entries in messages.items():
            self._send(queue_url, entries)

    def _sender(self, queue_url: str | None) -> BatchSender:
        if queue_url is None:
            publisher = self._publisher()
            return publisher.publish_batch  # type: ignore[attr-defined,no-any-return]
        return self._queue(queue_url).send_batch  # type: ignore[attr-defined,no-any-return]

    def _send(self, queue_url: str | None, entries: list[tuple[_Record, int]]) -> None:
        envelopes = [record.steps[index].envelope for record, index in entries]  # type: ignore[union-attr]
        try:
            result = self._sender(queue_url)(envelopes)
        except Exception as exc:
            self.calls += 1
            error: Exception = exc
            if isinstance(exc, PermanentMessageError) and len(entries) > 1:
                for entry in entries:  # find the message at fault
                    self._send(queue_url, [entry])
                return
            if isinstance(exc, PermanentMessageError):
                error = DeliveryRejected(f"the message cannot be sent: {exc}")
            for record, _ in entries:
                record.fail(error)
            return
        self.calls += max(1, result.calls)
        by_id = {envelope.id: position for position, envelope in enumerate(envelopes)}
        for envelope_id in result.succeeded:
            record, index = entries[by_id[envelope_id]]
            record.done[index] = True
        for failure in result.failed:
            record, _ = entries[by_id[failure.id]]
            record.fail(_failure(failure))
        answered = {*result.succeeded, *(failure.id for failure in result.failed)}
        for envelope, (record, _) in zip(envelopes, entries, strict=True):
            if envelope.id not in answered:  # not known to be sent: retried, never dropped
                record.fail(PublishFailed([(envelope.id, NO_RESULT, "the answer did not mention this message")]))

    # -- after a round -------------------------------------------------------------------------------------------

    def _settle(self, failed: set[str]) -> None:
        """Finish the records at the head of each group that are done, rejected or failed; a failed record fails
        the rest of its group."""
        for group in list(self._groups):
            records = self._groups[group]
            while records:
                head = records[0]
                if head.rejected is not None and head.error is None:
                    try:
                        (head.on_rejected or _never)(head.rejected)
                    except Exception as exc:
                        head.error = exc
                    else:
                        records.popleft()
                        continue
                if head.error is not None:
                    head.on_failed(head.error)
                    failed.add(head.key)
                    records.popleft()
                    for later in records:
                        later.on_failed(PublishFailed([(later.key, PRECEDING_FAILED, "an earlier record of its group "
                                                        "was not delivered")]))
                        failed.add(later.key)
                    records.clear()
                    break
                if head.complete:
                    head.on_delivered()
                    records.popleft()
                    continue
                break
            if not records:
                del self._groups[group]


def _failure(entry: FailedEntry) -> Exception:
    if is_sender_fault(entry.code, sender_fault=entry.sender_fault):
        return DeliveryRejected(f"the broker refused the message for good: {entry.code}: {entry.message}")
    return PublishFailed([(entry.id, entry.code, entry.message)], [entry.sender_fault])


def send_in_order(envelopes: Sequence[Envelope], send_batch: BatchSender) -> BatchResult:
    """Send ``envelopes`` with as few batch calls as order allows: each round sends the first unsent message of every
    group (10 per call, 256 KiB), so a failed message is never overtaken by a later one of its group; the later ones
    are not sent and come back failed with the code :data:`PRECEDING_FAILED` (not the sender's fault). Every message
    is in the result, succeeded or failed.

    Example:
        >>> from messaging.envelope import command
        >>> calls = []
        >>> def send(envelopes):
        ...     calls.append([e.id for e in envelopes])
        ...     bad = [FailedEntry(e.id, "InternalError", "try again", False) for e in envelopes if e.id == "a-1"]
        ...     return BatchResult([e.id for e in envelopes if e.id != "a-1"], bad)
        >>> msgs = [command("t", {}, source="/s", partitionkey=k, id=i) for k, i in [("a", "a-1"), ("b", "b-1"),
        ...                                                                          ("a", "a-2"), ("b", "b-2")]]
        >>> result = send_in_order(msgs, send)
        >>> calls, result.succeeded, [(f.id, f.code) for f in result.failed]
        ([['a-1', 'b-1'], ['b-2']], ['b-1', 'b-2'], [('a-1', 'InternalError'), ('a-2', 'PrecedingMessageFailed')])
    """
    pending: dict[str, deque[Envelope]] = {}
    for envelope in envelopes:
        pending.setdefault(message_group_id(envelope), deque()).append(envelope)
    result = BatchResult()
    while pending:
        heads = [queue[0] for queue in pending.values()]
        answer = send_batch(heads)
        result.calls += max(1, answer.calls)
        result.succeeded.extend(answer.succeeded)
        result.failed.extend(answer.failed)
        failed_ids = {entry.id for entry in answer.failed}
        for group in list(pending):
            queue = pending[group]
            head = queue.popleft()
            if head.id in failed_ids:
                result.failed.extend(
                    FailedEntry(later.id, PRECEDING_FAILED, f"not sent: {head.id} of its group failed", False)
                    for later in queue
                )
                queue.clear()
            if not queue:
                del pending[group]
    return result
