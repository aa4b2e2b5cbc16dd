"""moto resources for integration tests: FIFO queues with DLQs, a FIFO topic fanned out to queues, the tables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.support.sqs_events import REGION, queue_arn_from_url

AWS_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "FifoMessaging",
}


def create_fifo_queue(sqs: Any, name: str, *, dlq_url: str | None = None, max_receive_count: int = 3) -> str:
    attributes = {"FifoQueue": "true", "VisibilityTimeout": "30"}
    if dlq_url is not None:
        policy = {"deadLetterTargetArn": queue_arn_from_url(dlq_url), "maxReceiveCount": str(max_receive_count)}
        attributes["RedrivePolicy"] = json.dumps(policy)
    return str(sqs.create_queue(QueueName=f"{name}.fifo", Attributes=attributes)["QueueUrl"])


def create_fifo_topic(sns: Any, name: str) -> str:
    return str(sns.create_topic(Name=f"{name}.fifo", Attributes={"FifoTopic": "true"})["TopicArn"])


def subscribe_queue(sns: Any, topic_arn: str, queue_url: str) -> None:
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn_from_url(queue_url),
        Attributes={"RawMessageDelivery": "true"},
    )


def create_idempotency_table(dynamodb: Any, name: str) -> str:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
    )
    return name


def create_state_table(dynamodb: Any, name: str) -> str:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def create_reply_table(dynamodb: Any, name: str) -> str:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "correlationid", "KeyType": "HASH"},
            {"AttributeName": "replyid", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "correlationid", "AttributeType": "S"},
            {"AttributeName": "replyid", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    return name


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Receive and delete everything visible in a queue (with all attributes)."""
    received: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return received
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        received.extend(messages)


@dataclass
class Messaging:
    """The moto world of one test: a command queue with DLQ, a reply queue, an event topic with a subscriber."""

    sqs: Any
    sns: Any
    dynamodb: Any
    commands_url: str
    dlq_url: str
    replies_url: str
    topic_arn: str
    subscriber_url: str
    idempotency_table: str
    reply_table: str
    state_table: str

    def env(self) -> dict[str, str]:
        return {
            "IDEMPOTENCY_TABLE_NAME": self.idempotency_table,
            "DEAD_LETTER_QUEUE_URL": self.dlq_url,
            "EVENT_TOPIC_ARN": self.topic_arn,
            "REPLY_TO_ALLOWLIST": self.replies_url,
            "POWERTOOLS_SERVICE_NAME": "orders",
            "AWS_LAMBDA_FUNCTION_NAME": "orders-consumer",
        }


def build_messaging(boto3_module: Any) -> Messaging:
    sqs = boto3_module.client("sqs", region_name=REGION)
    sns = boto3_module.client("sns", region_name=REGION)
    dynamodb = boto3_module.client("dynamodb", region_name=REGION)
    dlq = create_fifo_queue(sqs, "orders-commands-dlq")
    commands = create_fifo_queue(sqs, "orders-commands", dlq_url=dlq)
    replies = create_fifo_queue(sqs, "replies")
    subscriber = create_fifo_queue(sqs, "billing")
    topic = create_fifo_topic(sns, "order-events")
    subscribe_queue(sns, topic, subscriber)
    return Messaging(
        sqs=sqs,
        sns=sns,
        dynamodb=dynamodb,
        commands_url=commands,
        dlq_url=dlq,
        replies_url=replies,
        topic_arn=topic,
        subscriber_url=subscriber,
        idempotency_table=create_idempotency_table(dynamodb, "orders-idempotency"),
        reply_table=create_reply_table(dynamodb, "replies"),
        state_table=create_state_table(dynamodb, "orders-state"),
    )
