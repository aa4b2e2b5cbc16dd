"""Tuned Orders consumer: the documentation's, as it is. CreateOrder is not naturally idempotent (a redelivery
would create a second order and a second event) and CancelOrder's reply changes on redelivery, so both keep
``idempotent_function``."""

from __future__ import annotations

from benchmarks.tuned.common import docs_module

lambda_handler = docs_module("orders").lambda_handler
