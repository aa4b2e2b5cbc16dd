"""One preparation for every sender: the client (MessagingClient.prepare) and the outbox producer (a staged message)
make the same envelope of the same arguments, and refuse the same mistakes with the same error, because both call
messaging.preparation.prepare_envelope. With a catalogue, the producer checks what it stages as the client does."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from catalogue import CATALOGUE
from messaging.client import MessagingClient
from messaging.contracts import Catalogue
from messaging.envelope import Envelope, Kind
from messaging.errors import InvalidRequest
from messaging.producer import InMemoryOutboxStore, OutboxProducer
from messaging.reply_store import InMemoryReplyStore
from messaging.tracecontext import is_valid, new_traceparent

pytestmark = pytest.mark.unit

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/orders-commands.fifo"
REPLIES = "https://sqs.us-east-1.amazonaws.com/123456789012/replies.fifo"
LINE = {"sku": "book", "quantity": 2, "unit_price": "12.50"}
TRACE = new_traceparent()
SERVICE_KEYS = {"widgets.CreateWidget": "owner_id"}  # a type `make service` registered, not catalogued


def client(catalogue: Catalogue | None) -> MessagingClient:
    return MessagingClient(REPLIES, InMemoryReplyStore(), source="/web", sqs_client=object(),  # type: ignore[arg-type]
                           shard_keys=SERVICE_KEYS, catalogue=catalogue)


def producer(catalogue: Catalogue | None) -> OutboxProducer:
    return OutboxProducer("outbox", source="/web", store=InMemoryOutboxStore(), shard_keys=SERVICE_KEYS,
                          catalogue=catalogue)


def by_client(catalogue: Catalogue | None, type_: str, data: Any, **options: Any) -> Envelope:
    return client(catalogue).prepare(Kind.COMMAND, type_, data, replyto=REPLIES, **options)


def by_producer(catalogue: Catalogue | None, type_: str, data: Any, **options: Any) -> Envelope:
    return producer(catalogue).begin().send(QUEUE, type_, data, replyto=REPLIES, **options)


def same_message(envelope: Envelope) -> dict[str, Any]:
    """What two preparations of one message share (each gets its own id and time, and a new trace if none given)."""
    shared = {f.name: getattr(envelope, f.name) for f in dataclasses.fields(envelope) if f.name not in ("id", "time")}
    shared["traceparent"] = shared["traceparent"] if shared["traceparent"] == TRACE else is_valid(
        shared["traceparent"] or "")
    return shared


CASES = [
    pytest.param(CATALOGUE, "orders.CreateOrder", {"customer_id": "c-1", "lines": [LINE]}, {}, id="catalogued"),
    pytest.param(CATALOGUE, "orders.CreateOrder", {"customer_id": "c-1", "lines": [LINE]},
                 {"traceparent": TRACE}, id="trace-continued"),
    pytest.param(CATALOGUE, "widgets.CreateWidget", {"owner_id": "o-1"}, {}, id="registered-not-catalogued"),
    pytest.param(None, "orders.Anything", {"x": 1}, {"partitionkey": "p-1"}, id="no-catalogue"),
    pytest.param(CATALOGUE, "orders.Teleport", {"customer_id": "c-1"}, {"partitionkey": "c-1"}, id="unknown-type"),
    pytest.param(CATALOGUE, "orders.OrderCreated", {"order_id": "o-1"}, {"partitionkey": "c-1"}, id="wrong-kind"),
    pytest.param(CATALOGUE, "orders.CreateOrder", {"customer_id": "c-1", "lines": [{**LINE, "quantity": "x"}]},
                 {}, id="data-against-schema"),
    pytest.param(None, "orders.Anything", ["not", "an", "object"], {"partitionkey": "p-1"}, id="data-not-object"),
    pytest.param(None, "orders.Anything", {"when": object()}, {"partitionkey": "p-1"}, id="data-not-json"),
    pytest.param(None, "orders.Anything", {"x": 1}, {}, id="no-partitionkey"),
    pytest.param(CATALOGUE, "orders.CreateOrder", {"customer_id": "c-1", "lines": [LINE]},
                 {"partitionkey": "c-2"}, id="partitionkey-contradicts-shard-key"),
    pytest.param(None, "orders.Anything", {"x": 1}, {"partitionkey": "not a group id"}, id="partitionkey-invalid"),
    pytest.param(None, "orders.Anything", {"x": 1}, {"partitionkey": "p-1", "traceparent": "00-nope"},
                 id="traceparent-invalid"),
    pytest.param(None, "Not A Type", {"x": 1}, {"partitionkey": "p-1"}, id="type-invalid"),
]


@pytest.mark.parametrize(("catalogue", "type_", "data", "options"), CASES)
def test_the_client_and_the_producer_prepare_alike(
    catalogue: Catalogue | None, type_: str, data: Any, options: dict[str, Any]
) -> None:
    # Given the same message for the client and for the outbox producer
    # When each prepares it
    outcomes: list[Envelope | str] = []
    for prepare in (by_client, by_producer):
        try:
            outcomes.append(prepare(catalogue, type_, data, **options))
        except InvalidRequest as exc:
            outcomes.append(f"{type(exc).__name__}: {exc}")
    # Then both make the same envelope, or both refuse it with the same error
    sent, staged = outcomes
    if isinstance(sent, Envelope) and isinstance(staged, Envelope):
        assert same_message(sent) == same_message(staged)
    else:
        assert sent == staged


def test_the_producer_names_the_data_version_of_a_catalogued_type() -> None:
    # Given a producer with the catalogue
    # When it stages a CreateOrder, Then the message names its data version, as the client's do
    staged = by_producer(CATALOGUE, "orders.CreateOrder", {"customer_id": "c-1", "lines": [LINE]})
    assert staged.dataschema == CATALOGUE["orders.CreateOrder"].dataschema
    assert staged.partitionkey == "c-1"  # taken from the catalogue's shard key


def test_a_producer_refuses_data_its_catalogue_refuses_and_stages_nothing() -> None:
    # Given a producer with the catalogue and a transaction
    tx = producer(CATALOGUE).begin()
    # When a CreateOrder with a quantity that is no number is staged
    with pytest.raises(InvalidRequest, match=r"data\.lines\.0\.quantity"):
        tx.send(QUEUE, "orders.CreateOrder", {"customer_id": "c-1", "lines": [{**LINE, "quantity": "x"}]})
    # Then nothing is staged
    assert tx.items == [] and tx.messages == []
