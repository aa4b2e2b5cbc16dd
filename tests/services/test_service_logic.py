"""Unit tests of the example services' logic (no network, in-memory adapters)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from billing.models import SettlementReport
from billing.service import BillingService, InMemoryLedger, content_digest
from messaging.errors import CommandRejected
from notifications.service import InMemoryNotificationOutbox, NotificationService
from orders.models import CancelOrder, CreateOrder
from orders.repository import InMemoryOrderRepository
from orders.service import OrderService
from quotes.models import RequestQuote
from quotes.service import QuoteService

pytestmark = pytest.mark.unit


def _create(customer: str = "c-1") -> CreateOrder:
    return CreateOrder.model_validate(
        {"customer_id": customer, "lines": [{"sku": "book", "quantity": 2, "unit_price": "9.50"}]}
    )


def test_create_order_makes_a_new_order_each_call() -> None:
    # Given an order service
    repository = InMemoryOrderRepository()
    service = OrderService(repository)
    # When the same command is applied twice with the ids a random allocator would give
    first, second = service.create(_create(), order_id="o-1"), service.create(_create(), order_id="o-2")
    # Then two orders exist: the operation is not naturally idempotent (the consumer's commit makes it once)
    assert first.order_id != second.order_id
    assert len(repository.orders) == 2
    assert first.total == Decimal("19.00")


def test_cancel_order_marks_it_cancelled_and_rejects_a_second_cancel() -> None:
    # Given an open order
    service = OrderService(InMemoryOrderRepository())
    service.create(_create(), order_id="o-1")
    # When it is cancelled
    cancelled = service.cancel(CancelOrder(customer_id="c-1", order_id="o-1", reason="changed my mind"))
    # Then it is cancelled, and cancelling again is a business rejection with a code
    assert cancelled.status == "cancelled"
    with pytest.raises(CommandRejected) as rejected:
        service.cancel(CancelOrder(customer_id="c-1", order_id="o-1"))
    assert rejected.value.code == "order_already_cancelled"


def test_cancel_unknown_order_is_rejected() -> None:
    # Given no orders, When cancelling one, Then the rejection names the reason
    with pytest.raises(CommandRejected) as rejected:
        OrderService(InMemoryOrderRepository()).cancel(CancelOrder(customer_id="c-1", order_id="nope"))
    assert rejected.value.code == "order_not_found"


@pytest.mark.parametrize(
    "data",
    [
        {"customer_id": "c-1", "lines": []},
        {"customer_id": "bad id with spaces", "lines": [{"sku": "a", "quantity": 1, "unit_price": "1"}]},
        {"customer_id": "c-1", "lines": [{"sku": "a", "quantity": 0, "unit_price": "1"}]},
        {"customer_id": "c-1", "lines": [{"sku": "a", "quantity": 1, "unit_price": "-1"}]},
        {"customer_id": "c-1", "lines": [{"sku": "a", "quantity": 1, "unit_price": "1"}], "extra": True},
    ],
)
def test_create_order_model_rejects_invalid_payloads(data: dict[str, object]) -> None:
    # Given an invalid payload, When it is parsed, Then validation fails (the consumer turns this into a DLQ move)
    with pytest.raises(ValidationError):
        CreateOrder.model_validate(data)


def test_billing_invoices_and_credits() -> None:
    # Given a billing service
    ledger = InMemoryLedger()
    billing = BillingService(ledger)
    # When an order is invoiced and then credited
    billing.invoice("c-1", "o-1", Decimal("19.00"), "EUR")
    billing.credit("c-1", "o-1", Decimal("19.00"), "EUR")
    # Then the ledger nets to zero
    assert [entry.kind for entry in ledger.entries] == ["invoice", "credit_note"]
    assert sum(entry.amount for entry in ledger.entries) == 0


def test_billing_totals_a_settlement_report_per_currency_and_keeps_its_digest() -> None:
    # Given a provider's report with settlements in two currencies
    data = {
        "provider": "acme-pay",
        "report_id": "2026-11-30",
        "settlements": [
            {"order_id": f"o-{n}", "customer_id": "c-1", "amount": "2.50", "currency": "EUR" if n % 2 else "USD"}
            for n in range(4)
        ],
    }
    billing = BillingService(ledger := InMemoryLedger())
    # When Billing receives it
    receipt = billing.receive_report(SettlementReport.model_validate(data), content_digest(data))
    # Then the receipt counts and totals it, and the digest identifies the content whatever the key order
    assert (receipt.settlements, receipt.totals) == (4, {"EUR": Decimal("5.00"), "USD": Decimal("5.00")})
    assert receipt.sha256 == content_digest(dict(reversed(data.items())))
    assert ledger.receipts == [receipt]


def test_notification_confirms_the_order() -> None:
    outbox = InMemoryNotificationOutbox()
    NotificationService(outbox).order_confirmed("c-1", "o-9", "5.00", "EUR")
    assert outbox.sent[0].order_id == "o-9"
    assert "o-9" in outbox.sent[0].text


@pytest.mark.parametrize(
    ("responder", "price", "days"), [("standard", "7.40", 5), ("express", "17.00", 1), ("economy", "4.60", 9)]
)
def test_each_responder_prices_by_its_tariff(responder: str, price: str, days: int) -> None:
    quote = QuoteService(responder).quote(RequestQuote(weight_kg=Decimal("2"), destination="FR"))
    assert (quote.price, quote.delivery_days) == (Decimal(price), days)


def test_express_refuses_heavy_parcels() -> None:
    with pytest.raises(CommandRejected) as rejected:
        QuoteService("express").quote(RequestQuote(weight_kg=Decimal("31"), destination="FR"))
    assert rejected.value.code == "too_heavy"


def test_unknown_responder_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="unknown quote responder"):
        QuoteService("teleport")
