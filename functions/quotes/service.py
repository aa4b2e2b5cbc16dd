"""Quote pricing of the three example carriers.

Example:
    >>> from decimal import Decimal
    >>> from quotes.models import RequestQuote
    >>> QuoteService("express").quote(RequestQuote(weight_kg=Decimal("2"), destination="FR")).price
    Decimal('17.00')
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from messaging.errors import CommandRejected
from quotes.models import Quote, RequestQuote


@dataclass(frozen=True)
class Tariff:
    base: Decimal
    per_kg: Decimal
    delivery_days: int
    max_weight_kg: Decimal


TARIFFS: dict[str, Tariff] = {
    "standard": Tariff(Decimal("5.00"), Decimal("1.20"), 5, Decimal("100")),
    "express": Tariff(Decimal("12.00"), Decimal("2.50"), 1, Decimal("30")),
    "economy": Tariff(Decimal("3.00"), Decimal("0.80"), 9, Decimal("1000")),
}


class QuoteService:
    def __init__(self, responder: str) -> None:
        if responder not in TARIFFS:
            raise ValueError(f"unknown quote responder {responder!r}; known: {', '.join(TARIFFS)}")
        self.responder = responder
        self._tariff = TARIFFS[responder]

    def quote(self, request: RequestQuote) -> Quote:
        tariff = self._tariff
        if request.weight_kg > tariff.max_weight_kg:
            raise CommandRejected("too_heavy", f"{self.responder} carries at most {tariff.max_weight_kg} kg")
        price = (tariff.base + tariff.per_kg * request.weight_kg).quantize(Decimal("0.01"))
        return Quote(responder=self.responder, price=price, currency="EUR", delivery_days=tariff.delivery_days)
