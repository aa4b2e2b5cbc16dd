"""The CLI checks what it sends against the catalogue (type, kind, schema) before anything is looked up or sent, takes
the kind from the catalogue, passes a trace context along, and lists the catalogue."""

from __future__ import annotations

import json

import pytest

from catalogue import CATALOGUE
from messaging.envelope import Kind
from tests.cli.test_cli_app import CANCEL, ORDER, FakeMessaging, run

pytestmark = pytest.mark.unit
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
REPORT = '{"provider": "acme", "report_id": "r-1", "settlements": []}'


@pytest.fixture
def fake() -> FakeMessaging:
    return FakeMessaging()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["notify", "orders-command", "orders.CreateOrder", "-k", "c-1", "-d", '{"customer_id": "c-1", "lines": '
          '[{"sku": "b", "quantity": "lots", "unit_price": "1"}]}'],
         "data does not match CreateOrder: data.lines.0.quantity: Input should be a valid integer"),
        (["notify", "orders-command", "orders.Teleport", "-k", "c-1"], "unknown message type 'orders.Teleport'"),
        (["request", "orders-command", "billing.SettlementReport", "-d", REPORT],
         "billing.SettlementReport is a document, not a command"),
        (["notify", "orders-command", "orders.CancelOrder", "--kind", "document", "-d", CANCEL],
         "orders.CancelOrder is a command, not a document"),
        (["notify", "orders-command", "orders.OrderCreated", "-k", "c-1"], "orders.OrderCreated is an event: publish "
         "it to its topic"),
        (["publish", "order-events", "orders.OrderCancelled", "-d", '{"order_id": 1}'], "data.order_id"),
        (["scatter-gather", "quote-requests", "quotes.RequestQuote", "-k", "c-1", "-d", '{"weight_kg": "1"}'],
         "data.destination: Field required"),
    ],
)
def test_what_the_catalogue_refuses_is_one_line_exit_2_and_nothing_is_sent(
    fake: FakeMessaging, argv: list[str], expected: str
) -> None:
    # When a message the catalogue refuses is sent
    result = run(argv, fake)
    # Then one line says why, the exit status is 2, and the client was never called
    assert (result.code, result.err.count("\n")) == (2, 1), result.err
    assert result.err.startswith("error: ") and expected in result.err
    assert fake.calls == []


def test_the_kind_comes_from_the_catalogue(fake: FakeMessaging) -> None:
    # When a settlement report is sent with notify, without --kind
    assert run(["notify", "orders-command", "billing.SettlementReport", "-k", "acme", "-d", REPORT], fake).code == 0
    # Then it went as a document, as the catalogue declares
    assert fake.calls[0][2]["kind"] is Kind.DOCUMENT


def test_a_traceparent_is_passed_to_the_client(fake: FakeMessaging) -> None:
    result = run(["send", "orders-command", "orders.CreateOrder", "-d", ORDER, "-k", "c-1", "--traceparent",
                  TRACEPARENT], fake)
    assert result.code == 0
    assert fake.calls[0][2]["traceparent"] == TRACEPARENT


def test_the_catalogue_lists_every_type_with_its_kind_channel_shard_key_version_and_schema(fake: FakeMessaging) -> None:
    # When the catalogue is listed as a table and as JSON
    text = run(["catalogue"], fake)
    listed = run(["catalogue", "--json"], fake)
    # Then every type is a row, with its facts
    assert text.code == 0 and listed.code == 0
    assert text.out.splitlines()[0].split() == ["TYPE", "KIND", "CHANNEL", "SHARD", "KEY", "VERSION", "READER",
                                                "SCHEMA"]
    rows = {line.split()[0]: line.split()[1:] for line in text.out.splitlines()[1:]}
    assert rows["orders.OrderCreated"][:5] == ["event", "order-events", "customer_id", "2.0", "tolerant"]
    assert set(rows) == set(CATALOGUE)
    records = {r["type"]: r for r in json.loads(listed.out)}
    assert set(records) == set(CATALOGUE)
    created = records["orders.OrderCreated"]
    assert (created["kind"], created["channel"], created["shard_key"], created["version"]) == (
        "event", "order-events", "customer_id", "2.0")
    assert created["schema"]["$id"] == "urn:fifo-messaging:schema:orders.OrderCreated:2.0"
    assert "item_count" in created["schema"]["required"]
    assert records["billing.SettlementReport"]["reader"] == "strict"
