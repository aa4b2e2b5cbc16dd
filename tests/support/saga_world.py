"""A saga orchestrator on a consumer, on two backends: in-memory fakes and moto (SQS, DynamoDB, Scheduler).

The test plays the participants: it reads the commands the saga sent (:meth:`SagaWorld.sent`) and hands replies to
the orchestrator as SQS records (:meth:`SagaWorld.deliver`). The saga: steps ``a`` (queue ``A_URL``, undone by
``p.UndoA``) and ``b`` (``B_URL``, ``p.UndoB``), started by ``t.Start``, deadline 30 s.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from moto import mock_aws

from messaging.codec import CloudEventJsonCodec
from messaging.consumer import MessageConsumer
from messaging.delayed import DelayedDelivery
from messaging.envelope import Envelope, ReplyOutcome, command, reply_to
from messaging.saga import (
    SAGA_QUEUE_ENV,
    DynamoDbSagaRepository,
    InMemorySagaRepository,
    SagaDefinition,
    SagaOrchestrator,
    SagaRepository,
    SagaState,
    Step,
)
from messaging.settings import ConsumerSettings
from messaging.unit_of_work import DynamoDbCommitter, InMemoryCommitter
from tests.support.aws import AWS_ENV, create_idempotency_table, create_state_table
from tests.support.fakes import InMemoryEventPublisher, RecordingSqsClient
from tests.support.lambda_context import FakeLambdaContext
from tests.support.sqs_events import sqs_event, synthetic_record

codec = CloudEventJsonCodec()
SAGA = SagaDefinition(
    "t.Start",
    steps=(
        Step("a", "p.DoA", queue="A_URL", compensation="p.UndoA"),
        Step("b", "p.DoB", queue="B_URL", compensation="p.UndoB"),
    ),
    deadline=timedelta(seconds=30),
)
ROLE = "arn:aws:iam::123456789012:role/scheduler"


class FakeScheduler:
    """EventBridge Scheduler's create/delete of schedules, with its ``ConflictException``."""

    def __init__(self) -> None:
        self.schedules: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []

    def create_schedule(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs["Name"] in self.schedules:
            raise ClientError({"Error": {"Code": "ConflictException", "Message": "exists"}}, "CreateSchedule")
        self.schedules[kwargs["Name"]] = kwargs
        return {"ScheduleArn": f"arn:aws:scheduler:::schedule/{kwargs['GroupName']}/{kwargs['Name']}"}

    def delete_schedule(self, **kwargs: Any) -> dict[str, Any]:
        if self.schedules.pop(kwargs["Name"], None) is None:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "none"}}, "DeleteSchedule")
        self.deleted.append(kwargs["Name"])
        return {}


@dataclass
class RecordingSqsWithArns(RecordingSqsClient):
    def get_queue_attributes(self, **kwargs: Any) -> dict[str, Any]:
        name = kwargs["QueueUrl"].rsplit("/", 1)[-1]
        return {"Attributes": {"QueueArn": f"arn:aws:sqs:us-east-1:123456789012:{name}"}}


