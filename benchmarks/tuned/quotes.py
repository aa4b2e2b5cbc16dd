"""Tuned quote responder: the documentation's quote, its reply id derived from the request (so a redelivered
request repeats the same reply), without the idempotency record."""

from __future__ import annotations

from typing import Any

from benchmarks.tuned.common import docs_module, handler, reply_once
from quotes.models import RequestQuote

docs = docs_module("quotes")


def process(message: dict[str, Any]) -> dict[str, Any]:
    if message.get("type") != "quotes.RequestQuote":
        raise ValueError(f"unknown message type {message.get('type')!r}")
    request = RequestQuote.model_validate(message["data"])
    outcome = {"outcome": "success", "result": docs.service.quote(request).model_dump(mode="json")}
    reply_once(docs.sqs, message, f"/quotes/{docs.RESPONDER}", outcome)
    return outcome


lambda_handler = handler(process)
