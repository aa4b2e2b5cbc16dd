"""Billing logic: one ledger entry per order event, one receipt per settlement report.

Example:
    >>> from decimal import Decimal
    >>> ledger = InMemoryLedger()
    >>> BillingService(ledger).invoice("c-1", "o-1", Decimal("19.00"), "EUR")
    LedgerEntry(customer_id='c-1', order_id='o-1', kind='invoice', amount=Decimal('19.00'), currency='EUR')
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from billing.models import SettlementReport
from messaging import unit_of_work
from messaging.aws import DynamoDbTableAdapter


@dataclass(frozen=True)
class LedgerEntry:
    customer_id: str
    order_id: str
    kind: str  # "invoice" or "credit_note"
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class ReportReceipt:
    """What Billing keeps of a settlement report: its size, its totals per currency and the digest of its content."""

    provider: str
    report_id: str
    settlements: int
    totals: dict[str, Decimal]
    sha256: str


def content_digest(data: Mapping[str, Any]) -> str:
    """SHA-256 of ``data`` as canonical JSON (sorted keys, no spaces): the same document gives the same digest.

    Example:
        >>> content_digest({"b": 1, "a": [2]}) == content_digest({"a": [2], "b": 1})
        True
    """
    canonical = json.dumps(dict(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Ledger(Protocol):
    def record(self, entry: LedgerEntry) -> None: ...

    def receipt(self, receipt: ReportReceipt) -> None: ...


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

    def receive_report(self, report: SettlementReport, digest: str) -> ReportReceipt:
        """Acknowledge a provider's settlement report: count it, total it per currency, keep its digest."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for settlement in report.settlements:
            totals[settlement.currency] += settlement.amount
        receipt = ReportReceipt(report.provider, report.report_id, len(report.settlements), dict(totals), digest)
        self._ledger.receipt(receipt)
        return receipt


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

    def receipt(self, receipt: ReportReceipt) -> None:
        """``pk = PROVIDER#<provider>``, ``sk = REPORT#<report_id>``: one receipt per report (the key comes from the
        report's content, so a redelivery stages the same item)."""
        item: dict[str, Any] = {
            "pk": {"S": f"PROVIDER#{receipt.provider}"},
            "sk": {"S": f"REPORT#{receipt.report_id}"},
            "settlements": {"N": str(receipt.settlements)},
            "totals": {"S": json.dumps({currency: str(total) for currency, total in sorted(receipt.totals.items())})},
            "sha256": {"S": receipt.sha256},
        }
        unit_of_work.current().create(self.table_name, item, keyed_by_message=True)


class InMemoryLedger:
    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []
        self.receipts: list[ReportReceipt] = []

    def record(self, entry: LedgerEntry) -> None:
        self.entries.append(entry)

    def receipt(self, receipt: ReportReceipt) -> None:
        self.receipts.append(receipt)
