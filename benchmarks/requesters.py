"""The requesters of the two baselines: the documentation's (:class:`BaselineRequester`: a CloudEvent dict per
message, ``SendMessage`` or ``Publish``, a fixed-interval poll of the reply table) and the tuned one
(:class:`TunedRequester`: the same, polling as the product's client does).

Example::

    requester = TunedRequester(cloud, cloud.outputs)
    requester.wait(requester.send(queue_url, "orders.CreateOrder", data, "c-1", reply=True), 1)
"""

from __future__ import annotations

import json
import time
from typing import Any

from chaos.naive.common import cloud_event
from localcloud import LocalCloud

POLL_INTERVAL = 0.05
MAX_POLL_INTERVAL = 0.5
"""The product client's longest pause between two reads of the reply store."""


class BaselineRequester:
    """A producer and requester as the AWS samples write one: a CloudEvent dict with a random id, one ``SendMessage``
    or ``Publish`` per message, a fixed-interval poll of the reply table."""

    def __init__(self, cloud: LocalCloud, outputs: dict[str, Any]) -> None:
        self.sqs, self.sns, self.dynamodb = cloud.client("sqs"), cloud.client("sns"), cloud.client("dynamodb")
        self.outputs = outputs

    @staticmethod
    def _event(type_: str, data: dict[str, Any], partitionkey: str, kind: str, replyto: str | None) -> dict[str, Any]:
        extra = {"kind": kind, **({"replyto": replyto} if replyto else {})}
        return cloud_event(type_, "/bench/baseline", data, partitionkey, **extra)

    def send(self, queue_url: str, type_: str, data: dict[str, Any], partitionkey: str, *, reply: bool) -> str:
        event = self._event(type_, data, partitionkey, "command", self.outputs["ReplyQueueUrl"] if reply else None)
        self.sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps(event),
            MessageGroupId=partitionkey,
            MessageDeduplicationId=event["id"],
        )
        return str(event["id"])

    def publish(
        self, topic_arn: str, type_: str, data: dict[str, Any], partitionkey: str, *, kind: str, reply: bool = False
    ) -> str:
        event = self._event(type_, data, partitionkey, kind, self.outputs["ReplyQueueUrl"] if reply else None)
        self.sns.publish(
            TopicArn=topic_arn,
            Message=json.dumps(event),
            MessageGroupId=partitionkey,
            MessageDeduplicationId=event["id"],
        )
        return str(event["id"])

    def replies(self, correlation_id: str) -> int:
        return len(
            self.dynamodb.query(
                TableName=self.outputs["ReplyTableName"],
                KeyConditionExpression="correlationid = :c",
                ExpressionAttributeValues={":c": {"S": correlation_id}},
                ConsistentRead=True,
            )["Items"]
        )

    def wait(self, correlation_id: str, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.replies(correlation_id) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no reply to {correlation_id} within {timeout} s")
            time.sleep(POLL_INTERVAL)


class TunedRequester(BaselineRequester):
    """First read one poll interval after sending (nothing can have answered yet), then a pause that grows by half
    each time, up to half a second: the product client's policy (:mod:`messaging.client`)."""

    def wait(self, correlation_id: str, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        interval = POLL_INTERVAL
        time.sleep(interval)
        while self.replies(correlation_id) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no reply to {correlation_id} within {timeout} s")
            time.sleep(interval)
            interval = min(interval * 1.5, MAX_POLL_INTERVAL)
