"""Order logic, independent of Lambda and of the message transport.

Example:
    >>> from orders.repository import InMemoryOrderRepository
    >>> from orders.models import CreateOrder
    >>> service = OrderService(InMemoryOrderRepository())
    >>> line = {"sku": "book", "quantity": 2, "unit_price": "9.50"}
    >>> order = service.create(CreateOrder(customer_id="c-1", lines=[line]), order_id="o-1")
    >>> (order.order_id, str(order.total), order.status)
    ('o-1', '19.00', 'open')
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from messaging.errors import CommandRejected
from orders.models import CancelOrder, CreateOrder, OrderLine


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    lines: tuple[OrderLine, ...]
    currency: str
    status: str
    created_at: str
    cancel_reason: str = ""

    @property
    def total(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.lines), Decimal("0.00"))

    def summary(self) -> dict[str, Any]:
        """The order as JSON-ready data (money as strings), used in replies and events."""
        return {
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "status": self.status,
            "total": str(self.total),
            "currency": self.currency,
        }


class OrderRepository(Protocol):
    """Port: where orders live (DynamoDB in Lambda, memory in unit tests)."""

    def add(self, order: Order) -> None: ...

    def get(self, customer_id: str, order_id: str) -> Order | None: ...

    def replace(self, order: Order, *, previous: Order) -> None:
        """Store ``order`` in place of ``previous``; fails at commit if the stored order is no longer ``previous``."""
        ...


class OrderService:
    """Creates and cancels orders.

    ``create`` is not naturally idempotent: every call makes a new order. The caller gives the order id; the handler
    derives it from the command message (``MessageContext.derived_id``), so a redelivered command stages the very same
    order and the consumer's commit recognises it instead of creating a second one.
    """

    def __init__(self, repository: OrderRepository) -> None:
        self._repository = repository

    def create(self, command: CreateOrder, *, order_id: str) -> Order:
        order = Order(
            order_id=order_id,
            customer_id=command.customer_id,
            lines=tuple(command.lines),
            currency=command.currency,
            status="open",
            created_at=datetime.now(UTC).isoformat(),
        )
        self._repository.add(order)
        return order

    def cancel(self, command: CancelOrder) -> Order:
        order = self._repository.get(command.customer_id, command.order_id)
        if order is None:
            raise CommandRejected("order_not_found", f"customer {command.customer_id} has no order {command.order_id}")
        if order.status == "cancelled":
            raise CommandRejected("order_already_cancelled", f"order {command.order_id} is already cancelled")
        cancelled = replace(order, status="cancelled", cancel_reason=command.reason)
        self._repository.replace(cancelled, previous=order)
        return cancelled
