"""The Lambda API of the local cloud's endpoint, through boto3, against the example system deployed in a server.

AWS pages: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html (payload, FunctionError, LogResult,
asynchronous invocation), https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html (the error document),
https://docs.aws.amazon.com/lambda/latest/api/API_UpdateEventSourceMapping.html (Enabled).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from localcloud.server import LocalCloudServer
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import command
from messaging.reply_store import DynamoDbReplyStore
from tests.support.sqs_events import synthetic_record

pytestmark = pytest.mark.e2e
ORDER = {"customer_id": "customer-42", "lines": [{"sku": "book", "quantity": 1, "unit_price": "12.50"}]}


def replies(aws: Any, server: LocalCloudServer) -> DynamoDbReplyStore:
    """The reply table, through the runtime's own adapter, as a requester reads it."""
    return DynamoDbReplyStore(server.cloud.outputs["ReplyTableName"], client=aws("dynamodb"))


def create_order_event(server: LocalCloudServer, aws: Any, customer: str) -> tuple[dict[str, Any], str]:
    """An SQS event holding one valid CreateOrder with ``replyto``, and the command's id (the correlation id of its
    reply)."""
    outputs = server.cloud.outputs
    envelope = command("orders.CreateOrder", {**ORDER, "customer_id": customer}, source="/tests/endpoint",
                       partitionkey=customer, replyto=outputs["ReplyQueueUrl"])
    record = synthetic_record(CloudEventJsonCodec().encode(envelope), group_id=customer,
                              queue_arn=outputs["OrdersCommandQueueArn"])
    record["awsRegion"] = "us-east-1"
    return {"Records": [record]}, envelope.id


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout}s")


def stored_reply(aws: Any, server: LocalCloudServer, correlation_id: str) -> Any:
    return replies(aws, server).get(correlation_id)


def test_invoke_runs_the_handler_and_returns_its_result_with_the_log_tail(server: LocalCloudServer, aws: Any) -> None:
    """RequestResponse returns the handler's result; LogType Tail the end of the invocation's log (base64)."""
    # Given an SQS event with one valid CreateOrder that asks for a reply
    event, command_id = create_order_event(server, aws, f"c-{uuid.uuid4().hex[:8]}")
    # When the orders function is invoked through the Lambda API
    response = aws("lambda").invoke(FunctionName="orders", Payload=json.dumps(event), LogType="Tail")
    # Then the handler's result comes back, the reply is stored, and the log tail is that invocation's
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"batchItemFailures": []}
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "START RequestId:" in tail and "REPORT RequestId:" in tail
    assert command_id in tail  # the consumer logs the CloudEvent id of each record
    assert len(base64.b64decode(response["LogResult"])) <= 4096
    assert wait_for(lambda: stored_reply(aws, server, command_id))  # through the reply queue and its router


def test_a_handler_exception_is_a_function_error_with_lambdas_error_document(aws: Any) -> None:
    """An exception in the handler: StatusCode 200, FunctionError Unhandled, errorType/errorMessage/stackTrace."""
    # Given an event the orders handler cannot process (Records is not a list)
    # When it is invoked
    response = aws("lambda").invoke(FunctionName="orders", Payload=json.dumps({"Records": 5}))
    # Then the error is reported as Lambda reports it
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "UnexpectedBatchTypeError"
    assert "Unexpected batch event type" in error["errorMessage"]
    assert any("orders/handler.py" in frame for frame in error["stackTrace"])
    assert not any("localcloud" in frame for frame in error["stackTrace"])


def test_an_event_invocation_is_accepted_and_runs_in_the_background(server: LocalCloudServer, aws: Any) -> None:
    """InvocationType Event: 202 at once, the handler runs afterwards."""
    # Given a CreateOrder event asking for a reply
    event, command_id = create_order_event(server, aws, f"c-{uuid.uuid4().hex[:8]}")
    # When it is invoked asynchronously
    response = aws("lambda").invoke(FunctionName="orders", InvocationType="Event", Payload=json.dumps(event))
    # Then it is accepted and its reply appears later
    assert response["StatusCode"] == 202
    assert wait_for(lambda: stored_reply(aws, server, command_id))


def test_unknown_function_and_bad_payload_are_client_errors(aws: Any) -> None:
    """A missing function is ResourceNotFoundException; a payload that is not JSON InvalidRequestContentException."""
    client = aws("lambda")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="no-such-function", Payload=b"{}")
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="orders", Payload=b"{not json")


def test_functions_and_mappings_are_listed_as_deployed(server: LocalCloudServer, aws: Any) -> None:
    """ListFunctions / GetFunction / ListEventSourceMappings describe what the templates deployed."""
    client = aws("lambda")
    # When the functions and the orders mapping are listed
    names = {f["FunctionName"] for f in client.list_functions()["Functions"]}
    orders = client.get_function(FunctionName="orders")["Configuration"]
    mappings = client.list_event_source_mappings(FunctionName="orders")["EventSourceMappings"]
    # Then they carry the template's settings
    assert {"orders", "billing", "notifications", "reply-router", "quotes-standard"} <= names
    assert orders["Handler"] == "orders.handler.lambda_handler"
    assert orders["Timeout"] == 30 and orders["MemorySize"] == 512
    assert orders["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "orders"
    assert [m["EventSourceArn"] for m in mappings] == [server.cloud.outputs["OrdersCommandQueueArn"]]
    assert mappings[0]["BatchSize"] == 10 and mappings[0]["State"] == "Enabled"
    assert mappings[0]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_disabling_a_mapping_stops_its_polling_and_enabling_resumes_it(server: LocalCloudServer, aws: Any) -> None:
    """UpdateEventSourceMapping Enabled=false: messages stay in the queue; Enabled=true: they are processed."""
    client, sqs = aws("lambda"), aws("sqs")
    mapping = client.list_event_source_mappings(FunctionName="billing")["EventSourceMappings"][0]
    queue_url = server.cloud.outputs["BillingQueueUrl"]
    # Given the billing trigger disabled
    disabled = client.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    assert disabled["State"] == "Disabled"
    assert client.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Disabled"
    assert not server.cloud.triggers.is_polling(mapping["UUID"])
    # When a message arrives on its queue
    sqs.send_message(QueueUrl=queue_url, MessageBody="not a CloudEvent", MessageGroupId="g-1",
                     MessageDeduplicationId=uuid.uuid4().hex)
    time.sleep(1.5)  # longer than a poll: nothing may take it
    visible = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    # Then it stays; and once enabled again, the trigger takes it (a poison message: dead-lettered by the consumer)
    assert visible["Attributes"]["ApproximateNumberOfMessages"] == "1"
    enabled = client.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    assert enabled["State"] == "Enabled"
    assert wait_for(lambda: sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"] == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"})
