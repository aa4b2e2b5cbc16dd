"""Lambda adapter of the Billing service: order events from its FIFO queue, and settlement reports (documents sent to
the queue, large ones through the claim check) -> BillingService (``STATE_TABLE_NAME``)."""

from __future__ import annotations

import functools
import os
from typing import Any

# The consumer first: Powertools' batch utility, loaded after pydantic, builds the parser models of every event
# source (tens of milliseconds of a cold start); see tests/unit/test_handler_imports.py.
from messaging.consumer import MessageConsumer, MessageContext

# isort: split
from billing.models import SettlementReport
from billing.service import BillingService, DynamoDbLedger, content_digest
from catalogue import CATALOGUE
from orders.models import OrderCancelled, OrderCreated

consumer = MessageConsumer(service="billing", catalogue=CATALOGUE, tracing=True)


@functools.cache
def billing_service() -> BillingService:
    return BillingService(DynamoDbLedger(os.environ["STATE_TABLE_NAME"]))


@consumer.event("orders.OrderCreated", model=OrderCreated)
def on_order_created(event: OrderCreated, context: MessageContext) -> None:
    billing_service().invoice(event.customer_id, event.order_id, event.total, event.currency)


@consumer.event("orders.OrderCancelled", model=OrderCancelled)
def on_order_cancelled(event: OrderCancelled, context: MessageContext) -> None:
    billing_service().credit(event.customer_id, event.order_id, event.total, event.currency)


@consumer.document("billing.SettlementReport", model=SettlementReport)
def on_settlement_report(report: SettlementReport, context: MessageContext) -> None:
    billing_service().receive_report(report, content_digest(context.envelope.data or {}))


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return consumer.handle(event, context)
