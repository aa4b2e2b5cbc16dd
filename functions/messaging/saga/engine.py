"""The saga's transitions, as pure functions of (definition, state, message): the new state and what to send.

No I/O here: the orchestrator (:mod:`messaging.saga.orchestrator`) loads the state, applies one transition and commits
the new state together with the messages through the unit of work. The rules:

- **start**: step 1 ``running``, its command sent, the timeout scheduled at the deadline.
- **a success reply to the running step**: it is ``done``; the next step's command is sent, or, after the last, the
  saga is ``completed`` and the starting command answered ``approved`` (the timeout schedule is deleted).
- **a failure reply to the running step** (its ``code``) or **the timeout** while a step runs (code ``timeout``; the
  step is ``abandoned``): the done steps are compensated one at a time in reverse order, each by its compensation
  command sent once; when none is left the saga is ``rejected`` and the starting command answered so.
- **a success reply to a compensation**: that step is ``compensated``; the next one back is undone, or the saga ends.
- **a failure reply to a compensation**: the saga is ``failed`` with the reason (an operator's job), nothing more sent.
- **a late success reply to an abandoned step** (its participant answered after the deadline): that step was done after
  all, so it is compensated too (once) - the saga's outcome does not change.
- anything else (a duplicate, an answer to a step not awaited, a timeout after the end) is recorded ``ignored``.

Message ids are derived from the saga and the step (:func:`command_id`): ``<saga id>:<step>:do`` / ``:undo``, the
timeout ``<saga id>:timeout``; a retried transition sends the very same messages, which the participants' and SQS's
deduplication absorb. The participants reply with ``correlationid`` = that id, which names the saga and the step.

Example:
    >>> from datetime import timedelta
    >>> from messaging.saga.definition import SagaDefinition, Step
    >>> saga = SagaDefinition("t.Start", (Step("a", "p.DoA", "Q_A", compensation="p.UndoA"),), timedelta(seconds=30))
    >>> t = start(saga, "s-1", {"x": 1}, {"id": "s-1", "source": "/web", "replyto": None, "partitionkey": "k"}, now=0)
    >>> [(c.step, c.action, c.type) for c in t.commands], t.state.steps
    ([('a', 'do', 'p.DoA')], {'a': 'running'})
    >>> t = on_reply(saga, t.state, command_id("s-1", "a", "do"), ok=True, code=None, message_id="r-1", now=1)
    >>> t.state.status, t.final
    ('completed', {'status': 'approved'})
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from messaging.saga.definition import SagaDefinition
from messaging.saga.state import SagaState

DO, UNDO = "do", "undo"
TIMEOUT_CODE = "timeout"


def command_id(saga_id: str, step: str, action: str) -> str:
    """The id of a saga's command: derived from the saga, the step and the action (``do`` / ``undo``)."""
    return f"{saga_id}:{step}:{action}"


def timeout_id(saga_id: str) -> str:
    """The id of a saga's timeout message."""
    return f"{saga_id}:timeout"


def parse_command_id(correlation_id: str) -> tuple[str, str, str] | None:
    """(saga id, step, action) of a reply's ``correlationid``, or None when it is not a saga command's id.

    Example:
        >>> parse_command_id("0b1c:credit:undo")
        ('0b1c', 'credit', 'undo')
    """
    parts = correlation_id.rsplit(":", 2)
    if len(parts) != 3 or parts[2] not in (DO, UNDO) or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1], parts[2]


@dataclass(frozen=True, slots=True)
class Command:
    """A command the transition sends to a participant."""

    step: str
    action: str
    type: str
    queue: str
    data: dict[str, Any]


@dataclass
class Transition:
    """The new state and what leaves with it: commands, the final answer (``final``: the result of the starting
    command's reply), and whether the timeout is scheduled or cancelled. ``applied`` False: the message was only
    recorded (ignored)."""

    state: SagaState
    commands: list[Command] = field(default_factory=list)
    final: dict[str, Any] | None = None
    schedule_timeout: bool = False
    cancel_timeout: bool = False
    applied: bool = True


def _entry(kind: str, message_id: str, now: float, **details: Any) -> dict[str, Any]:
    return {"kind": kind, "message_id": message_id, "at": now, **{k: v for k, v in details.items() if v is not None}}


