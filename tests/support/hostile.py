"""The hostile-input corpus (``tests/corpus/hostile/*.json``): one file per class of malformed or hostile message, with
the failure code the consumer must dead-letter it with.

A case is a raw body, or a mutation of a valid message of the example system (structure-aware): a CreateOrder of
customer ``$GROUP`` with an allowed ``replyto`` for ``"target": "commands"``, a reply for ``"target": "replies"``.
``set`` replaces top-level attributes, ``drop`` removes them, ``data`` replaces fields of ``data``, ``line`` fields of
its first order line. After the mutation, ``$GROUP`` (the message group and customer), ``$REPLIES`` (the allowed reply
queue URL) and ``$BUCKET`` (the claim-check bucket) are filled in. ``answered`` says whether the sender hears a failure
reply with the code (a command with an allowed ``replyto``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from messaging.codec import CloudEventJsonCodec
from messaging.envelope import ReplyOutcome, command, reply_to

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "hostile"
codec = CloudEventJsonCodec()


@dataclass(frozen=True)
class HostileCase:
    name: str
    description: str
    code: str
    field: str | None
    answered: bool
    target: str
    raw: str | None = None
    mutation: dict[str, Any] = field(default_factory=dict)

    def body(self, group: str, *, replies_url: str, bucket: str = "claims-bucket") -> str:
        """The message body of this case for message group (and customer) ``group``."""
        if self.raw is not None:
            text = self.raw
        else:
            document = valid_document(self.target, group, replies_url)
            for name in self.mutation.get("drop", []):
                document.pop(name, None)
            document.update(self.mutation.get("set", {}))
            if "data" in self.mutation:
                document["data"] = {**document.get("data", {}), **self.mutation["data"]}
            if "line" in self.mutation:
                document["data"]["lines"][0].update(self.mutation["line"])
            text = json.dumps(document)
        return text.replace("$GROUP", group).replace("$REPLIES", replies_url).replace("$BUCKET", bucket)


def order_data(customer: str) -> dict[str, Any]:
    return {"customer_id": customer, "lines": [{"sku": "book", "quantity": 1, "unit_price": "12.50"}]}


def valid_command(group: str, replies_url: str, *, source: str = "/corpus") -> dict[str, Any]:
    """A valid CreateOrder of customer ``group`` asking for a reply on ``replies_url``, as a JSON document."""
    envelope = command("orders.CreateOrder", order_data(group), source=source, partitionkey=group, replyto=replies_url)
    document: dict[str, Any] = json.loads(codec.encode(envelope))
    return document


def valid_document(target: str, group: str, replies_url: str) -> dict[str, Any]:
    if target == "commands":
        return valid_command(group, replies_url)
    request = command("orders.CreateOrder", order_data(group), source="/nobody", partitionkey=group)
    reply = reply_to(request, ReplyOutcome.success({"order_id": "o-1"}), source="/orders")
    document: dict[str, Any] = json.loads(codec.encode(reply))
    return document


def load_corpus() -> list[HostileCase]:
    """Every case of the corpus, by file name."""
    cases = []
    for path in sorted(CORPUS.glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        cases.append(
            HostileCase(
                name=path.stem,
                description=spec["description"],
                code=spec["code"],
                field=spec.get("field"),
                answered=spec.get("answered", False),
                target=spec.get("target", "commands"),
                raw=spec.get("raw"),
                mutation=spec.get("mutation", {}),
            )
        )
    return cases


@dataclass
class CorpusWorld:
    """The orders consumer (the example system's CreateOrder model and declared shard keys, a claim check) and a
    reply router (it stores every well-formed reply) on in-memory fakes; ``applied`` lists the (source, id) of the
    commands run, in order."""

    orders: Any
    router: Any
    sqs: Any
    replies_store: Any
    logs: Any
    applied: list[tuple[str, str]] = field(default_factory=list)


REPLIES = "https://sqs.eu-west-1.amazonaws.com/123456789012/replies.fifo"
ORDERS_DLQ = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-commands-dlq.fifo"
REPLIES_DLQ = "https://sqs.eu-west-1.amazonaws.com/123456789012/replies-dlq.fifo"
BUCKET = "claims-bucket"


class MissingObjectS3:
    """An S3 client with an empty claim-check bucket: every read is ``NoSuchKey``."""

    def get_object(self, **request: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError  # noqa: PLC0415

        raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}}, "GetObject")


def build_corpus_world() -> CorpusWorld:
    import io  # noqa: PLC0415

    from aws_lambda_powertools import Logger  # noqa: PLC0415

    from messaging.claim_check import ClaimCheck  # noqa: PLC0415
    from messaging.consumer import MessageConsumer, MessageContext  # noqa: PLC0415
    from messaging.reply_store import InMemoryReplyStore  # noqa: PLC0415
    from messaging.settings import ConsumerSettings  # noqa: PLC0415
    from messaging.unit_of_work import InMemoryCommitter, current  # noqa: PLC0415
    from orders.models import SHARD_KEYS, CreateOrder  # noqa: PLC0415
    from tests.support.fakes import InMemoryEventPublisher, RecordingSqsClient  # noqa: PLC0415

    sqs = RecordingSqsClient()
    store = InMemoryReplyStore()
    logs = io.StringIO()

    def consumer(service: str, dlq: str) -> MessageConsumer:
        return MessageConsumer(
            service,
            settings=ConsumerSettings(dead_letter_queue_url=dlq, reply_to_allowlist=frozenset({REPLIES})),
            sqs_client=sqs,
            committer=InMemoryCommitter(),
            event_publisher=InMemoryEventPublisher(),
            logger=Logger(service=f"{service}-{uuid.uuid4().hex}", stream=logs),
            shard_keys=SHARD_KEYS,
            claim_check=ClaimCheck(BUCKET, client=MissingObjectS3()),  # type: ignore[arg-type]
        )

    world = CorpusWorld(consumer("orders", ORDERS_DLQ), consumer("reply-router", REPLIES_DLQ), sqs, store, logs)

    @world.orders.command("orders.CreateOrder", model=CreateOrder)
    def create_order(cmd: CreateOrder, ctx: MessageContext) -> dict[str, Any]:
        world.applied.append((ctx.envelope.source, ctx.envelope.id))
        order = {"pk": {"S": f"CUSTOMER#{cmd.customer_id}"}, "sk": {"S": f"ORDER#{ctx.derived_id('order')}"}}
        current().create("orders", order, keyed_by_message=True)
        return {"order_id": ctx.derived_id("order")}

    @world.router.reply(idempotent=False)
    def route(reply: Any, ctx: MessageContext) -> None:
        store.put(ctx.envelope, ttl_seconds=3600)

    return world
