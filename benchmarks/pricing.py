"""Request prices used to turn counted units into dollars: us-east-1 list prices, read on 2026-12-01 from the AWS
pricing pages of Amazon SQS, Amazon SNS and Amazon DynamoDB (on-demand). Free tiers are ignored; Lambda is left out
(both designs make the same invocations; duration is not measurable on this machine).

Example:
    >>> round(cost_usd({"sqs_requests": 2_000_000}), 2)
    1.0
"""

from __future__ import annotations

from collections.abc import Mapping

PRICES_READ_ON = "2026-12-01"
REGION = "us-east-1"
USD_PER_UNIT: Mapping[str, float] = {
    "sqs_requests": 0.50 / 1_000_000,  # SQS FIFO, per request (each 64 KiB chunk of a payload is one request)
    "sns_requests": 0.30 / 1_000_000,  # SNS FIFO topic, per publish request (per 64 KiB chunk)
    "sns_payload_bytes": 0.017 / 1024**3,  # SNS FIFO, per GB of payload published
    "dynamodb_wru": 0.625 / 1_000_000,  # DynamoDB on-demand, per write request unit
    "dynamodb_rru": 0.125 / 1_000_000,  # DynamoDB on-demand, per read request unit
}


def cost_usd(units: Mapping[str, float]) -> float:
    """Dollars for ``units`` (see :data:`USD_PER_UNIT`); units without a price cost nothing."""
    return sum(amount * USD_PER_UNIT.get(unit, 0.0) for unit, amount in units.items())
