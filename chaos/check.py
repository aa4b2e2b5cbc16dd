"""The invariants of a chaos run, checked from the recorded history and the final state read back through AWS APIs.

- ``lost``: a valid command whose effect is missing (no order for a CreateOrder, an order not cancelled by its
  CancelOrder), or an event a subscriber never applied (an order without its invoice or confirmation, a cancelled
  order without its credit note);
- ``duplicate_effects``: the same effect applied more than once (history: two writes that took effect for one order,
  cancellation, invoice, credit note or confirmation; final state: two orders for one CreateOrder);
- ``reorders``: within a shard, an effect applied before the effect of a command (or event) sent earlier;
- ``poison_in_dlq`` / ``valid_in_dlq``: distinct poison and valid messages found in the dead-letter queues;
- ``replies_missing`` / ``replies_duplicated``: requests that asked for a reply and have none, or more than one.

Example:
    >>> from chaos.history import Effect, Sent
    >>> sent = [Sent(1, "c-1", "create", "m-1")]
    >>> state = FinalState(orders=[StoredOrder("o-1", "c-1", 1, "open", None)], invoices={"o-1"},
    ...                    credit_notes=set(), notifications={"o-1"}, replies={}, dead_letters=[])
    >>> effects = [Effect(1, "orders", "order_created", "1", "c-1", "orders")]
    >>> check(sent, effects, state).ok
    True
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from chaos.history import TAG, Effect, Sent
from chaos.workload import POISON_MARKER


@dataclass(frozen=True)
class StoredOrder:
    order_id: str
    shard: str
    create_tag: int | None
    status: str
    cancel_tag: int | None


@dataclass
class FinalState:
    """What the run left behind, as read through AWS APIs."""

    orders: list[StoredOrder]
    invoices: set[str]
    credit_notes: set[str]
    notifications: set[str]
    replies: dict[str, int]  # correlation id -> replies stored
    dead_letters: list[str]  # bodies found in every dead-letter queue


@dataclass
class Verdict:
    lost: int = 0
    duplicate_effects: int = 0
    reorders: int = 0
    poison_injected: int = 0
    poison_in_dlq: int = 0
    valid_in_dlq: int = 0
    replies_missing: int = 0
    replies_duplicated: int = 0
    details: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicate_effects == 0
            and self.reorders == 0
            and self.valid_in_dlq == 0
            and self.replies_missing == 0
            and self.replies_duplicated == 0
            and self.poison_in_dlq == self.poison_injected
        )

    def note(self, invariant: str, what: str) -> None:
        if len(self.details[invariant]) < 5:
            self.details[invariant].append(what)


def check(sent: Sequence[Sent], effects: Sequence[Effect], state: FinalState) -> Verdict:
    verdict = Verdict()
    valid = [s for s in sent if s.kind in ("create", "cancel")]
    verdict.poison_injected = len({s.tag for s in sent if s.kind == "poison"})
    _lost(valid, state, verdict)
    _duplicates(effects, state, verdict)
    _reorders(sent, effects, state, verdict)
    _dead_letters(sent, state, verdict)
    _replies(valid, state, verdict)
    return verdict


def _lost(valid: Sequence[Sent], state: FinalState, verdict: Verdict) -> None:
    orders_by_tag: dict[int, list[StoredOrder]] = defaultdict(list)
    for order in state.orders:
        if order.create_tag is not None:
            orders_by_tag[order.create_tag].append(order)
    for message in valid:
        if message.kind == "create" and not orders_by_tag.get(message.tag):
            verdict.lost += 1
            verdict.note("lost", f"CreateOrder chaos#{message.tag} ({message.shard}): no order")
        if message.kind == "cancel":
            orders = orders_by_tag.get(message.order_tag or -1, [])
            if not any(o.status == "cancelled" and o.cancel_tag == message.tag for o in orders):
                verdict.lost += 1
                verdict.note("lost", f"CancelOrder chaos#{message.tag} ({message.shard}): order not cancelled by it")
    created_tags = {m.tag for m in valid if m.kind == "create"}
    for order in state.orders:
        if order.create_tag not in created_tags:
            continue
        if order.order_id not in state.invoices:
            verdict.lost += 1
            verdict.note("lost", f"OrderCreated {order.order_id}: billing never invoiced it")
        if order.order_id not in state.notifications:
            verdict.lost += 1
            verdict.note("lost", f"OrderCreated {order.order_id}: no confirmation sent")
        if order.status == "cancelled" and order.order_id not in state.credit_notes:
            verdict.lost += 1
            verdict.note("lost", f"OrderCancelled {order.order_id}: billing never credited it")


def _duplicates(effects: Sequence[Effect], state: FinalState, verdict: Verdict) -> None:
    counts = Counter((e.service, e.kind, e.key) for e in effects)
    from_history = 0
    for (service, kind, key), count in sorted(counts.items()):
        if count > 1:
            from_history += count - 1
            verdict.note("duplicate_effects", f"{service} {kind} {key}: applied {count} times")
    per_tag = Counter(o.create_tag for o in state.orders if o.create_tag is not None)
    from_state = sum(count - 1 for count in per_tag.values() if count > 1)
    for tag, count in per_tag.items():
        if count > 1:
            verdict.note("duplicate_effects", f"CreateOrder chaos#{tag}: {count} orders in the table")
    verdict.duplicate_effects = max(from_history, from_state)


def _first_applied(effects: Iterable[Effect]) -> dict[tuple[str, str, str], int]:
    first: dict[tuple[str, str, str], int] = {}
    for effect in effects:
        first.setdefault((effect.service, effect.kind, effect.key), effect.seq)
    return first


def _inversions(sequence: Sequence[tuple[int, int]]) -> int:
    """(applied at, sent position) pairs: how many were applied after one sent later than them."""
    inversions, highest = 0, -1
    for _, position in sorted(sequence):
        if position < highest:
            inversions += 1
        highest = max(highest, position)
    return inversions


def _reorders(sent: Sequence[Sent], effects: Sequence[Effect], state: FinalState, verdict: Verdict) -> None:
    position = {s.tag: index for index, s in enumerate(sent)}
    first = _first_applied(effects)
    order_of = {o.order_id: o for o in state.orders}
    per_shard: dict[str, list[tuple[int, int]]] = defaultdict(list)
    per_subscriber: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for (service, kind, key), seq in first.items():
        if service == "orders":
            tag = int(key) if key.isdigit() else None
            if tag in position and tag is not None:
                per_shard[sent[position[tag]].shard].append((seq, position[tag]))
            continue
        order = order_of.get(key)
        if order is None:
            continue
        cause = order.cancel_tag if kind == "credit_note" else order.create_tag
        if cause in position and cause is not None:
            per_subscriber[(service, order.shard)].append((seq, position[cause]))
    for shard, applied in per_shard.items():
        found = _inversions(applied)
        if found:
            verdict.reorders += found
            verdict.note("reorders", f"orders, shard {shard}: {found} effect(s) applied out of send order")
    for (service, shard), applied in per_subscriber.items():
        found = _inversions(applied)
        if found:
            verdict.reorders += found
            verdict.note("reorders", f"{service}, shard {shard}: {found} event(s) applied out of order")


def _dead_letters(sent: Sequence[Sent], state: FinalState, verdict: Verdict) -> None:
    poison_tags = {s.tag for s in sent if s.kind == "poison"}
    valid_ids = {s.message_id: s.tag for s in sent if s.kind != "poison"}
    found_poison: set[int] = set()
    found_valid: set[str] = set()
    for body in state.dead_letters:
        if POISON_MARKER in body:
            tags = [int(t) for t in _poison_tags(body)]
            found_poison.update(t for t in tags if t in poison_tags)
            continue
        matched = [message_id for message_id in valid_ids if message_id in body]
        found_valid.update(matched or [f"unidentified: {body[:80]}"])
    verdict.poison_in_dlq = len(found_poison)
    verdict.valid_in_dlq = len(found_valid)
    for what in sorted(found_valid):
        verdict.note("valid_in_dlq", what)
    for tag in sorted(poison_tags - found_poison):
        verdict.note("poison_in_dlq", f"poison chaos#{tag} is not in a dead-letter queue")


def _poison_tags(body: str) -> list[str]:
    marker = f"{POISON_MARKER}-"
    tags = []
    for part in body.split(marker)[1:]:
        digits = ""
        for char in part:
            if not char.isdigit():
                break
            digits += char
        if digits:
            tags.append(digits)
    return tags


def _replies(valid: Sequence[Sent], state: FinalState, verdict: Verdict) -> None:
    for message in valid:
        if message.correlation_id is None:
            continue
        count = state.replies.get(message.correlation_id, 0)
        if count == 0:
            verdict.replies_missing += 1
            verdict.note("replies_missing", f"{message.kind} chaos#{message.tag}: no reply")
        elif count > 1:
            verdict.replies_duplicated += count - 1
            verdict.note("replies_duplicated", f"{message.kind} chaos#{message.tag}: {count} replies")


def order_tags(lines: str, cancel_reason: str) -> tuple[int | None, int | None]:
    """The create tag (in the order lines) and the cancel tag (in the reason) of a stored order."""
    create, cancel = TAG.search(lines), TAG.search(cancel_reason)
    return (int(create.group(1)) if create else None, int(cancel.group(1)) if cancel else None)