def start(saga: SagaDefinition, saga_id: str, data: dict[str, Any], requester: dict[str, Any], *,
          now: float) -> Transition:
    """The saga's first transition: step 1 runs, the timeout is scheduled."""
    state = SagaState.new(saga_id, saga.starts_with, {**data, "saga_id": saga_id}, [s.name for s in saga.steps],
                          deadline=now + saga.deadline.total_seconds(), requester=requester)
    state.history.append(_entry("start", requester["id"], now))
    first = saga.steps[0]
    state.steps[first.name] = "running"
    return Transition(state, [Command(first.name, DO, first.command, first.queue, first.data(state.data))],
                      schedule_timeout=True)


def _next(state: SagaState) -> SagaState:
    nxt = copy.deepcopy(state)
    nxt.version += 1
    return nxt


def _compensate_next(saga: SagaDefinition, state: SagaState, transition: Transition) -> None:
    """Undo the last done step (one at a time, in reverse order), or end the saga ``rejected``."""
    for step in reversed(saga.steps):
        if state.steps[step.name] == "done":
            if step.compensation is None:
                state.steps[step.name] = "compensated"
                continue
            state.steps[step.name] = "compensating"
            state.status = "compensating"
            transition.commands.append(
                Command(step.name, UNDO, step.compensation, step.queue, step.compensation_data(state.data)))
            return
    if any(status == "compensating" for status in state.steps.values()):
        state.status = "compensating"  # a late answer's compensation is still awaited
        return
    if state.status != "rejected":
        assert state.reason is not None
        state.status = "rejected"
        state.result = saga.rejected(state.data, state.reason["step"], state.reason["code"])
        transition.final = state.result
        transition.cancel_timeout = True


def on_reply(saga: SagaDefinition, state: SagaState, correlation_id: str, *, ok: bool, code: str | None,
             message_id: str, now: float) -> Transition:
    """Apply a participant's reply (``ok`` or refused with ``code``) to ``state``."""
    parsed = parse_command_id(correlation_id)
    new = _next(state)
    transition = Transition(new)
    _, step_name, action = parsed if parsed else ("", "", "")
    entry = _entry("reply", message_id, now, step=step_name, action=action, outcome="success" if ok else "failure",
                   code=code)
    new.history.append(entry)
    status = new.steps.get(step_name)
    if action == DO and status == "running" and new.status == "running":
        if ok:
            new.steps[step_name] = "done"
            index = saga.index(step_name)
            if index + 1 < len(saga.steps):
                step = saga.steps[index + 1]
                new.steps[step.name] = "running"
                transition.commands.append(Command(step.name, DO, step.command, step.queue, step.data(new.data)))
            else:
                new.status = "completed"
                new.result = saga.approved(new.data)
                transition.final = new.result
                transition.cancel_timeout = True
        else:
            new.steps[step_name] = "refused"
            new.reason = {"step": step_name, "code": code or "refused"}
            _compensate_next(saga, new, transition)
        return transition
    if action == DO and status == "abandoned" and ok:
        # Done after the deadline: undo it too (once); the saga's outcome stays what it is.
        step = saga.step(step_name)
        new.steps[step_name] = "done"
        if step.compensation is None:
            new.steps[step_name] = "compensated"
            return transition
        new.steps[step_name] = "compensating"
        entry["late"] = True
        transition.commands.append(
            Command(step.name, UNDO, step.compensation, step.queue, step.compensation_data(new.data)))
        return transition
    if action == UNDO and status == "compensating":
        if ok:
            new.steps[step_name] = "compensated"
            if new.status == "compensating":
                _compensate_next(saga, new, transition)
        else:
            new.steps[step_name] = "failed"
            new.status = "failed"
            new.reason = {**(new.reason or {}), "failed_step": step_name,
                          "failure": f"compensation {saga.step(step_name).compensation} refused: {code}"}
            transition.cancel_timeout = True
        return transition
    entry["ignored"] = True
    transition.applied = False
    return transition


def on_timeout(saga: SagaDefinition, state: SagaState, *, message_id: str, now: float) -> Transition:
    """Apply the saga's timeout: if a step still runs, it is abandoned and the done steps compensated."""
    new = _next(state)
    transition = Transition(new)
    entry = _entry("timeout", message_id, now)
    new.history.append(entry)
    running = [name for name, status in new.steps.items() if status == "running"]
    if new.status != "running" or not running:
        entry["ignored"] = True
        transition.applied = False
        return transition
    new.steps[running[0]] = "abandoned"
    new.reason = {"step": running[0], "code": TIMEOUT_CODE}
    entry["step"] = running[0]
    _compensate_next(saga, new, transition)
    return transition
