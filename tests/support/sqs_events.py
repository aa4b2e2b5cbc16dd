"""Build Lambda SQS events the way the Lambda event source mapping does, from messages received from a real
(moto) queue, or from bodies for unit tests.

Every record carries the fields AWS sends: messageId, receiptHandle, body, attributes (ApproximateReceiveCount,
SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp, SequenceNumber, MessageGroupId, MessageDeduplicationId),
messageAttributes (Lambda's lower-camel form), md5OfBody, eventSource, eventSourceARN and awsRegion.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

REGION = "eu-west-1"
ACCOUNT = "123456789012"

_SYSTEM_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
)


def queue_arn_from_url(queue_url: str, region: str = REGION) -> str:
    account, name = queue_url.rstrip("/").split("/")[-2:]
    return f"arn:aws:sqs:{region}:{account}:{name}"


def _lambda_message_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    converted = {}
    for name, value in attributes.items():
        entry: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["binaryValue"] = value["BinaryValue"]
        converted[name] = entry
    return converted


def record_from_sqs_message(message: Mapping[str, Any], queue_arn: str, region: str = REGION) -> dict[str, Any]:
    """One Lambda SQS record from a ``ReceiveMessage`` result message (received with all attribute names)."""
    attributes = {
        name: str(message["Attributes"][name]) for name in _SYSTEM_ATTRIBUTES if name in message["Attributes"]
    }
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": _lambda_message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def receive_all(
    sqs: Any, queue_url: str, *, max_messages: int = 10, visibility_timeout: int = 30
) -> list[dict[str, Any]]:
    """Receive up to ``max_messages`` messages (a FIFO batch) with all system and message attributes."""
    response = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=max_messages,
        VisibilityTimeout=visibility_timeout,
        WaitTimeSeconds=0,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return list(response.get("Messages", []))


def event_from_queue(sqs: Any, queue_url: str, *, max_messages: int = 10, region: str = REGION) -> dict[str, Any]:
    """Receive a batch from a real (moto) queue and wrap it as the Lambda SQS event."""
    arn = queue_arn_from_url(queue_url, region)
    messages = receive_all(sqs, queue_url, max_messages=max_messages)
    return {"Records": [record_from_sqs_message(m, arn, region) for m in messages]}


def synthetic_record(
    body: str,
    *,
    group_id: str = "g-1",
    dedup_id: str | None = None,
    receive_count: int = 1,
    queue_arn: str = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-commands.fifo",
    message_id: str | None = None,
) -> dict[str, Any]:
    """A Lambda SQS record for unit tests (no queue): same shape as :func:`record_from_sqs_message`."""
    now = str(int(time.time() * 1000))
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": f"AQEB{uuid.uuid4().hex}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": now,
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": now,
            "SequenceNumber": str(uuid.uuid4().int)[:20],
            "MessageGroupId": group_id,
            "MessageDeduplicationId": dedup_id or hashlib.sha256(body.encode()).hexdigest(),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def sqs_event(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {"Records": [dict(r) for r in records]}


def failed_ids(response: Mapping[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def bodies(messages: Sequence[Mapping[str, Any]]) -> list[str]:
    return [m["Body"] for m in messages]
