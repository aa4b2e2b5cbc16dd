"""Billing's customer credit: a limit per customer, reservations per order (the order saga's first step), releases.

State (the credit table, ``STATE_TABLE_NAME``): ``pk = CUSTOMER#<id>, sk = CREDIT`` with ``limit`` and ``reserved``;
``pk = CUSTOMER#<id>, sk = RESERVATION#<order id>`` with ``amount`` and ``status``. Writes are staged with the
values read as their condition (optimistic concurrency).

Example:
    >>> from decimal import Decimal
    >>> from messaging.unit_of_work import InMemoryCommitter, unit_of_work
    >>> from billing.models import SetCreditLimit
    >>> committer = InMemoryCommitter()
    >>> credit = CreditService(CommitterItems(committer, "credit"))
    >>> credit.limit_of("c-1") is None
    True
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billing.models import ReleaseCredit, ReserveCredit, SetCreditLimit
from messaging import unit_of_work
from messaging.aws import DynamoDbTableAdapter
from messaging.errors import CommandRejected
from messaging.unit_of_work import InMemoryCommitter

CREDIT_LIMIT_EXCEEDED = "credit_limit_exceeded"


def _credit_key(customer_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CUSTOMER#{customer_id}"}, "sk": {"S": "CREDIT"}}


def _reservation_key(customer_id: str, order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CUSTOMER#{customer_id}"}, "sk": {"S": f"RESERVATION#{order_id}"}}


class CreditItems:
    """Port: read an item of the credit table (writes are staged into the unit of work)."""

    table_name: str

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        raise NotImplementedError


class DynamoDbCreditItems(CreditItems, DynamoDbTableAdapter):
    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        response = self.client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item


class CommitterItems(CreditItems):
    """The items of an in-memory committer's table (unit tests)."""

    def __init__(self, committer: InMemoryCommitter, table_name: str) -> None:
        self.committer = committer
        self.table_name = table_name

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        for item in self.committer.items(self.table_name):
            if all(item.get(k) == v for k, v in key.items()):
                return dict(item)
        return None


class CreditService:
    """Set limits, reserve and release credit (see the module docstring)."""

    def __init__(self, items: CreditItems) -> None:
        self._items = items

    def _credit(self, customer_id: str) -> tuple[Decimal, Decimal] | None:
        item = self._items.get(_credit_key(customer_id))
        return (Decimal(item["limit"]["N"]), Decimal(item["reserved"]["N"])) if item else None

    def limit_of(self, customer_id: str) -> Decimal | None:
        credit = self._credit(customer_id)
        return credit[0] if credit else None

    def set_limit(self, command: SetCreditLimit) -> dict[str, Any]:
        work, table = unit_of_work.current(), self._items.table_name
        credit = self._credit(command.customer_id)
        if credit is None:
            work.create(table, {**_credit_key(command.customer_id), "limit": {"N": str(command.limit)},
                                "reserved": {"N": "0"}}, key=("pk", "sk"))
            reserved = Decimal(0)
        else:
            reserved = credit[1]
            work.update(table, _credit_key(command.customer_id), {"limit": {"N": str(command.limit)}},
                        expected={"limit": {"N": str(credit[0])}})
        return {"customer_id": command.customer_id, "limit": str(command.limit), "reserved": str(reserved)}

    def reserve(self, command: ReserveCredit) -> dict[str, Any]:
        """Hold ``amount`` for the order; :class:`CommandRejected` ``credit_limit_exceeded`` past the limit."""
        work, table = unit_of_work.current(), self._items.table_name
        credit = self._credit(command.customer_id)
        if credit is None:
            raise CommandRejected(CREDIT_LIMIT_EXCEEDED, f"customer {command.customer_id} has no credit limit")
        limit, reserved = credit
        if reserved + command.amount > limit:
            raise CommandRejected(CREDIT_LIMIT_EXCEEDED,
                                  f"{command.amount} more would hold {reserved + command.amount} of {limit}")
        work.update(table, _credit_key(command.customer_id), {"reserved": {"N": str(reserved + command.amount)}},
                    expected={"reserved": {"N": str(reserved)}})
        work.create(table, {**_reservation_key(command.customer_id, command.order_id),
                            "amount": {"N": str(command.amount)}, "status": {"S": "reserved"}}, key=("pk", "sk"))
        return {"customer_id": command.customer_id, "order_id": command.order_id, "reserved": str(command.amount)}

    def release(self, command: ReleaseCredit) -> dict[str, Any]:
        """Give back what the order holds (nothing if it holds nothing)."""
        work, table = unit_of_work.current(), self._items.table_name
        key = _reservation_key(command.customer_id, command.order_id)
        reservation = self._items.get(key)
        if reservation is None or reservation["status"]["S"] != "reserved":
            return {"customer_id": command.customer_id, "order_id": command.order_id, "released": "0"}
        amount = Decimal(reservation["amount"]["N"])
        credit = self._credit(command.customer_id)
        reserved = credit[1] if credit else Decimal(0)
        work.update(table, _credit_key(command.customer_id), {"reserved": {"N": str(reserved - amount)}},
                    expected={"reserved": {"N": str(reserved)}})
        work.update(table, key, {"status": {"S": "released"}}, expected={"status": {"S": "reserved"}})
        return {"customer_id": command.customer_id, "order_id": command.order_id, "released": str(amount)}
