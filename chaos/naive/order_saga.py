"""Baseline order-saga orchestrator (``make chaos ARGS="--saga naive"``): the same saga and the same transitions
(:mod:`messaging.saga.engine`), wired the way a team writes it from the documentation samples.

Each record is processed once per ``[source, id]`` by Powertools' idempotency (as the other baselines), and inside it:
read the saga's item, apply the transition, ``PutItem`` the new state (no version condition: the last writer wins),
then send what the transition asks for, each message with a fresh random id (commands to the participants, the
timeout's schedule, the final answer). A reply finds its saga by its ``partitionkey`` (the saga's id, which the
participants keep) and its step by its type. What it gets wrong: the state and the sends are separate writes, so a
failure after the ``PutItem`` retries the record against a state that already moved on, and the transition sends
nothing the second time; a start retried after its first run died is applied again (state overwritten, commands
sent again under new ids); and two runs on one saga overwrite each other.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from chaos.naive.common import cloud_event, handler, reply
from messaging.delayed import DelayedDelivery
from messaging.envelope import ReplyOutcome, command, reply_type_for
from messaging.saga import SagaState, engine
from messaging.saga.state import saga_key
from order_saga.saga import PLACE_ORDER, PlaceOrder

SOURCE = "/order-saga"
STATE_TABLE = os.environ["STATE_TABLE_NAME"]
SAGA_QUEUE = os.environ["SAGA_QUEUE_URL"]
dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")
delayed = DelayedDelivery(os.environ["SCHEDULE_GROUP_NAME"], os.environ["SCHEDULER_ROLE_ARN"],
                          client=boto3.client("scheduler"), sqs_client=sqs)
persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE_NAME"])

STEP_OF_REPLY = {
    **{reply_type_for(step.command): (step.name, engine.DO) for step in PLACE_ORDER.steps},
    **{reply_type_for(step.compensation): (step.name, engine.UNDO) for step in PLACE_ORDER.steps if step.compensation},
}
"""A participant's reply type -> (step, action) it answers."""


def _load(saga_id: str) -> SagaState:
    item = dynamodb.get_item(TableName=STATE_TABLE, Key=saga_key(saga_id), ConsistentRead=True).get("Item")
    if item is None:
        raise LookupError(f"no saga {saga_id}")
    return SagaState.from_item(item)


def _save_then_send(transition: engine.Transition) -> None:
    state = transition.state
    dynamodb.put_item(TableName=STATE_TABLE, Item=state.to_item())
    for cmd in transition.commands:
        event = cloud_event(cmd.type, SOURCE, cmd.data, state.saga_id, kind="command", replyto=SAGA_QUEUE)
        sqs.send_message(QueueUrl=os.environ[cmd.queue], MessageBody=json.dumps(event), MessageGroupId=state.saga_id,
                         MessageDeduplicationId=event["id"])
    if transition.schedule_timeout:
        timeout = command(PLACE_ORDER.timeout_type, {"saga_id": state.saga_id}, source=SOURCE,
                          partitionkey=state.saga_id, id=str(uuid.uuid4()))
        delayed.schedule(SAGA_QUEUE, timeout, datetime.fromtimestamp(state.deadline, tz=UTC))
    if transition.final is not None:
        reply(sqs, state.requester, SOURCE, ReplyOutcome.success(transition.final).to_data())


def process(message: dict[str, Any]) -> None:
    now = time.time()
    if message.get("type") == PLACE_ORDER.starts_with:
        data = PlaceOrder.model_validate(message["data"]).model_dump(mode="json")
        requester = {name: message.get(name) for name in ("id", "source", "replyto", "partitionkey", "type")}
        _save_then_send(engine.start(PLACE_ORDER, message["id"], data, requester, now=now))
    elif message.get("type") == PLACE_ORDER.timeout_type:
        state = _load(str(message["data"]["saga_id"]))
        _save_then_send(engine.on_timeout(PLACE_ORDER, state, message_id=message["id"], now=now))
    elif message.get("kind") == "reply" and message.get("type") in STEP_OF_REPLY:
        state = _load(str(message["partitionkey"]))
        step, action = STEP_OF_REPLY[message["type"]]
        outcome = ReplyOutcome.from_data(message.get("data"))
        _save_then_send(engine.on_reply(PLACE_ORDER, state, engine.command_id(state.saga_id, step, action),
                                        ok=outcome.ok, code=outcome.error_code, message_id=message["id"], now=now))
    else:
        raise ValueError(f"unknown message type {message.get('type')!r}")


lambda_handler = handler(process, persistence)
