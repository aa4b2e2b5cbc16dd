"""The consumer on in-memory fakes, as the unit tests, the failure-policy tests and the fuzz use it: an orders
consumer with a CreateOrder command (staging one order and emitting two events), an OrderCreated event handler and a
catch-all reply handler; the SQS client, the event publisher and the committer are fakes that record."""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, Field

from messaging.codec import CloudEventJsonCodec
from messaging.consumer import MessageConsumer, MessageContext
from messaging.envelope import Envelope, command
from messaging.errors import CommandRejected
from messaging.settings import ConsumerSettings
from messaging.unit_of_work import InMemoryCommitter, current
from tests.support.fakes import InMemoryEventPublisher, RecordingSqsClient
from tests.support.lambda_context import FakeLambdaContext
from tests.support.sqs_events import sqs_event, synthetic_record

DLQ = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-commands-dlq.fifo"
REPLIES = "https://sqs.eu-west-1.amazonaws.com/123456789012/replies.fifo"
codec = CloudEventJsonCodec()


class CreateOrder(BaseModel):
    sku: str
    quantity: int = Field(gt=0)


@dataclass
class World:
    consumer: MessageConsumer
    sqs: RecordingSqsClient
    publisher: InMemoryEventPublisher
    store: InMemoryCommitter
    logs: io.StringIO
    calls: list[str] = field(default_factory=list)
    fail_next: list[Exception] = field(default_factory=list)

    def handle(self, *records: dict[str, Any]) -> dict[str, Any]:
        return self.consumer.handle(sqs_event(records), FakeLambdaContext())

    def replies(self) -> list[Envelope]:
        return [codec.decode(call["MessageBody"]) for call in self.sqs.to(REPLIES)]

    def dead_letters(self) -> list[dict[str, Any]]:
        return self.sqs.to(DLQ)

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.logs.getvalue().splitlines() if line.strip()]


def build_world(*, shard_keys: dict[str, str] | None = None) -> World:
    """A fresh consumer on fakes with the handlers described in the module docstring."""
    sqs, publisher, store, logs = (
        RecordingSqsClient(),
        InMemoryEventPublisher(),
        InMemoryCommitter(),
        io.StringIO(),
    )
    consumer = MessageConsumer(
        "orders",
        settings=ConsumerSettings(dead_letter_queue_url=DLQ, reply_to_allowlist=frozenset({REPLIES})),
        sqs_client=sqs,  # type: ignore[arg-type]
        committer=store,
        event_publisher=publisher,
        logger=Logger(service=f"orders-unit-{uuid.uuid4().hex}", stream=logs),
        shard_keys=shard_keys,
    )
    w = World(consumer, sqs, publisher, store, logs)

    @consumer.command("orders.CreateOrder", model=CreateOrder)
    def create_order(cmd: CreateOrder, ctx: MessageContext) -> dict[str, Any]:
        w.calls.append(ctx.envelope.id)
        ctx.logger.info("creating order")
        if w.fail_next:
            raise w.fail_next.pop(0)
        order_id = ctx.derived_id("order")
        current().create("orders", {"pk": {"S": order_id}, "run": {"N": str(len(w.calls))}}, key=("pk",))
        if cmd.sku == "blocked":
            ctx.emit("orders.Ignored", {})
            raise CommandRejected("sku_blocked", "this sku cannot be ordered")
        ctx.emit("orders.OrderCreated", {"sku": cmd.sku, "quantity": cmd.quantity})
        ctx.emit("orders.AuditTrail", {"sku": cmd.sku}, partitionkey="audit")
        return {"order_id": f"o-{cmd.sku}", "run": len(w.calls)}

    @consumer.event("orders.OrderCreated")
    def on_created(data: dict[str, Any], ctx: MessageContext) -> None:
        w.calls.append(f"event:{data['sku']}")

    @consumer.reply(idempotent=False)
    def on_reply(data: dict[str, Any], ctx: MessageContext) -> None:
        w.calls.append(f"reply:{ctx.envelope.correlationid}")

    return w


def create(sku: str = "book", *, key: str = "customer-1", replyto: str | None = REPLIES, **data: Any) -> Envelope:
    return command(
        "orders.CreateOrder", {"sku": sku, "quantity": 1, **data}, source="/web", partitionkey=key, replyto=replyto
    )


def record_of(envelope: Envelope, **kwargs: Any) -> dict[str, Any]:
    return synthetic_record(codec.encode(envelope), group_id=envelope.partitionkey or "g", **kwargs)
