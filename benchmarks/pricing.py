"""The price table that turns counted units into dollars: us-east-1 on-demand list prices as of
:data:`PRICES_AS_OF`, each from the AWS pricing page it cites. Free tiers and volume tiers beyond the first are
ignored (a bill of a million messages is far from either).

Every unit belongs to a component of the bill (:data:`COMPONENTS`), which the bench reports per style and side:

- ``sns``: FIFO publish requests (per 64 KiB chunk) and published payload; FIFO subscription messages delivered and
  their payload (https://aws.amazon.com/sns/pricing/);
- ``sqs_send``: SQS FIFO sends by the client and the functions, and the deliveries SNS makes into the subscribed
  queues, counted as requests on those queues (https://aws.amazon.com/sqs/pricing/);
- ``sqs_receive_delete``: the Lambda service's ``ReceiveMessage`` and ``DeleteMessageBatch`` on each event source
  mapping's queue, billed to the account like any SQS request (receives that return nothing are a standing cost per
  queue, reported as ``sqs_empty_receives`` and not priced per message);
- ``lambda_requests`` and ``lambda_duration``: one request per invocation and GB-seconds of billed duration at the
  function's configured memory, Arm price for arm64 functions (https://aws.amazon.com/lambda/pricing/);
- ``dynamodb_write`` and ``dynamodb_read``: on-demand write and read request units
  (https://aws.amazon.com/dynamodb/pricing/on-demand/);
- ``logs``: CloudWatch Logs ingestion of what the functions write, Lambda's own START/END/REPORT lines included, per
  GB (Standard log class, first tier; https://aws.amazon.com/cloudwatch/pricing/);
- ``s3``: claim-check objects, per request tier (S3 Standard; https://aws.amazon.com/s3/pricing/).

Example:
    >>> round(cost_usd({"sqs_requests": 2_000_000}), 2)
    1.0
    >>> {k: round(v, 2) for k, v in cost_components({"sqs_requests": 1e6, "lambda_requests": 1e6}).items()}
    {'sqs_send': 0.5, 'lambda_requests': 0.2}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

PRICES_AS_OF = "2026-12-08"
REGION = "us-east-1"
GIB = 1024**3


@dataclass(frozen=True)
class Price:
    """Dollars per unit, the component of the bill it belongs to, and the AWS pricing page it is from."""

    usd: float
    component: str
    source: str


SQS_PAGE = "https://aws.amazon.com/sqs/pricing/"
SNS_PAGE = "https://aws.amazon.com/sns/pricing/"
LAMBDA_PAGE = "https://aws.amazon.com/lambda/pricing/"
DYNAMODB_PAGE = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
CLOUDWATCH_PAGE = "https://aws.amazon.com/cloudwatch/pricing/"
S3_PAGE = "https://aws.amazon.com/s3/pricing/"

PRICES: Mapping[str, Price] = {
    # SNS FIFO: $0.30 per million publish requests (64 KiB chunks) and $0.017 per GB published; $0.01 per million
    # subscription messages delivered and $0.001 per GB delivered.
    "sns_requests": Price(0.30 / 1e6, "sns", SNS_PAGE),
    "sns_payload_bytes": Price(0.017 / GIB, "sns", SNS_PAGE),
    "sns_deliveries": Price(0.01 / 1e6, "sns", SNS_PAGE),
    "sns_delivered_bytes": Price(0.001 / GIB, "sns", SNS_PAGE),
    # SQS FIFO: $0.50 per million requests (each 64 KiB chunk of a payload is one request).
    "sqs_requests": Price(0.50 / 1e6, "sqs_send", SQS_PAGE),
    "sqs_deliveries": Price(0.50 / 1e6, "sqs_send", SQS_PAGE),
    "sqs_poller_requests": Price(0.50 / 1e6, "sqs_receive_delete", SQS_PAGE),
    # Lambda: $0.20 per million requests; $0.0000166667 per GB-second on x86_64, $0.0000133334 on arm64.
    "lambda_requests": Price(0.20 / 1e6, "lambda_requests", LAMBDA_PAGE),
    "lambda_gb_seconds_x86_64": Price(0.0000166667, "lambda_duration", LAMBDA_PAGE),
    "lambda_gb_seconds_arm64": Price(0.0000133334, "lambda_duration", LAMBDA_PAGE),
    # DynamoDB on-demand: $0.625 per million write request units, $0.125 per million read request units.
    "dynamodb_wru": Price(0.625 / 1e6, "dynamodb_write", DYNAMODB_PAGE),
    "dynamodb_rru": Price(0.125 / 1e6, "dynamodb_read", DYNAMODB_PAGE),
    # CloudWatch Logs: $0.50 per GB ingested (Standard class; an event counts its UTF-8 bytes plus 26).
    "logs_ingested_bytes": Price(0.50 / GIB, "logs", CLOUDWATCH_PAGE),
    # S3 Standard: $0.005 per 1,000 PUT, COPY, POST, LIST requests; $0.0004 per 1,000 GET and all other requests.
    "s3_tier1_requests": Price(0.005 / 1000, "s3", S3_PAGE),
    "s3_tier2_requests": Price(0.0004 / 1000, "s3", S3_PAGE),
}
"""Unit -> price. Units without an entry (``sqs_empty_receives``) are reported, not priced."""

COMPONENTS = (
    "sns",
    "sqs_send",
    "sqs_receive_delete",
    "lambda_requests",
    "lambda_duration",
    "dynamodb_write",
    "dynamodb_read",
    "logs",
    "s3",
)
"""The components of the bill, in the order the bench reports them."""

USD_PER_UNIT: Mapping[str, float] = {unit: price.usd for unit, price in PRICES.items()}


def cost_components(units: Mapping[str, float]) -> dict[str, float]:
    """Dollars per component of the bill for ``units`` (components that cost nothing are left out)."""
    totals: dict[str, float] = {}
    for unit, amount in units.items():
        price = PRICES.get(unit)
        if price is not None and amount:
            totals[price.component] = totals.get(price.component, 0.0) + amount * price.usd
    return {component: totals[component] for component in COMPONENTS if component in totals}


def cost_usd(units: Mapping[str, float]) -> float:
    """Dollars for ``units`` (see :data:`PRICES`); units without a price cost nothing."""
    return sum(cost_components(units).values())
