"""What the three baseline consumers share: the idempotent batch handler and the envelope helpers.

Clients, tables and the persistence layer are made in each handler module at import time, as the documentation
samples do (each function loads its handler module as its own instance, with its own environment).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)


def cloud_event(type_: str, source: str, data: dict[str, Any], partitionkey: str, **extra: str) -> dict[str, Any]:
    """A CloudEvent of the wire contract, with a fresh random id."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "type": type_,
        "datacontenttype": "application/json",
        "time": datetime.now(UTC).isoformat(),
        "schemaversion": "1",
        "partitionkey": partitionkey,
        "data": data,
        **extra,
    }


def publish(sns: Any, topic_arn: str, event: dict[str, Any]) -> None:
    sns.publish(
        TopicArn=topic_arn,
        Message=json.dumps(event),
        MessageGroupId=event["partitionkey"],
        MessageDeduplicationId=event["id"],
    )


def reply(sqs: Any, request: dict[str, Any], source: str, outcome: dict[str, Any]) -> None:
    """Send the reply to the request's ``replyto`` (if any)."""
    replyto = request.get("replyto")
    if not replyto:
        return
    event = cloud_event(
        f"{request['type']}.Reply",
        source,
        outcome,
        request.get("partitionkey") or request["id"],
        kind="reply",
        correlationid=request["id"],
    )
    sqs.send_message(
        QueueUrl=replyto,
        MessageBody=json.dumps(event),
        MessageGroupId=event["partitionkey"],
        MessageDeduplicationId=event["id"],
    )


def handler(
    process: Callable[[dict[str, Any]], Any], persistence: BasePersistenceLayer
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler: FIFO batch processing, each record's CloudEvent processed once per ``[source, id]``."""

    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        config = IdempotencyConfig(event_key_jmespath="[source, id]")
        config.register_lambda_context(context)
        idempotent = idempotent_function(data_keyword_argument="message", config=config, persistence_store=persistence)(
            process
        )

        def record_handler(record: SQSRecord) -> Any:
            return idempotent(message=json.loads(record.body))

        return dict(
            process_partial_response(
                event=event, record_handler=record_handler, processor=SqsFifoPartialProcessor(), context=context
            )
        )

    return lambda_handler
