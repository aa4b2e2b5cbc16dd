"""The seeded workload of a chaos run: CreateOrder commands across shards with poison messages mixed into the same
shards, some of them claim-checked (``dataref``), some followed at once by a CancelOrder racing them in their group,
then CancelOrder commands for some of the orders that were created (a few of them a second time).

Poison comes in the kinds a client can get wrong (:data:`POISON_KINDS`), each with the failure code its failure reply
must carry, or None where no reply is due (a body that is not JSON, a ``replyto`` outside the allowlist).

Every command carries its tag ``chaos#<n>`` where its effect stores it (the sku of the order line, the cancel reason),
so the checker can tell which command an order, a cancellation or a DLQ entry came from, whichever consumer ran.

Example::

    workload = Workload.generate(messages=1000, shards=50, seed=7, poison_rate=0.03, reply_queue_url=url,
                                 claim_bucket=bucket, order_id_of=derived_order_id)
    len(workload.creates), len(workload.poison)
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope, command

SOURCE = "/chaos/client"
POISON_MARKER = "chaos-poison"
CANCEL_SHARE = 0.25
"""Of ``messages``, the share sent as CancelOrder in the second phase (the rest are CreateOrder)."""
REPLY_SHARE = 0.5
"""Of the valid commands, the share that asks for a reply (the others are notifications)."""
CLAIM_SHARE = 0.05
"""Of the CreateOrder commands, the share sent claim-checked: ``data`` in the claim-check bucket, ``dataref`` on the
wire (what a client does with a message over 256 KiB)."""
RACING_SHARE = 0.1
"""Of the CreateOrder commands, the share followed at once by a CancelOrder of the order they create (sent before the
order exists: the client names it as the product derives it)."""
DOUBLE_CANCEL_SHARE = 0.3
"""Of the orders cancelled by a racing CancelOrder, the share cancelled again in the last phase (answered
``order_already_cancelled``)."""
POISON_KINDS: dict[str, str | None] = {
    "not_json": None,
    "unknown_type": "unknown_type",
    "invalid_payload": "invalid_payload",
    "specversion": "invalid_attribute",
    "replyto_not_allowed": None,
    "dataref_missing": "dataref_unresolvable",
    "shard_key_mismatch": "partitionkey_mismatch",
}
"""Kind of poison -> the failure code its reply must carry (None: no reply is due)."""

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
    total: str | None = None
    failure_code: str | None = None
    claim_checked: bool = False
    poison_kind: str | None = None

    @property
    def message_id(self) -> str:
        return self.envelope.id if self.envelope is not None else f"{POISON_MARKER}-{self.tag}"


def tag_text(tag: int) -> str:
    return f"chaos#{tag}"


def _poison(  # noqa: PLR0917 - one poison message's inputs
    tag: int, number: int, shard: str, other_shard: str, rng: random.Random, reply_queue_url: str, claim_bucket: str
) -> tuple[str, str]:
    """A permanently invalid message of one of :data:`POISON_KINDS`; the checker knows it by its exact body."""
    marker = f"{POISON_MARKER}-{tag}"
    valid = json.loads(
        codec.encode(
            command(
                "orders.CreateOrder",
                {"customer_id": shard, "lines": [{"sku": f"{marker} {tag_text(tag)}", "quantity": 1,
                                                  "unit_price": "1.00"}]},
                source=SOURCE,
                partitionkey=shard,
                replyto=reply_queue_url,
                id=marker,
            )
        )
    )
    kinds = sorted(POISON_KINDS)
    kind = kinds[number % len(kinds)]  # in turn: a run with seven poison messages has every kind
    if kind == "not_json":
        return kind, f'{{"id": "{marker}", "broken'
    if kind == "unknown_type":
        valid["type"] = "orders.ShipOrder"
    elif kind == "invalid_payload":
        valid["data"]["lines"][0]["quantity"] = 0
    elif kind == "specversion":
        valid["specversion"] = "0.3"
    elif kind == "dataref_missing":  # a claim check whose object is not in the bucket
        del valid["data"]
        valid["dataref"] = f"s3://{claim_bucket}/claims/{marker}-missing"
    elif kind == "shard_key_mismatch":  # in one customer's group, naming another customer
        valid["data"]["customer_id"] = other_shard
    else:
        valid["replyto"] = "https://sqs.us-east-1.amazonaws.com/999999999999/elsewhere.fifo"
    return kind, json.dumps(valid)


def order_total(quantity: int, unit_price: str) -> str:
    """The total an order's reply states, as the product writes money (two decimals).

    >>> order_total(3, "7.50")
    '22.50'
    """
    return str(sum((Decimal(unit_price) * quantity,), Decimal("0.00")))


@dataclass
class Workload:
    first: list[Outgoing]
    """The first phase in send order: creates, racing cancels, poison."""
    shards: list[str]
    cancel_count: int
    reply_queue_url: str
    seed: int

    @classmethod
    def generate(
        cls,
        *,
        messages: int,
        shards: int,
        seed: int,
        poison_rate: float,
        reply_queue_url: str,
        claim_bucket: str = "chaos-claims",
        order_id_of: Callable[[Envelope], str] | None = None,
    ) -> Workload:
        """``order_id_of`` names the order a CreateOrder will create (the product derives it from the command);
        without it (a consumer with random order ids) no CancelOrder races its create."""
        rng = random.Random(seed)
        racing_rng = random.Random(seed + 1)  # its own draws: both consumers get the same creates and poison
        customers = [f"chaos-{seed}-{n:04d}" for n in range(shards)]
        cancel_count = int(messages * CANCEL_SHARE)
        create_count = messages - cancel_count
        first: list[Outgoing] = []
        tag = 0
        for n in range(create_count):
            tag += 1
            shard = customers[n % shards] if n < shards else rng.choice(customers)
            replyto = reply_queue_url if rng.random() < REPLY_SHARE else None
            quantity, price = 1 + tag % 3, f"{1 + tag % 50}.50"
            data = {"customer_id": shard, "lines": [{"sku": tag_text(tag), "quantity": quantity, "unit_price": price}]}
            envelope = command(
                "orders.CreateOrder", data, source=SOURCE, partitionkey=shard, replyto=replyto, id=f"c-{seed}-{tag}"
            )
            create = _outgoing(tag, shard, "create", envelope, total=order_total(quantity, price))
            if rng.random() < CLAIM_SHARE:
                create = replace(create, claim_checked=True)
            first.append(create)
            if order_id_of is not None and racing_rng.random() < RACING_SHARE:
                tag += 1
                first.append(_cancel(tag, create, order_id_of(envelope), racing_rng, reply_queue_url, seed))
            if rng.random() < poison_rate:
                tag += 1
                other = customers[(customers.index(shard) + 1) % len(customers)] if shards > 1 else f"{shard}-x"
                number = seed + sum(1 for o in first if o.kind == "poison")
                kind, body = _poison(tag, number, shard, other, rng, reply_queue_url, claim_bucket)
                first.append(
                    Outgoing(tag, shard, "poison", body, shard, f"{POISON_MARKER}-{tag}",
                             failure_code=POISON_KINDS[kind], poison_kind=kind)
                )
        racing = sum(1 for o in first if o.kind == "cancel")
        return cls(first, customers, max(0, cancel_count - racing), reply_queue_url, seed)

    @property
    def creates(self) -> list[Outgoing]:
        return [o for o in self.first if o.kind == "create"]

    @property
    def poison(self) -> list[Outgoing]:
        return [o for o in self.first if o.kind == "poison"]

    def first_phase(self) -> list[Outgoing]:
        """Creates, racing cancels and poison in tag order (per shard: send order)."""
        return list(self.first)

    def cancels(self, order_ids: dict[int, str], rng: random.Random) -> list[Outgoing]:
        """CancelOrder commands for ``cancel_count`` of the created orders not cancelled yet, plus a second
        CancelOrder for some of those a racing cancel took (``order_ids``: create tag -> order id)."""
        by_tag = {o.tag: o for o in self.creates}  # an order a poison message made (naive consumer) is not one
        raced = sorted({o.order_tag for o in self.first if o.kind == "cancel" and o.order_tag in order_ids})
        candidates = sorted(set(order_ids) & set(by_tag) - set(raced))
        again = [t for t in raced if rng.random() < DOUBLE_CANCEL_SHARE]
        chosen = rng.sample(candidates, min(max(0, self.cancel_count - len(again)), len(candidates)))
        next_tag = max((o.tag for o in self.first), default=0)
        return [
            _cancel(next_tag + offset, by_tag[create_tag], order_ids[create_tag], rng, self.reply_queue_url, self.seed)
            for offset, create_tag in enumerate(sorted(chosen + again), start=1)
        ]


def _cancel(  # noqa: PLR0917 - one cancel's inputs
    tag: int, create: Outgoing, order_id: str, rng: random.Random, reply_queue_url: str, seed: int
) -> Outgoing:
    replyto = reply_queue_url if rng.random() < REPLY_SHARE else None
    data = {"customer_id": create.shard, "order_id": order_id, "reason": tag_text(tag)}
    envelope = command(
        "orders.CancelOrder", data, source=SOURCE, partitionkey=create.shard, replyto=replyto, id=f"x-{seed}-{tag}"
    )
    return _outgoing(tag, create.shard, "cancel", envelope, order_tag=create.tag, total=create.total)


def _outgoing(
    tag: int, shard: str, kind: str, envelope: Envelope, *, order_tag: int | None = None, total: str | None = None
) -> Outgoing:
    from messaging.fifo import deduplication_id  # noqa: PLC0415

    return Outgoing(
        tag, shard, kind, codec.encode(envelope), shard, deduplication_id(envelope), envelope, order_tag=order_tag,
        total=total,
    )


def claim_checked(outgoing: Outgoing, claims: Any) -> Outgoing:
    """``outgoing`` with its ``data`` stored through ``claims`` (a :class:`messaging.claim_check.ClaimCheck`) and a
    ``dataref`` in its place, as a client sends a message over the channel limit."""
    from messaging.claim_check import data_bytes  # noqa: PLC0415

    envelope = outgoing.envelope
    if envelope is None:
        raise ValueError("only a valid command is claim-checked")
    sent = replace(envelope, data=None, dataref=claims.store(envelope, data_bytes(envelope.data)))
    return replace(outgoing, body=codec.encode(sent), envelope=sent)


def entry(outgoing: Outgoing) -> dict[str, Any]:
    """The ``SendMessageBatch`` entry of a message (without its ``Id``)."""
    return {
        "MessageBody": outgoing.body,
        "MessageGroupId": outgoing.group_id,
        "MessageDeduplicationId": outgoing.dedup_id,
    }
