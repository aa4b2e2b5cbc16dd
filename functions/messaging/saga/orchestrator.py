"""The orchestrator: a consumer like the others, whose handlers apply a saga's transitions.

How messages reach it: everything a saga receives comes to the orchestrator's own FIFO queue (``SAGA_QUEUE_URL``) in
the saga's message group (its id): the starting command (sent with the saga id, its own id, as ``partitionkey``, or
any key: only the later messages need the saga's group), the participants' replies - the saga's commands carry
``replyto`` = that queue (so it must be on each participant's ``REPLY_TO_ALLOWLIST``) and ``partitionkey`` = the saga
id, which a reply keeps - and the timeout, a scheduled message (:mod:`messaging.delayed`) of type
``saga.Timeout``. A reply is routed to its saga by its ``correlationid`` (``<saga id>:<step>:<action>``,
:func:`~messaging.saga.engine.command_id`), so a saga's transitions are serial and each is applied once:

the consumer runs the handler in a unit of work; the handler reads the saga's state, applies one transition
(:mod:`messaging.saga.engine`) and stages the new state (``version`` + 1, on the condition that the stored version is
the one read) with the commands, the final reply and the timeout's schedule or cancellation as the message's outcome;
the consumer commits state and outcome in one write and sends after it. A redelivered message replays the stored
outcome (same ids: SQS, Scheduler and the participants deduplicate); a concurrent writer loses the version condition
and its message is retried on the new state.

Example::

    consumer = MessageConsumer(service="orders-saga")
    orchestrator = SagaOrchestrator(PLACE_ORDER, DynamoDbSagaRepository(os.environ["SAGA_TABLE_NAME"]))
    orchestrator.register(consumer)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from messaging.consumer import MessageConsumer
from messaging.context import MessageContext
from messaging.envelope import Envelope, ReplyOutcome, command, reply_to
from messaging.errors import ConfigurationError, InvalidAttribute
from messaging.saga import engine
from messaging.saga.definition import SagaDefinition
from messaging.saga.repository import SagaRepository
from messaging.saga.state import SagaState

SAGA_QUEUE_ENV = "SAGA_QUEUE_URL"
OVERDUE_GRACE_SECONDS = 60.0
"""A saga still running this long after its deadline is overdue (its timeout did not end it): ``SagasOverdue``."""
# Metric names (namespace of the consumer, dimension service), counted when a transition is staged: a transition
# retried after a lost commit counts again, so they are at-least-once counts.
SAGAS_STARTED, SAGAS_COMPLETED, SAGAS_REJECTED = "SagasStarted", "SagasCompleted", "SagasRejected"
SAGAS_FAILED, SAGAS_TIMED_OUT, SAGAS_OVERDUE = "SagasFailed", "SagasTimedOut", "SagasOverdue"
SAGA_METRICS = (SAGAS_STARTED, SAGAS_COMPLETED, SAGAS_REJECTED, SAGAS_FAILED, SAGAS_TIMED_OUT, SAGAS_OVERDUE)


class SagaOrchestrator:
    """Runs the sagas of one :class:`~messaging.saga.definition.SagaDefinition` on a
    :class:`~messaging.consumer.MessageConsumer` (see the module docstring).

    ``queues``: environment variable name -> queue URL (default: the process environment, read at each message),
    for the steps' queues and ``SAGA_QUEUE_URL``.
    """

    def __init__(
        self,
        saga: SagaDefinition,
        repository: SagaRepository | Callable[[], SagaRepository],
        *,
        queues: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.saga = saga
        self._repository = repository
        self._queues = queues
        self._clock = clock
        self._consumer: MessageConsumer | None = None

    @property
    def repository(self) -> SagaRepository:
        """The saga states (a factory given to the constructor is called on first use: no client at import)."""
        if not isinstance(self._repository, SagaRepository):
            self._repository = self._repository()
        return self._repository

    def register(self, consumer: MessageConsumer) -> None:
        """Register the start command, every reply and the timeout on ``consumer``."""
        self._consumer = consumer
        consumer.command(self.saga.starts_with, model=self.saga.model)(self.on_start)
        consumer.reply()(self.on_reply)
        consumer.command(self.saga.timeout_type)(self.on_timeout)

    # -- handlers -----------------------------------------------------------------------------------------------

    def on_start(self, data: Any, ctx: MessageContext) -> None:
        ctx.defer_reply()  # the starting command is answered when the saga ends
        data = data.model_dump(mode="json") if hasattr(data, "model_dump") else dict(data)
        request = ctx.envelope
        # No "does the saga exist?" short cut: the start's dedup record rides on the saga's item, so staging the
        # item again is how a retry finds the stored outcome (the commit loses the create condition and replays
        # the first command and the timeout's schedule); a short cut would commit an empty outcome instead and
        # leave the saga waiting for a command never sent. Another message claiming the id is a state conflict.
        requester = {"id": request.id, "source": request.source, "replyto": request.replyto,
                     "partitionkey": request.partitionkey, "type": request.type}
        transition = engine.start(self.saga, request.id, dict(data), requester, now=self._clock())
        self._apply(transition, ctx, previous_version=None)
        self._count(transition, None)

    def on_reply(self, data: dict[str, Any], ctx: MessageContext) -> None:
        reply = ctx.envelope
        parsed = engine.parse_command_id(reply.correlationid or "")
        if parsed is None:
            raise InvalidAttribute("the reply's correlationid names no saga step", field="correlationid")
        state = self.repository.get(parsed[0])
        if state is None:
            raise InvalidAttribute(f"no saga {parsed[0]}", field="correlationid")
        outcome = ReplyOutcome.from_data(reply.data)
        transition = engine.on_reply(self.saga, state, reply.correlationid or "", ok=outcome.ok,
                                     code=outcome.error_code, message_id=reply.id, now=self._clock())
        self._apply(transition, ctx, previous_version=state.version)
        self._count(transition, state.status)

    def on_timeout(self, data: dict[str, Any], ctx: MessageContext) -> None:
        saga_id = str(data.get("saga_id", ""))
        state = self.repository.get(saga_id)
        if state is None:
            raise InvalidAttribute(f"no saga {saga_id!r}", field="data.saga_id")
        transition = engine.on_timeout(self.saga, state, message_id=ctx.envelope.id, now=self._clock())
        self._apply(transition, ctx, previous_version=state.version)
        self._count(transition, state.status)

    # -- one transition -----------------------------------------------------------------------------------------

    def _queue(self, name: str) -> str:
        queues = self._queues if self._queues is not None else os.environ
        url = queues.get(name)
        if not url:
            raise ConfigurationError(f"{name} is not set: the saga sends there")
        return url

    def _count(self, transition: engine.Transition, previous_status: str | None) -> None:
        """Emit the saga metrics of this transition (EMF, namespace and service of the consumer)."""
        state, names = transition.state, []
        if previous_status is None:
            names.append(SAGAS_STARTED)
        if state.status != previous_status:
            names += {"completed": [SAGAS_COMPLETED], "rejected": [SAGAS_REJECTED], "failed": [SAGAS_FAILED]}.get(
                state.status, [])
        if transition.applied and state.history and state.history[-1]["kind"] == "timeout":
            names.append(SAGAS_TIMED_OUT)
        if state.status in ("running", "compensating") and self._clock() > state.deadline + OVERDUE_GRACE_SECONDS:
            names.append(SAGAS_OVERDUE)
        if self._consumer is None:
            return
        from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit  # noqa: PLC0415

        # every saga metric, zeros included (as the consumers do), so the dashboard shows 0 rather than a gap
        metrics = EphemeralMetrics(namespace=self._consumer.settings.metrics_namespace, service=self._consumer.service)
        for name in SAGA_METRICS:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=names.count(name))
        metrics.flush_metrics()

    def _apply(self, transition: engine.Transition, ctx: MessageContext, *, previous_version: int | None) -> None:
        state = transition.state
        self.repository.stage(state, previous_version=previous_version)
        own = self._queue(SAGA_QUEUE_ENV)
        for cmd in transition.commands:
            envelope = command(cmd.type, cmd.data, source=_source(ctx), partitionkey=state.saga_id, replyto=own,
                               id=engine.command_id(state.saga_id, cmd.step, cmd.action))
            ctx.send(self._queue(cmd.queue), envelope)
        timeout = self._timeout(state, ctx)
        if transition.schedule_timeout:
            ctx.send(own, timeout, deliver_at=datetime.fromtimestamp(state.deadline, tz=UTC))
        if transition.cancel_timeout:
            ctx.cancel_scheduled(own, timeout)
        if transition.final is not None:
            self._answer(state, transition.final, ctx)

    def _timeout(self, state: SagaState, ctx: MessageContext) -> Envelope:
        return command(self.saga.timeout_type, {"saga_id": state.saga_id}, source=_source(ctx),
                       partitionkey=state.saga_id, id=engine.timeout_id(state.saga_id))

    def _answer(self, state: SagaState, result: dict[str, Any], ctx: MessageContext) -> None:
        requester = state.requester
        if not requester.get("replyto"):
            return
        request = command(str(requester.get("type") or self.saga.starts_with), {}, source=requester["source"],
                          partitionkey=requester["partitionkey"], id=requester["id"], replyto=requester["replyto"])
        ctx.send(requester["replyto"], reply_to(request, ReplyOutcome.success(result), source=_source(ctx)))


def _source(ctx: MessageContext) -> str:
    """The orchestrator's own ``source`` (what the consumer stamps on what it emits)."""
    return ctx.source


__all__ = ["SAGA_QUEUE_ENV", "SagaOrchestrator"]
