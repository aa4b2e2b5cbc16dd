"""Payloads of the quote exchange."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class RequestQuote(BaseModel):
    """``quotes.RequestQuote`` (command published to the quote-requests topic, with ``replyto``; partitionkey = any
    shard key of the requester, e.g. its customer id). Every responder replies with a :class:`Quote` or a failure."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    weight_kg: Decimal = Field(gt=0, le=1000, max_digits=7, decimal_places=3)
    destination: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code")


class Quote(BaseModel):
    """The ``result`` of a successful quote reply."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    responder: str
    price: Decimal
    currency: str
    delivery_days: int