@dataclass
class SagaWorld:
    backend: str
    consumer: MessageConsumer
    orchestrator: SagaOrchestrator
    repository: SagaRepository
    queues: dict[str, str]
    clock: list[float]
    sqs: Any
    scheduler: Any
    _seen: dict[str, list[Envelope]] = field(default_factory=dict)

    # -- the test's side -------------------------------------------------------------------------------------------
    def start(self, data: dict[str, Any] | None = None) -> Envelope:
        request = command("t.Start", data or {"n": 1}, source="/test", partitionkey=f"k-{uuid.uuid4().hex[:6]}",
                          replyto=self.queues["REPLIES"])
        self.deliver(request)
        return request

    def deliver(self, envelope: Envelope, *, message_id: str | None = None) -> dict[str, Any]:
        """Hand ``envelope`` to the orchestrator's consumer as one SQS record; the partial batch response."""
        record = synthetic_record(codec.encode(envelope), group_id=envelope.partitionkey or "g", message_id=message_id)
        return self.consumer.handle(sqs_event([record]), FakeLambdaContext())

    def answer(self, request: Envelope, *, ok: bool = True, code: str = "refused", source: str = "/p") -> Envelope:
        outcome = ReplyOutcome.success({"ok": True}) if ok else ReplyOutcome.failure(code, "no")
        reply = reply_to(request, outcome, source=source)
        self.deliver(reply)
        return reply

    def sent(self, name: str) -> list[Envelope]:
        """Every message sent to the queue ``name`` (A_URL, B_URL, REPLIES, SAGA_QUEUE_URL) so far, oldest first."""
        url = self.queues[name]
        if self.backend == "memory":
            return [codec.decode(call["MessageBody"]) for call in self.sqs.to(url)]
        seen = self._seen.setdefault(url, [])
        while True:
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return list(seen)
            for message in messages:
                seen.append(codec.decode(message["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def last(self, name: str) -> Envelope:
        return self.sent(name)[-1]

    def scheduled(self) -> list[str]:
        """Names of the schedules that exist now."""
        if self.backend == "memory":
            return list(self.scheduler.schedules)
        return [s["Name"] for s in self.scheduler.list_schedules(GroupName="sagas")["Schedules"]]

    def timeout_of(self, saga_id: str) -> Envelope:
        """The timeout message as the schedule would deliver it."""
        return command("saga.Timeout", {"saga_id": saga_id}, source="/orders-saga", partitionkey=saga_id,
                       id=f"{saga_id}:timeout")

    def state(self, saga_id: str) -> SagaState:
        state = self.repository.get(saga_id)
        assert state is not None
        return state


def _consumer(sqs: Any, committer: Any, scheduler: Any, clock: list[float], queues: dict[str, str]) -> MessageConsumer:
    return MessageConsumer(
        "orders-saga",
        settings=ConsumerSettings(
            dead_letter_queue_url=queues["DLQ"], reply_to_allowlist=frozenset({queues["REPLIES"]})
        ),
        sqs_client=sqs,
        committer=committer,
        event_publisher=InMemoryEventPublisher(),
        logger=Logger(service=f"saga-{uuid.uuid4().hex}", stream=io.StringIO()),
        delayed=DelayedDelivery("sagas", ROLE, client=scheduler, sqs_client=sqs, clock=lambda: clock[0]),
        clock=lambda: clock[0],
    )


@contextmanager
def saga_world(backend: str) -> Iterator[SagaWorld]:
    """A fresh orchestrator of :data:`SAGA` on ``backend`` (``memory`` or ``moto``)."""
    import time  # noqa: PLC0415

    clock = [time.time()]
    if backend == "memory":
        base = "https://sqs.us-east-1.amazonaws.com/123456789012/"
        queues = {name: f"{base}{name.lower()}.fifo" for name in ("A_URL", "B_URL", "REPLIES", "DLQ")}
        queues[SAGA_QUEUE_ENV] = f"{base}sagas.fifo"
        sqs, scheduler, committer = RecordingSqsWithArns(), FakeScheduler(), InMemoryCommitter()
        repository: SagaRepository = InMemorySagaRepository(committer, "sagas")
        consumer = _consumer(sqs, committer, scheduler, clock, queues)
        orchestrator = SagaOrchestrator(SAGA, repository, queues=queues, clock=lambda: clock[0])
        orchestrator.register(consumer)
        yield SagaWorld(backend, consumer, orchestrator, repository, queues, clock, sqs, scheduler)
        return
    with mock_aws():
        session = boto3.session.Session(region_name=AWS_ENV["AWS_DEFAULT_REGION"],
                                        aws_access_key_id="testing", aws_secret_access_key="testing")
        sqs, dynamodb, scheduler = session.client("sqs"), session.client("dynamodb"), session.client("scheduler")
        queues = {}
        for name in ("A_URL", "B_URL", "REPLIES", "DLQ", SAGA_QUEUE_ENV):
            attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
            queues[name] = sqs.create_queue(QueueName=f"{name.lower()}.fifo", Attributes=attributes)["QueueUrl"]
        create_state_table(dynamodb, "sagas")
        create_idempotency_table(dynamodb, "idempotency")
        scheduler.create_schedule_group(Name="sagas")
        committer = DynamoDbCommitter("idempotency", client=dynamodb)
        repository = DynamoDbSagaRepository("sagas", client=dynamodb)
        consumer = _consumer(sqs, committer, scheduler, clock, queues)
        orchestrator = SagaOrchestrator(SAGA, repository, queues=queues, clock=lambda: clock[0])
        orchestrator.register(consumer)
        yield SagaWorld(backend, consumer, orchestrator, repository, queues, clock, sqs, scheduler)
