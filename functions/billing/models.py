"""Message payloads Billing receives besides the order events: the settlement report of a payment provider."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from orders.models import CUSTOMER_ID

SHARD_KEYS = {"billing.SettlementReport": "provider", "billing.SetCreditLimit": "customer_id"}
"""A provider's reports are one FIFO message group: they are applied in the order the provider sent them; so are a
customer's credit limits. The saga's credit reservations travel in the saga's group and meet the customer's credit
under optimistic concurrency."""


class Settlement(BaseModel):
    """One payment the provider settled."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    order_id: str = Field(min_length=1, max_length=64)
    customer_id: str = Field(pattern=CUSTOMER_ID)
    amount: Decimal = Field(max_digits=12, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class SettlementReport(BaseModel):
    """``billing.SettlementReport`` (document, partitionkey = provider): a provider's daily settlements; a large one
    travels through the claim check (its data in the claim-check bucket, the message holding a ``dataref``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    provider: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")
    report_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
    settlements: list[Settlement] = Field(max_length=100_000)


class SetCreditLimit(BaseModel):
    """Command ``billing.SetCreditLimit`` (partitionkey = customer_id, on ``billing-command``): the most credit the
    customer's open reservations may hold. A customer without a limit has none: every reservation is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    customer_id: str = Field(pattern=CUSTOMER_ID)
    limit: Decimal = Field(ge=0, max_digits=14, decimal_places=2)


class ReserveCredit(BaseModel):
    """Command ``billing.ReserveCredit`` (from the order saga): hold ``amount`` of the customer's credit for
    ``order_id``; refused ``credit_limit_exceeded`` when it would pass the limit (or there is none)."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    customer_id: str = Field(pattern=CUSTOMER_ID)
    order_id: str = Field(min_length=1, max_length=128)
    amount: Decimal = Field(ge=0, max_digits=14, decimal_places=2)


class ReleaseCredit(BaseModel):
    """Command ``billing.ReleaseCredit`` (the saga's compensation): give back what ``order_id`` holds (no-op when it
    holds nothing)."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    customer_id: str = Field(pattern=CUSTOMER_ID)
    order_id: str = Field(min_length=1, max_length=128)
