"""Tuned Billing consumer: the documentation's ledger write, without the idempotency record (the entry's key is
fixed by the event, so a redelivery writes the same item again)."""

from __future__ import annotations

from benchmarks.tuned.common import docs_module, handler

lambda_handler = handler(docs_module("billing").process)
