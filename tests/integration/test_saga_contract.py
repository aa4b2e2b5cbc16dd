"""The saga orchestrator's contract, on two backends (in-memory fakes and moto): one suite.

The test plays the participants and the scheduler: it reads what the saga sent and answers it."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from messaging.envelope import Envelope, ReplyOutcome, reply_to
from tests.support.saga_world import SagaWorld, saga_world

pytestmark = pytest.mark.integration


@pytest.fixture(params=["memory", "moto"])
def world(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[SagaWorld]:
    from tests.support.aws import AWS_ENV  # noqa: PLC0415

    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    with saga_world(request.param) as built:
        yield built


def result_of(reply: Envelope) -> dict[str, object]:
    return dict(ReplyOutcome.from_data(reply.data).result or {})


def ids(envelopes: list[Envelope]) -> list[str]:
    return [envelope.id for envelope in envelopes]


def test_every_step_done_answers_approved_and_cancels_the_timeout(world: SagaWorld) -> None:
    # Given a started saga
    request = world.start()
    saga = request.id
    do_a = world.last("A_URL")
    scheduled = world.scheduled()
    # When both participants succeed
    world.answer(do_a)
    do_b = world.last("B_URL")
    world.answer(do_b)
    # Then the commands had ids derived from saga + step, carried the saga's group and replyto, the starting command
    # got one approved reply, and the timeout's schedule existed while it ran and is gone now
    assert (do_a.id, do_b.id) == (f"{saga}:a:do", f"{saga}:b:do")
    assert {do_a.partitionkey, do_b.partitionkey} == {saga}
    assert do_a.replyto == world.queues["SAGA_QUEUE_URL"]
    assert len(scheduled) == 1 and world.scheduled() == []
    replies = world.sent("REPLIES")
    assert [r.correlationid for r in replies] == [saga] and result_of(replies[0]) == {"status": "approved"}
    state = world.state(saga)
    assert (state.status, state.steps, state.version) == ("completed", {"a": "done", "b": "done"}, 2)


def test_a_refusal_compensates_the_done_steps_and_answers_rejected_with_step_and_code(world: SagaWorld) -> None:
    # Given a saga whose first step is done
    saga = world.start().id
    world.answer(world.last("A_URL"))
    # When the second participant refuses
    world.answer(world.last("B_URL"), ok=False, code="out_of_stock")
    undo_a = world.last("A_URL")
    world.answer(undo_a)
    # Then step a was undone once (id saga:a:undo), and the answer is rejected at b with the code
    assert ids(world.sent("A_URL")) == [f"{saga}:a:do", f"{saga}:a:undo"] and undo_a.type == "p.UndoA"
    rejected = {"status": "rejected", "step": "b", "code": "out_of_stock"}
    assert [result_of(r) for r in world.sent("REPLIES")] == [rejected]
    state = world.state(saga)
    assert state.status == "rejected" and state.steps == {"a": "compensated", "b": "refused"}
    assert world.scheduled() == []


def test_a_refusal_of_the_first_step_has_nothing_to_compensate(world: SagaWorld) -> None:
    saga = world.start().id
    world.answer(world.last("A_URL"), ok=False, code="credit_limit_exceeded")
    assert ids(world.sent("A_URL")) == [f"{saga}:a:do"] and world.sent("B_URL") == []
    assert [result_of(r) for r in world.sent("REPLIES")] == [
        {"status": "rejected", "step": "a", "code": "credit_limit_exceeded"}
    ]


def test_the_timeout_abandons_the_running_step_and_a_late_success_is_compensated_once(world: SagaWorld) -> None:
    # Given a saga waiting for b after a was done
    saga = world.start().id
    world.answer(world.last("A_URL"))
    do_b = world.last("B_URL")
    # When its deadline passes (the schedule fires), a is undone; then b's participant answers late, twice
    world.clock[0] += 31
    world.deliver(world.timeout_of(saga))
    world.answer(world.last("A_URL"))
    world.answer(do_b)
    world.answer(do_b, source="/p-again")  # another reply to the same command: recorded, ignored
    world.answer(world.last("B_URL"))
    # Then the answer was rejected with timeout at b, each compensation was sent exactly once, and the late answers
    # changed no outcome
    assert [result_of(r) for r in world.sent("REPLIES")] == [{"status": "rejected", "step": "b", "code": "timeout"}]
    sent = Counter(ids(world.sent("A_URL")) + ids(world.sent("B_URL")))
    assert sent == Counter({f"{saga}:a:do": 1, f"{saga}:a:undo": 1, f"{saga}:b:do": 1, f"{saga}:b:undo": 1})
    state = world.state(saga)
    assert state.status == "rejected" and state.steps == {"a": "compensated", "b": "compensated"}
    assert [e["kind"] for e in state.history] == ["start", "reply", "timeout", "reply", "reply", "reply", "reply"]
    assert [e.get("ignored", False) for e in state.history].count(True) == 1


def test_a_timeout_after_the_end_and_a_duplicate_reply_are_recorded_and_ignored(world: SagaWorld) -> None:
    # Given a completed saga
    saga = world.start().id
    world.answer(world.last("A_URL"))
    do_b = world.last("B_URL")
    world.answer(do_b)
    before = len(world.sent("A_URL")) + len(world.sent("B_URL")) + len(world.sent("REPLIES"))
    # When its timeout fires anyway and a second reply to b arrives
    world.deliver(world.timeout_of(saga))
    world.answer(do_b, source="/p-again")
    # Then nothing more was sent and the outcome stands; both are in the history, ignored
    after = len(world.sent("A_URL")) + len(world.sent("B_URL")) + len(world.sent("REPLIES"))
    state = world.state(saga)
    assert after == before and state.status == "completed"
    assert [(e["kind"], e.get("ignored", False)) for e in state.history[-2:]] == [("timeout", True), ("reply", True)]


def test_a_redelivered_reply_replays_the_same_commands_and_applies_once(world: SagaWorld) -> None:
    # Given a saga whose reply from a was applied
    saga = world.start().id
    reply = world.answer(world.last("A_URL"))
    version = world.state(saga).version
    # When the same reply message is delivered again (an SQS redelivery)
    world.deliver(reply)
    # Then the state did not move and what was sent again has the same id (SQS and b deduplicate it)
    assert world.state(saga).version == version
    assert set(ids(world.sent("B_URL"))) == {f"{saga}:b:do"}


def test_a_start_whose_sends_failed_after_its_commit_sends_them_on_the_retry(world: SagaWorld) -> None:
    # Given a start whose commit took effect, then whose first command could not be sent (the record failed)
    failing = {"left": 1}

    def unreachable(real: Any) -> Any:
        def send(**kwargs: object) -> object:
            if kwargs["QueueUrl"] == world.queues["A_URL"] and failing["left"]:
                failing["left"] -= 1
                raise ConnectionError("SQS unreachable")
            return real(**kwargs)

        return send

    # (a batch's sends go out as SendMessageBatch; a lone message may go as SendMessage)
    world.sqs.send_message = unreachable(world.sqs.send_message)
    world.sqs.send_message_batch = unreachable(world.sqs.send_message_batch)
    request = world.start()
    assert world.sent("A_URL") == [] and world.state(request.id).version == 0
    # When SQS delivers the start again
    response = world.deliver(request)
    # Then the retry sends the first command and schedules the timeout (the outcome stored with the saga), and the
    # saga did not move
    assert response["batchItemFailures"] == []
    assert ids(world.sent("A_URL")) == [f"{request.id}:a:do"]
    assert len(world.scheduled()) == 1 and world.state(request.id).version == 0


def test_a_compensation_that_fails_parks_the_saga_failed_with_its_reason(world: SagaWorld) -> None:
    # Given a saga compensating a after b refused
    saga = world.start().id
    world.answer(world.last("A_URL"))
    world.answer(world.last("B_URL"), ok=False, code="out_of_stock")
    # When a's compensation fails for good
    world.answer(world.last("A_URL"), ok=False, code="ledger_closed")
    # Then the saga is failed, says why, sends nothing more and never answers (an operator's job)
    state = world.state(saga)
    assert state.status == "failed" and state.steps["a"] == "failed"
    assert state.reason is not None and "ledger_closed" in state.reason["failure"]
    assert world.sent("REPLIES") == [] and ids(world.sent("A_URL"))[-1] == f"{saga}:a:undo"


def test_a_stale_read_loses_the_version_condition_and_is_retried(world: SagaWorld) -> None:
    # Given a saga, and a reader that returns the state as it was before the last transition (a concurrent writer)
    saga = world.start().id
    stale = world.state(saga)
    world.answer(world.last("A_URL"))
    real_get = world.repository.get
    world.repository.get = lambda saga_id: stale  # type: ignore[method-assign]
    # When b's reply is handled on the stale state
    response = world.deliver(reply_to(world.last("B_URL"), ReplyOutcome.success({}), source="/p"))
    world.repository.get = real_get  # type: ignore[method-assign]
    # Then the record failed (SQS retries it), nothing was committed or sent for it
    assert len(response["batchItemFailures"]) == 1
    assert world.state(saga).version == 1 and world.sent("REPLIES") == []


def _saga_metrics(out: str) -> list[str]:
    names = []
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            record = json.loads(line)
            for directive in record["_aws"]["CloudWatchMetrics"]:  # each counted as many times as its value
                names += [m["Name"] for m in directive["Metrics"] if m["Name"].startswith("Sagas")
                          for _ in range(int(sum(record[m["Name"]]) if isinstance(record[m["Name"]], list)
                                             else record[m["Name"]]))]
    return names


def test_sagas_are_counted_started_timed_out_rejected_failed_and_overdue(
    world: SagaWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given one saga that times out and is rejected, one whose compensation fails, one answered long past its deadline
    timed_out = world.start().id
    world.clock[0] += 31
    world.deliver(world.timeout_of(timed_out))
    world.answer(world.last("A_URL"))
    world.start()
    world.answer(world.last("A_URL"))
    world.answer(world.last("B_URL"), ok=False, code="out_of_stock")
    world.answer(world.last("A_URL"), ok=False, code="ledger_closed")
    world.start()
    world.clock[0] += 31 + 61  # its timeout never came
    world.answer(world.last("A_URL"))
    # Then the metrics say so (EMF lines on stdout, namespace and service of the consumer)
    assert Counter(_saga_metrics(capsys.readouterr().out)) == Counter(
        {"SagasStarted": 3, "SagasTimedOut": 1, "SagasRejected": 1, "SagasFailed": 1, "SagasOverdue": 1}
    )
