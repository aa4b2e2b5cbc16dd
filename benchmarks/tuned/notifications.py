"""Tuned Notifications consumer: the documentation's confirmation write, without the idempotency record (the
notification's key is fixed by the event)."""

from __future__ import annotations

from benchmarks.tuned.common import docs_module, handler

lambda_handler = handler(docs_module("notifications").process)
