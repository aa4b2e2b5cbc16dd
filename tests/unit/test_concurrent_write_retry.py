"""A commit that meets a concurrent write runs the handler again on the new state, in the same delivery, a bounded
number of times (messaging.execution.CONFLICT_ATTEMPTS); only then does SQS retry the message."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from messaging import execution
from messaging.consumer import MessageContext
from messaging.envelope import ReplyOutcome, command
from messaging.errors import CommandRejected
from messaging.unit_of_work import DedupRecord, Update, current
from tests.support.consumer_world import REPLIES, World, build_world, record_of

pytestmark = pytest.mark.unit

STOCK = {"pk": {"S": "SKU#pen"}}


@pytest.fixture
def world() -> Iterator[World]:
    w = build_world()
    yield w
    w.consumer.logger.thread_safe_clear_keys()


def _bump(world: World, version: int) -> None:
    """Another message's commit: the stock item moves to ``version`` under the handler's feet."""
    world.store.commit(
        [Update("stock", STOCK, {"version": {"N": str(version)}}, expected={"version": {"N": str(version - 1)}})],
        DedupRecord(key=f"other-{version}", check="c", outcome="{}", expires_at=2**31),
    )


def _take_stock(world: World, *, conflicts: int) -> list[int]:
    """Register ``stock.Take``: it reads the version, stages the next one on the condition it still holds, emits
    one event; the first ``conflicts`` runs have another writer commit between their read and their commit."""
    runs: list[int] = []
    world.store.tables.setdefault("stock", {})
    world.store._put("stock", STOCK, {**STOCK, "version": {"N": "0"}})

    @world.consumer.command("stock.Take")
    def take(data: dict[str, Any], ctx: MessageContext) -> dict[str, Any]:
        [item] = world.store.items("stock")
        version = int(item["version"]["N"])
        runs.append(version)
        if len(runs) <= conflicts:
            _bump(world, version + 1)
        current().update("stock", STOCK, {"version": {"N": str(version + 1)}}, expected={"version": item["version"]})
        ctx.emit("stock.Taken", {"version": version + 1})
        return {"version": version + 1}

    return runs


def _take(world: World) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    cmd = command("stock.Take", {}, source="/shop", partitionkey="sku-pen", replyto=REPLIES)
    record = record_of(cmd)
    return cmd, record, world.handle(record)


def test_a_commit_that_lost_to_a_concurrent_write_runs_the_handler_again_on_the_new_state(world: World) -> None:
    # Given a handler whose first run reads a version another message changes before the commit
    runs = _take_stock(world, conflicts=1)
    # When the command is delivered once
    cmd, _record, response = _take(world)
    # Then the delivery succeeded without an SQS retry: the handler ran again on the new version and committed once
    assert response == {"batchItemFailures": []}
    assert runs == [0, 1]
    [item] = world.store.items("stock")
    assert item["version"] == {"N": "2"}
    # And only the committed run's event and reply left: the lost run's emit was dropped
    assert [(e.type, e.data) for e in world.publisher.published] == [("stock.Taken", {"version": 2})]
    [reply] = world.replies()
    assert reply.correlationid == cmd.id
    assert ReplyOutcome.from_data(reply.data) == ReplyOutcome.success({"version": 2})


def test_conflicts_past_the_bound_fail_the_record_for_an_sqs_retry(world: World) -> None:
    # Given a handler that loses every commit to a concurrent writer
    runs = _take_stock(world, conflicts=99)
    # When the command is delivered
    _cmd, record, response = _take(world)
    # Then the handler ran CONFLICT_ATTEMPTS times, then the record was failed (SQS retries it), nothing sent
    assert len(runs) == execution.CONFLICT_ATTEMPTS
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [record["messageId"]]
    assert world.publisher.published == []
    assert world.replies() == []
    assert world.dead_letters() == []


def test_a_rerun_that_is_rejected_answers_the_rejection_only(world: World) -> None:
    # Given a handler that emits on its first run, loses the commit, and refuses on the new state
    runs: list[int] = []
    world.store._put("stock", STOCK, {**STOCK, "version": {"N": "0"}})

    @world.consumer.command("stock.Take")
    def take(data: dict[str, Any], ctx: MessageContext) -> dict[str, Any]:
        [item] = world.store.items("stock")
        runs.append(int(item["version"]["N"]))
        if len(runs) == 1:
            ctx.emit("stock.Taken", {})
            _bump(world, 1)
            current().update("stock", STOCK, {"version": {"N": "1"}}, expected={"version": {"N": "0"}})
            return {}
        raise CommandRejected("out_of_stock", "gone")

    # When it is delivered
    _cmd, _record, response = _take(world)
    # Then the reply is the rerun's rejection and the lost run's event never left
    assert response == {"batchItemFailures": []}
    assert runs == [0, 1]
    assert world.publisher.published == []
    [reply] = world.replies()
    assert ReplyOutcome.from_data(reply.data).error_code == "out_of_stock"
