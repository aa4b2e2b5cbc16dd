"""The order saga's message payload: ``orders.PlaceOrder`` (apart from the saga's declaration, so that the message
catalogue reads it without loading the saga runtime)."""

from __future__ import annotations

from orders.models import CreateOrder


class PlaceOrder(CreateOrder):
    """``orders.PlaceOrder`` (command, partitionkey = customer_id): place an order through the saga."""
