"""Lambda adapter of a quote responder; ``QUOTE_RESPONDER_NAME`` says which carrier this function is."""

from __future__ import annotations

import functools
import os
from typing import Any

# The consumer first: Powertools' batch utility, loaded after pydantic, builds the parser models of every event
# source (tens of milliseconds of a cold start); see tests/unit/test_handler_imports.py.
from messaging.consumer import MessageConsumer, MessageContext

# isort: split
from catalogue import CATALOGUE
from quotes.models import RequestQuote
from quotes.service import QuoteService

# Each responder replies under its own source, so the replies of the three responders to one request have distinct
# (source, id) identities and are neither deduplicated against each other nor mixed up in the reply store.
consumer = MessageConsumer(
    service="quotes",
    source=lambda: f"/quotes/{os.environ['QUOTE_RESPONDER_NAME']}",
    catalogue=CATALOGUE,
    tracing=True,
)


@functools.cache
def quote_service() -> QuoteService:
    return QuoteService(os.environ["QUOTE_RESPONDER_NAME"])


# A quote is a pure function of the request and the tariff: nothing to stage, the same reply every time (its id is
# derived from the request, so the reply store keeps one per responder). No dedup record is needed.
@consumer.command("quotes.RequestQuote", model=RequestQuote, idempotent=False)
def request_quote(request: RequestQuote, context: MessageContext) -> dict[str, Any]:
    return quote_service().quote(request).model_dump(mode="json")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return consumer.handle(event, context)
