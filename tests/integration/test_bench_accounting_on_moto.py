"""The bench's accounting against moto in this process: DynamoDB writes sized from what the table holds (read from
moto's backend, not counted), SNS deliveries to the subscribed queues counted under the publisher's role."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from benchmarks.calls import CallCounter, MotoItems, counting
from localcloud.cloud import DEFAULT_ACCOUNT_ID

pytestmark = pytest.mark.integration
REGION = "us-east-1"


def _table(client: Any) -> None:
    client.create_table(
        TableName="state",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )


def test_writes_are_billed_on_the_stored_items_read_from_moto_without_a_counted_call(aws: None) -> None:
    # Given a table holding a 3 KiB item, and a counter reading moto's backend
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    _table(dynamodb)
    dynamodb.put_item(TableName="state", Item={"pk": {"S": "k"}, "body": {"S": "x" * 3000}})
    counter = CallCounter(items=MotoItems(DEFAULT_ACCOUNT_ID, REGION))
    # When the client shrinks it with an update, then loses a conditional put on it
    with counting(counter), counter.as_client():
        dynamodb.update_item(TableName="state", Key={"pk": {"S": "k"}}, UpdateExpression="REMOVE body")
        dynamodb.put_item(TableName="state", Item={"pk": {"S": "k"}, "body": {"S": "y" * 5000}})
        with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
            dynamodb.put_item(
                TableName="state", Item={"pk": {"S": "k"}}, ConditionExpression="attribute_not_exists(pk)"
            )
    # Then the update costs the 3 units of the item before it, the put the 5 of the item after it, the refused put
    # the 5 of the item it found; and only the three calls were counted
    assert counter.unit_totals() == {"dynamodb_wru": 3.0 + 5.0 + 5.0}
    assert counter.by_operation() == {"dynamodb:UpdateItem": 1, "dynamodb:PutItem": 2}


def test_each_sns_delivery_to_a_subscribed_queue_is_billed_to_the_publisher(aws: None) -> None:
    # Given a FIFO topic with two raw SQS subscriptions, one filtering on the message's type
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="events.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    for name, policy in (("all", None), ("cancelled", {"type": ["orders.OrderCancelled"]})):
        url = sqs.create_queue(QueueName=f"{name}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes = {"RawMessageDelivery": "true"}
        if policy:
            attributes |= {"FilterPolicy": json.dumps(policy), "FilterPolicyScope": "MessageBody"}
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    counter = CallCounter()
    message = json.dumps({"type": "orders.OrderCreated", "data": {}})
    # When the client publishes one OrderCreated
    with counting(counter), counter.as_client():
        sns.publish(TopicArn=topic, Message=message, MessageGroupId="g", MessageDeduplicationId="d-1")
    # Then the publish and the one matching delivery are billed to the client
    units = counter.unit_totals()
    assert units["sns_requests"] == 1.0
    assert units["sns_deliveries"] == 1.0
    assert units["sns_delivered_bytes"] == len(message)
    assert units["sqs_deliveries"] == 1.0
