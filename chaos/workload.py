"""The seeded workload of a chaos run: CreateOrder commands across shards with poison messages mixed into the same
shards, then CancelOrder commands for some of the orders that were created.

Every command carries its tag ``chaos#<n>`` where its effect stores it (the sku of the order line, the cancel reason),
so the checker can tell which command an order, a cancellation or a DLQ entry came from, whichever consumer ran.

Example::

    workload = Workload.generate(messages=1000, shards=50, seed=7, poison_rate=0.03, reply_queue_url=url)
    len(workload.creates), len(workload.poison)
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope, command

SOURCE = "/chaos/client"
POISON_MARKER = "chaos-poison"
CANCEL_SHARE = 0.25
"""Of ``messages``, the share sent as CancelOrder in the second phase (the rest are CreateOrder)."""
REPLY_SHARE = 0.5
"""Of the valid commands, the share that asks for a reply (the others are notifications)."""

codec = CloudEventJsonCodec()


@dataclass(frozen=True)
class Outgoing:
    """One message to send: the wire body, its group, its dedup id; ``envelope`` for valid commands."""

    tag: int
    shard: str
    kind: str  # create, cancel, poison
    body: str
    group_id: str
    dedup_id: str
    envelope: Envelope | None = None
    order_tag: int | None = None

    @property
    def message_id(self) -> str:
        return self.envelope.id if self.envelope is not None else f"{POISON_MARKER}-{self.tag}"


def tag_text(tag: int) -> str:
    return f"chaos#{tag}"


def _poison(tag: int, shard: str, rng: random.Random, reply_queue_url: str) -> tuple[str, str]:
    """A permanently invalid message of one of several kinds, marked so the checker recognises it in a DLQ."""
    marker = f"{POISON_MARKER}-{tag}"
    valid = json.loads(
        codec.encode(
            command(
                "orders.CreateOrder",
                {"customer_id": shard, "lines": [{"sku": marker, "quantity": 1, "unit_price": "1.00"}]},
                source=SOURCE,
                partitionkey=shard,
                replyto=reply_queue_url,
                id=marker,
            )
        )
    )
    kind = rng.choice(("not_json", "unknown_type", "invalid_payload", "specversion", "replyto_not_allowed"))
    if kind == "not_json":
        return kind, f'{{"id": "{marker}", "broken'
    if kind == "unknown_type":
        valid["type"] = "orders.ShipOrder"
    elif kind == "invalid_payload":
        valid["data"]["lines"][0]["quantity"] = 0
    elif kind == "specversion":
        valid["specversion"] = "0.3"
    else:
        valid["replyto"] = "https://sqs.us-east-1.amazonaws.com/999999999999/elsewhere.fifo"
    return kind, json.dumps(valid)


@dataclass
class Workload:
    creates: list[Outgoing]
    poison: list[Outgoing]
    shards: list[str]
    cancel_count: int
    reply_queue_url: str
    seed: int

    @classmethod
    def generate(cls, *, messages: int, shards: int, seed: int, poison_rate: float, reply_queue_url: str) -> Workload:
        rng = random.Random(seed)
        customers = [f"chaos-{seed}-{n:04d}" for n in range(shards)]
        cancel_count = int(messages * CANCEL_SHARE)
        create_count = messages - cancel_count
        creates: list[Outgoing] = []
        poison: list[Outgoing] = []
        tag = 0
        for n in range(create_count):
            tag += 1
            shard = customers[n % shards] if n < shards else rng.choice(customers)
            replyto = reply_queue_url if rng.random() < REPLY_SHARE else None
            data = {
                "customer_id": shard,
                "lines": [{"sku": tag_text(tag), "quantity": 1 + tag % 3, "unit_price": f"{1 + tag % 50}.50"}],
            }
            envelope = command(
                "orders.CreateOrder", data, source=SOURCE, partitionkey=shard, replyto=replyto, id=f"c-{seed}-{tag}"
            )
            creates.append(_outgoing(tag, shard, "create", envelope))
            if rng.random() < poison_rate:
                tag += 1
                _, body = _poison(tag, shard, rng, reply_queue_url)
                poison.append(Outgoing(tag, shard, "poison", body, shard, f"{POISON_MARKER}-{tag}"))
        return cls(creates, poison, customers, cancel_count, reply_queue_url, seed)

    def first_phase(self) -> list[Outgoing]:
        """Creates and poison interleaved in tag order (per shard: send order)."""
        return sorted(self.creates + self.poison, key=lambda o: o.tag)

    def cancels(self, order_ids: dict[int, str], rng: random.Random) -> list[Outgoing]:
        """CancelOrder commands for ``cancel_count`` of the created orders (``order_ids``: create tag -> order id)."""
        candidates = sorted(order_ids)
        chosen = sorted(rng.sample(candidates, min(self.cancel_count, len(candidates))))
        next_tag = max((o.tag for o in self.creates + self.poison), default=0)
        by_tag = {o.tag: o for o in self.creates}
        cancels = []
        for offset, create_tag in enumerate(chosen, start=1):
            tag = next_tag + offset
            shard = by_tag[create_tag].shard
            replyto = self.reply_queue_url if rng.random() < REPLY_SHARE else None
            data = {"customer_id": shard, "order_id": order_ids[create_tag], "reason": tag_text(tag)}
            envelope = command(
                "orders.CancelOrder",
                data,
                source=SOURCE,
                partitionkey=shard,
                replyto=replyto,
                id=f"x-{self.seed}-{tag}",
            )
            cancels.append(_outgoing(tag, shard, "cancel", envelope, order_tag=create_tag))
        return cancels


def _outgoing(tag: int, shard: str, kind: str, envelope: Envelope, *, order_tag: int | None = None) -> Outgoing:
    from messaging.fifo import deduplication_id  # noqa: PLC0415

    return Outgoing(
        tag, shard, kind, codec.encode(envelope), shard, deduplication_id(envelope), envelope, order_tag=order_tag
    )


def entry(outgoing: Outgoing) -> dict[str, Any]:
    """The ``SendMessageBatch`` entry of a message (without its ``Id``)."""
    return {
        "MessageBody": outgoing.body,
        "MessageGroupId": outgoing.group_id,
        "MessageDeduplicationId": outgoing.dedup_id,
    }
