"""Lambda adapter of the outbox relay: a DynamoDB stream batch of an outbox table -> each item's topic or queue, in
commit order per ``partitionkey`` (:mod:`messaging.relay`); ``RELAY_DEAD_LETTER_QUEUE_URL`` takes what the broker
refuses for good."""

from __future__ import annotations

from typing import Any

from messaging.relay import OutboxRelay

relay = OutboxRelay()  # metrics and logs under the function's POWERTOOLS_SERVICE_NAME


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return relay.handle(event, context)
