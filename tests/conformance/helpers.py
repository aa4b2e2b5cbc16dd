"""Small steps the conformance cases share: queues, topics, subscriptions, receiving."""

from __future__ import annotations

import json
from typing import Any


def fifo_queue(sqs: Any, name: str, **attributes: str) -> str:
    url: str = sqs.create_queue(QueueName=f"{name}.fifo", Attributes={"FifoQueue": "true", **attributes})["QueueUrl"]
    return url


def queue(sqs: Any, name: str, **attributes: str) -> str:
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url


def queue_arn(sqs: Any, url: str) -> str:
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return arn


def fifo_topic(sns: Any, name: str, **attributes: str) -> str:
    arn: str = sns.create_topic(Name=f"{name}.fifo", Attributes={"FifoTopic": "true", **attributes})["TopicArn"]
    return arn


def subscribe(sns: Any, sqs: Any, topic: str, url: str, **attributes: str) -> str:
    arn: str = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, url),
                             Attributes=attributes)["SubscriptionArn"]
    return arn


def bodies(response: dict[str, Any]) -> list[str]:
    return [message["Body"] for message in response.get("Messages", [])]


def receive(sqs: Any, url: str, **kwargs: Any) -> dict[str, Any]:
    response: dict[str, Any] = sqs.receive_message(QueueUrl=url, **kwargs)
    return response


def envelope(message: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(message["Body"])
    return document
