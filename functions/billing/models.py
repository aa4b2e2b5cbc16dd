"""Message payloads Billing receives besides the order events: the settlement report of a payment provider."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from orders.models import CUSTOMER_ID

SHARD_KEYS = {"billing.SettlementReport": "provider"}
"""A provider's reports are one FIFO message group: they are applied in the order the provider sent them."""


class Settlement(BaseModel):
    """One payment the provider settled."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    order_id: str = Field(min_length=1, max_length=64)
    customer_id: str = Field(pattern=CUSTOMER_ID)
    amount: Decimal = Field(max_digits=12, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class SettlementReport(BaseModel):
    """``billing.SettlementReport`` (document, partitionkey = provider): a provider's daily settlements; a large one
    travels through the claim check (its data in the claim-check bucket, the message holding a ``dataref``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")
    report_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
    settlements: list[Settlement] = Field(max_length=100_000)
