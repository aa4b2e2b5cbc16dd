"""Tuned reply router: the documentation's, without the idempotency record (a reply is stored under its
correlation id and its own id, so a redelivery overwrites the same item)."""

from __future__ import annotations

from benchmarks.tuned.common import docs_module, handler

lambda_handler = handler(docs_module("reply_router").process)
