"""Billing's customer credit: a limit per customer, reservations per order (the order saga's first step), releases.

State (the credit table, ``STATE_TABLE_NAME``): ``pk = CUSTOMER#<id>, sk = CREDIT`` with ``limit`` and ``reserved``;
``pk = CUSTOMER#<id>, sk = RESERVATION#<order id>`` with ``amount`` and ``status``. Writes are staged with the
values read as their condition (optimistic concurrency, :mod:`messaging.state_items`).

Example (a customer without a limit has no credit to reserve):
    >>> from billing.models import ReserveCredit
    >>> from messaging.state_items import InMemoryStateItems
    >>> from messaging.unit_of_work import InMemoryCommitter, unit_of_work
    >>> credit = CreditService(InMemoryStateItems(InMemoryCommitter(), "credit"))
    >>> with unit_of_work():
    ...     credit.reserve(ReserveCredit(customer_id="c-1", order_id="o-1", amount=Decimal(5)))
    Traceback (most recent call last):
    ...
    messaging.errors.CommandRejected: credit_limit_exceeded: customer c-1 has no credit limit
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billing.models import ReleaseCredit, ReserveCredit, SetCreditLimit
from messaging.errors import CommandRejected
from messaging.state_items import StateItems

CREDIT_LIMIT_EXCEEDED = "credit_limit_exceeded"


def _credit_key(customer_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CUSTOMER#{customer_id}"}, "sk": {"S": "CREDIT"}}


def _reservation_key(customer_id: str, order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CUSTOMER#{customer_id}"}, "sk": {"S": f"RESERVATION#{order_id}"}}


class CreditService:
    """Set limits, reserve and release credit (see the module docstring)."""

    def __init__(self, items: StateItems) -> None:
        self._items = items

    def _credit(self, customer_id: str) -> tuple[Decimal, Decimal] | None:
        item = self._items.get(_credit_key(customer_id))
        return (Decimal(item["limit"]["N"]), Decimal(item["reserved"]["N"])) if item else None

    def limit_of(self, customer_id: str) -> Decimal | None:
        credit = self._credit(customer_id)
        return credit[0] if credit else None

    def set_limit(self, command: SetCreditLimit) -> dict[str, Any]:
        items = self._items
        credit = self._credit(command.customer_id)
        if credit is None:
            items.create({**_credit_key(command.customer_id), "limit": {"N": str(command.limit)},
                          "reserved": {"N": "0"}})
            reserved = Decimal(0)
        else:
            reserved = credit[1]
            items.update(_credit_key(command.customer_id), {"limit": {"N": str(command.limit)}},
                         expected={"limit": {"N": str(credit[0])}})
        return {"customer_id": command.customer_id, "limit": str(command.limit), "reserved": str(reserved)}

    def reserve(self, command: ReserveCredit) -> dict[str, Any]:
        """Hold ``amount`` for the order; :class:`CommandRejected` ``credit_limit_exceeded`` past the limit."""
        items = self._items
        credit = self._credit(command.customer_id)
        if credit is None:
            raise CommandRejected(CREDIT_LIMIT_EXCEEDED, f"customer {command.customer_id} has no credit limit")
        limit, reserved = credit
        if reserved + command.amount > limit:
            raise CommandRejected(CREDIT_LIMIT_EXCEEDED,
                                  f"{command.amount} more would hold {reserved + command.amount} of {limit}")
        items.update(_credit_key(command.customer_id), {"reserved": {"N": str(reserved + command.amount)}},
                     expected={"reserved": {"N": str(reserved)}})
        items.create({**_reservation_key(command.customer_id, command.order_id),
                      "amount": {"N": str(command.amount)}, "status": {"S": "reserved"}})
        return {"customer_id": command.customer_id, "order_id": command.order_id, "reserved": str(command.amount)}

    def release(self, command: ReleaseCredit) -> dict[str, Any]:
        """Give back what the order holds (nothing if it holds nothing)."""
        items = self._items
        key = _reservation_key(command.customer_id, command.order_id)
        reservation = self._items.get(key)
        if reservation is None or reservation["status"]["S"] != "reserved":
            return {"customer_id": command.customer_id, "order_id": command.order_id, "released": "0"}
        amount = Decimal(reservation["amount"]["N"])
        credit = self._credit(command.customer_id)
        reserved = credit[1] if credit else Decimal(0)
        items.update(_credit_key(command.customer_id), {"reserved": {"N": str(reserved - amount)}},
                     expected={"reserved": {"N": str(reserved)}})
        items.update(key, {"status": {"S": "released"}}, expected={"status": {"S": "reserved"}})
        return {"customer_id": command.customer_id, "order_id": command.order_id, "released": str(amount)}
