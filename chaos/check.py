"""The invariants of a chaos run, checked from the recorded history, what clients read and the final state.

The verdict is a list of named invariants (:class:`Invariant`): each one a figure the checker counts and the value it
must have (0, or a named expectation such as ``poison_in_dlq == poison_injected``). The run passes when every
invariant holds; the JSON line carries each invariant's figure under its name and, under ``invariants``, what each
must be. The invariants of the delivery proof (:func:`check`):

- ``lost``: a valid command whose effect is missing (no order for a CreateOrder, an order not cancelled by the first
  CancelOrder sent for it), or an event a subscriber never applied (an order without its invoice or confirmation, a
  cancelled order without its credit note);
- ``duplicate_effects``: the same effect applied more than once (history: two writes that took effect for one order,
  cancellation, invoice, credit note or confirmation; final state: two orders for one CreateOrder);
- ``reorders``: within a shard, an effect applied before the effect of a command (or event) sent earlier;
- ``unidentifiable``: an effect the reorder check cannot place (no command tag, no stored order, a cause the harness
  never sent): every effect is checked for order or counted here;
- ``valid_in_dlq``: a valid message in a dead-letter queue, or a body there the harness cannot name exactly;
- ``poison_in_dlq``: distinct poison messages found in a dead-letter queue, each identified by its exact body; must
  equal ``poison_injected``;
- ``replies_missing`` / ``replies_duplicated`` / ``replies_wrong``: a valid request with no reply as a client reads it
  (the reply store's query), with replies of more than one identity (``source``, ``id``), counted over every reply
  delivered to the reply queue and not over the store's keys (a redelivered copy is the same reply), or with a reply,
  delivered or stored, whose content is not the one expected from the effect applied (order id, status, total; for
  a refused CancelOrder its failure code): a copy with the request's reply id but other content is wrong, though the
  store would have kept only one of the two;
- ``failure_replies_missing`` / ``failure_replies_wrong``: a poison request that must be answered (an allowed
  ``replyto``, a code that is answered) with no failure reply, or a reply to a poison request that is not the failure
  with its expected code (a success, another code, or any reply to one that must not be answered).

Plugging in a scenario: a scenario module (``chaos/<scenario>.py``) declares its own invariants on a :class:`Verdict`
(:meth:`Verdict.declare`, figure 0 or an expectation), counts what it finds (:meth:`Verdict.count`), and the run
merges it into the run's verdict (:meth:`Verdict.merge`); the report, the JSON line, ``make figures`` and the tests
then treat its invariants like these (``tests/unit/test_chaos_check.py`` flips each invariant alone).

Example:
    >>> from chaos.history import Effect, Sent
    >>> sent = [Sent(1, "c-1", "create", "m-1")]
    >>> state = FinalState(orders=[StoredOrder("o-1", "c-1", 1, "open", None)], invoices={"o-1"},
    ...                    credit_notes=set(), notifications={"o-1"}, replies={}, dead_letters=[])
    >>> effects = [Effect(1, "orders", "order_created", "1", "c-1", "orders")]
    >>> verdict = check(sent, effects, state)
    >>> verdict.ok, verdict["lost"], [i.name for i in verdict][:3]
    (True, 0, ['lost', 'duplicate_effects', 'reorders'])
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chaos.history import TAG, Effect, Sent

MAX_EXAMPLES = 5
"""Examples kept per invariant for the report."""


@dataclass
class Invariant:
    """One clause of the verdict: ``found`` must equal ``expected`` (0 unless the invariant names an expectation)."""

    name: str
    meaning: str
    expected: int = 0
    found: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return self.found == self.expected


class Verdict:
    """The invariants of a run, in the order they were declared.

    Example:
        >>> verdict = Verdict()
        >>> verdict.declare("lost", "a command without its effect")
        >>> verdict.count("lost", example="CreateOrder chaos#3: no order")
        >>> verdict.ok, verdict["lost"], verdict.violated()
        (False, 1, ['lost'])
    """

    def __init__(self) -> None:
        self._invariants: dict[str, Invariant] = {}

    def declare(self, name: str, meaning: str, *, expected: int = 0) -> None:
        """Add an invariant (figure 0, expected ``expected``); a name is declared once."""
        if name in self._invariants:
            raise ValueError(f"invariant {name} is already declared")
        self._invariants[name] = Invariant(name, meaning, expected)

    def count(self, name: str, found: int = 1, *, example: str | None = None) -> None:
        """Add ``found`` to invariant ``name`` (with an example for the report)."""
        invariant = self._invariants[name]
        invariant.found += found
        if example is not None and len(invariant.examples) < MAX_EXAMPLES:
            invariant.examples.append(example)

    def note(self, name: str, example: str) -> None:
        """An example for the report without a count (e.g. which poison message is not in a DLQ)."""
        invariant = self._invariants[name]
        if len(invariant.examples) < MAX_EXAMPLES:
            invariant.examples.append(example)

    def merge(self, other: Verdict) -> None:
        """Take in the invariants of another check (a scenario module's)."""
        for invariant in other:
            if invariant.name in self._invariants:
                raise ValueError(f"invariant {invariant.name} is declared twice")
            self._invariants[invariant.name] = invariant

    def __iter__(self) -> Iterator[Invariant]:
        return iter(list(self._invariants.values()))

    def __getitem__(self, name: str) -> int:
        return self._invariants[name].found

    def invariant(self, name: str) -> Invariant:
        return self._invariants[name]

    @property
    def ok(self) -> bool:
        return all(invariant.holds for invariant in self._invariants.values())

    def violated(self) -> list[str]:
        return [invariant.name for invariant in self._invariants.values() if not invariant.holds]

    def figures(self) -> dict[str, int]:
        """Every invariant's figure by name (the JSON line's keys)."""
        return {invariant.name: invariant.found for invariant in self._invariants.values()}

    def expectations(self) -> dict[str, int]:
        """What each invariant's figure must be, by name."""
        return {invariant.name: invariant.expected for invariant in self._invariants.values()}

    @property
    def details(self) -> dict[str, list[str]]:
        return {invariant.name: list(invariant.examples) for invariant in self if invariant.examples}


@dataclass(frozen=True)
class StoredOrder:
    order_id: str
    shard: str
    create_tag: int | None
    status: str
    cancel_tag: int | None


@dataclass(frozen=True)
class Reply:
    """A reply as a client reads it: who sent it, its id, and its ``data`` (the outcome) as canonical JSON."""

    source: str
    id: str
    data_json: str

    @classmethod
    def of(cls, source: str, id: str, data: Any) -> Reply:
        return cls(source, id, json.dumps(data, sort_keys=True, separators=(",", ":"), default=str))

    @classmethod
    def parse(cls, body: str) -> tuple[str, Reply] | None:
        """(correlation id, reply) of a reply's CloudEvents JSON, or None when it is not one."""
        try:
            document = json.loads(body)
        except ValueError:
            return None
        if not isinstance(document, dict) or not isinstance(document.get("correlationid"), str):
            return None
        return document["correlationid"], cls.of(str(document.get("source")), str(document.get("id")),
                                                  document.get("data"))

    @property
    def data(self) -> Any:
        return json.loads(self.data_json)


@dataclass
class FinalState:
    """What the run left behind, as read through AWS APIs, and what reached the reply queue."""

    orders: list[StoredOrder]
    invoices: set[str]
    credit_notes: set[str]
    notifications: set[str]
    replies: Mapping[str, Sequence[Reply]]
    """Correlation id -> the replies a client reads (the reply store's query)."""
    dead_letters: list[str]
    """Bodies found in every dead-letter queue."""
    delivered_replies: Mapping[str, Sequence[Reply]] = field(default_factory=dict)
    """Correlation id -> every reply delivered to the reply queue's consumer (copies included)."""


INVARIANTS: tuple[tuple[str, str], ...] = (
    ("lost", "commands or events whose effect is missing"),
    ("duplicate_effects", "effects applied more than once"),
    ("reorders", "effects applied out of send order within a shard"),
    ("unidentifiable", "effects the reorder check cannot place"),
    ("valid_in_dlq", "valid or unidentified messages in a dead-letter queue"),
    ("poison_in_dlq", "poison messages in a dead-letter queue (all of them)"),
    ("replies_missing", "requests a client finds no reply to"),
    ("replies_duplicated", "distinct replies beyond one per request"),
    ("replies_wrong", "requests with a reply other than the one expected"),
    ("failure_replies_missing", "poison requests without their failure reply"),
    ("failure_replies_wrong", "poison requests answered with another outcome or code"),
)
"""The delivery proof's invariants, in report order (name, meaning)."""


def check(sent: Sequence[Sent], effects: Sequence[Effect], state: FinalState) -> Verdict:
    verdict = Verdict()
    poison_injected = len({s.tag for s in sent if s.kind == "poison"})
    for name, meaning in INVARIANTS:
        verdict.declare(name, meaning, expected=poison_injected if name == "poison_in_dlq" else 0)
    valid = [s for s in sent if s.kind in ("create", "cancel")]
    effective = _effective_cancels(valid)
    _lost(valid, effective, state, verdict)
    _duplicates(effects, state, verdict)
    _reorders(sent, effects, state, verdict)
    _dead_letters(sent, state, verdict)
    _replies(sent, effective, state, verdict)
    return verdict


def _effective_cancels(valid: Sequence[Sent]) -> dict[int, int]:
    """Create tag -> the tag of the first CancelOrder sent for its order (the one that must cancel it)."""
    first: dict[int, int] = {}
    for message in valid:
        if message.kind == "cancel" and message.order_tag is not None:
            first.setdefault(message.order_tag, message.tag)
    return first


def _orders_by_tag(state: FinalState) -> dict[int, list[StoredOrder]]:
    orders: dict[int, list[StoredOrder]] = defaultdict(list)
    for order in state.orders:
        if order.create_tag is not None:
            orders[order.create_tag].append(order)
    return orders


def _lost(valid: Sequence[Sent], effective: Mapping[int, int], state: FinalState, verdict: Verdict) -> None:
    orders_by_tag = _orders_by_tag(state)
    for message in valid:
        if message.kind == "create" and not orders_by_tag.get(message.tag):
            verdict.count("lost", example=f"CreateOrder chaos#{message.tag} ({message.shard}): no order")
        if message.kind == "cancel" and effective.get(message.order_tag or -1) == message.tag:
            orders = orders_by_tag.get(message.order_tag or -1, [])
            if not any(o.status == "cancelled" and o.cancel_tag == message.tag for o in orders):
                verdict.count("lost", example=f"CancelOrder chaos#{message.tag} ({message.shard}): order not "
                                              "cancelled by it")
    created_tags = {m.tag for m in valid if m.kind == "create"}
    for order in state.orders:
        if order.create_tag not in created_tags:
            continue
        if order.order_id not in state.invoices:
            verdict.count("lost", example=f"OrderCreated {order.order_id}: billing never invoiced it")
        if order.order_id not in state.notifications:
            verdict.count("lost", example=f"OrderCreated {order.order_id}: no confirmation sent")
        if order.status == "cancelled" and order.order_id not in state.credit_notes:
            verdict.count("lost", example=f"OrderCancelled {order.order_id}: billing never credited it")


def _duplicates(effects: Sequence[Effect], state: FinalState, verdict: Verdict) -> None:
    counts = Counter((e.service, e.kind, e.key) for e in effects)
    from_history = sum(count - 1 for count in counts.values() if count > 1)
    per_tag = Counter(o.create_tag for o in state.orders if o.create_tag is not None)
    from_state = sum(count - 1 for count in per_tag.values() if count > 1)
    verdict.count("duplicate_effects", max(from_history, from_state))
    for (service, kind, key), count in sorted(counts.items()):
        if count > 1:
            verdict.note("duplicate_effects", f"{service} {kind} {key}: applied {count} times")
    for tag, count in sorted(per_tag.items()):
        if count > 1:
            verdict.note("duplicate_effects", f"CreateOrder chaos#{tag}: {count} orders in the table")


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
            if tag is None or tag not in position:
                verdict.count("unidentifiable", example=f"orders {kind} {key}: no command the harness sent")
                continue
            per_shard[sent[position[tag]].shard].append((seq, position[tag]))
            continue
        order = order_of.get(key)
        if order is None:
            verdict.count("unidentifiable", example=f"{service} {kind} {key}: no such order in the table")
            continue
        cause = order.cancel_tag if kind == "credit_note" else order.create_tag
        if cause is None or cause not in position:
            verdict.count("unidentifiable", example=f"{service} {kind} {key}: its command is unknown")
            continue
        per_subscriber[(service, order.shard)].append((seq, position[cause]))
    for shard, applied in sorted(per_shard.items()):
        found = _inversions(applied)
        if found:
            verdict.count("reorders", found, example=f"orders, shard {shard}: {found} effect(s) out of send order")
    for (service, shard), applied in sorted(per_subscriber.items()):
        found = _inversions(applied)
        if found:
            verdict.count("reorders", found, example=f"{service}, shard {shard}: {found} event(s) applied out of order")


def _dead_letters(sent: Sequence[Sent], state: FinalState, verdict: Verdict) -> None:
    """Each body in a DLQ is named exactly: a body the harness sent (poison or valid), else a message by its
    (``source``, ``id``); anything else is unidentified and counts as valid (nothing but poison belongs there)."""
    by_body = {s.body: s for s in sent if s.body is not None}
    by_identity = {(s.source, s.message_id): s for s in sent if s.source is not None}
    found_poison: set[int] = set()
    found_valid: set[str] = set()
    for body in state.dead_letters:
        message = by_body.get(body)
        if message is None:
            identity = _identity(body)
            message = by_identity.get(identity) if identity is not None else None
            if message is None:
                found_valid.add(f"{identity[0]} {identity[1]}" if identity else f"unidentified: {body[:80]}")
                continue
        if message.kind == "poison":
            found_poison.add(message.tag)
        else:
            found_valid.add(f"{message.kind} chaos#{message.tag}")
    verdict.count("poison_in_dlq", len(found_poison))
    verdict.count("valid_in_dlq", len(found_valid))
    for what in sorted(found_valid):
        verdict.note("valid_in_dlq", what)
    for tag in sorted({s.tag for s in sent if s.kind == "poison"} - found_poison):
        verdict.note("poison_in_dlq", f"poison chaos#{tag} is not in a dead-letter queue")


def _identity(body: str) -> tuple[str, str] | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if isinstance(document, dict) and isinstance(document.get("source"), str) and isinstance(document.get("id"), str):
        return document["source"], document["id"]
    return None


@dataclass(frozen=True)
class Expected:
    """The reply a request must get: a success with ``result`` (``order_ids``: any of these orders, when the
    table holds more than one for it), or a failure with ``code``."""

    code: str | None = None
    result: Mapping[str, str] | None = None
    order_ids: frozenset[str] = frozenset()

    def matches(self, data: Any) -> bool:
        if not isinstance(data, dict):
            return False
        if self.code is not None:
            error = data.get("error")
            return data.get("outcome") == "failure" and isinstance(error, dict) and error.get("code") == self.code
        result = data.get("result")
        if data.get("outcome") != "success" or not isinstance(result, dict) or self.result is None:
            return False
        return result.get("order_id") in self.order_ids and all(result.get(k) == v for k, v in self.result.items())

    def describe(self) -> str:
        return f"failure {self.code}" if self.code is not None else f"success {dict(self.result or {})}"


def _expected_replies(sent: Sequence[Sent], effective: Mapping[int, int], state: FinalState) -> dict[int, Expected]:
    """Request tag -> the reply it must get (requests whose effect is missing get none here: ``lost`` counts them)."""
    orders_by_tag = _orders_by_tag(state)
    expected: dict[int, Expected] = {}
    for message in sent:
        if message.correlation_id is None:
            continue
        if message.kind == "poison":
            if message.failure_code is not None:
                expected[message.tag] = Expected(code=message.failure_code)
            continue
        create_tag = message.tag if message.kind == "create" else message.order_tag
        orders = orders_by_tag.get(create_tag or -1, [])
        if message.kind == "cancel" and effective.get(create_tag or -1) != message.tag:
            expected[message.tag] = Expected(code="order_already_cancelled" if orders else "order_not_found")
            continue
        if message.kind == "cancel":  # the order it cancelled (none: lost counts it)
            orders = [o for o in orders if o.cancel_tag == message.tag]
        if not orders:
            continue
        status = "open" if message.kind == "create" else "cancelled"
        result = {"customer_id": message.shard, "status": status, "currency": "EUR"}
        if message.total is not None:
            result["total"] = message.total
        expected[message.tag] = Expected(result=result, order_ids=frozenset(o.order_id for o in orders))
    return expected


def _replies(sent: Sequence[Sent], effective: Mapping[int, int], state: FinalState, verdict: Verdict) -> None:
    expected = _expected_replies(sent, effective, state)
    for message in sent:
        if message.correlation_id is None:
            continue
        poison = message.kind == "poison"
        missing, wrong = ("failure_replies_missing", "failure_replies_wrong") if poison else (
            "replies_missing", "replies_wrong")
        read = list(state.replies.get(message.correlation_id, ()))
        delivered = list(state.delivered_replies.get(message.correlation_id, ()))
        distinct = set(read) | set(delivered)
        want = expected.get(message.tag)
        label = f"{message.kind} chaos#{message.tag}"
        if want is None:
            if poison and distinct:  # a poison request that must not be answered
                verdict.count(wrong, example=f"{label}: answered, though it must not be")
            continue
        if not read:
            verdict.count(missing, example=f"{label}: no reply")
        identities = {(reply.source, reply.id) for reply in distinct}
        if len(identities) > 1:
            verdict.count("replies_duplicated", len(identities) - 1, example=f"{label}: {len(identities)} replies")
        bad = [reply for reply in sorted(distinct, key=lambda r: (r.source, r.id)) if not want.matches(reply.data)]
        if bad:
            verdict.count(wrong, example=f"{label}: {bad[0].data_json[:120]}, expected {want.describe()}")


def order_tags(lines: str, cancel_reason: str) -> tuple[int | None, int | None]:
    """The create tag (in the order lines) and the cancel tag (in the reason) of a stored order."""
    create, cancel = TAG.search(lines), TAG.search(cancel_reason)
    return (int(create.group(1)) if create else None, int(cancel.group(1)) if cancel else None)
