"""Billing logic: one ledger entry per order event.

Example:
    >>> from decimal import Decimal
    >>> ledger = InMemoryLedger()
    >>> BillingService(ledger).invoice("c-1", "o-1", Decimal("19.00"), "EUR")
    LedgerEntry(customer_id='c-1', order_id='o-1', kind='invoice', amount=Decimal('19.00'), currency='EUR')
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from messaging import unit_of_work
from messaging.aws import DynamoDbTableAdapter


@dataclass(frozen=True)
class LedgerEntry:
    customer_id: str
    order_id: str
    kind: str  # "invoice" or "credit_note"
    amount: Decimal
    currency: str


class Ledger(Protocol):
    def record(self, entry: LedgerEntry) -> None: ...


class BillingService:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def invoice(self, customer_id: str, order_id: str, amount: Decimal, currency: str) -> LedgerEntry:
        entry = LedgerEntry(customer_id, order_id, "invoice", amount, currency)
        self._ledger.record(entry)
        return entry

    def credit(self, customer_id: str, order_id: str, amount: Decimal, currency: str) -> LedgerEntry:
        entry = LedgerEntry(customer_id, order_id, "credit_note", -amount, currency)
        self._ledger.record(entry)
        return entry


class DynamoDbLedger(DynamoDbTableAdapter):
    """Ledger entries in the billing state table: ``pk = CUSTOMER#<id>``, ``sk = <KIND>#<order_id>``.

    One invoice and at most one credit note per order: the key comes from the order event's content, so a redelivered
    event stages the same entry and the consumer's commit recognises it (the dedup record rides on the entry).
    """

    def record(self, entry: LedgerEntry) -> None:
        item: dict[str, Any] = {
            "pk": {"S": f"CUSTOMER#{entry.customer_id}"},
            "sk": {"S": f"{entry.kind.upper()}#{entry.order_id}"},
            "order_id": {"S": entry.order_id},
            "kind": {"S": entry.kind},
            "amount": {"N": str(entry.amount)},
            "currency": {"S": entry.currency},
        }
        unit_of_work.current().create(self.table_name, item, keyed_by_message=True)


class InMemoryLedger:
    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []

    def record(self, entry: LedgerEntry) -> None:
        self.entries.append(entry)
