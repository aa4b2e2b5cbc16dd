"""SQS errors as the SDK sees them over the JSON protocol: ``Error.Code`` (the query API's code, from the
``x-amzn-query-error`` header), ``QueryErrorCode`` (the JSON error type), the message and the status.

Each case is a test of LocalStack's that was recorded against AWS (``recorded.LOCALSTACK``): the snapshot entry
``tests/aws/services/sqs/test_sqs.snapshot.json::TestSqsProvider::<name>[sqs]`` (``[sqs]`` is its JSON-protocol
run) or, where named so, an AWS-validated assertion in ``tests/aws/services/sqs/test_sqs.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.recorded import assert_error, error_of

pytestmark = pytest.mark.area("errors")

FIFO_ID_REASON = "can only include alphanumeric and punctuation characters. 1 to 128 in length."


def fifo_queue(sqs: Any, name: str, **attributes: str) -> str:
    url: str = sqs.create_queue(QueueName=f"{name}.fifo", Attributes={"FifoQueue": "true", **attributes})["QueueUrl"]
    return url


def queue(sqs: Any, name: str, **attributes: str) -> str:
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url


def test_fifo_send_with_delay_seconds(sqs: Any, name: str) -> None:
    """Snapshot ``test_fifo_queue_send_message_with_delay_seconds_fails[sqs]``."""
    # Given a FIFO queue
    url = fifo_queue(sqs, name, ContentBasedDeduplication="true")
    # When a message is sent with a per-message delay
    response = error_of(lambda: sqs.send_message(QueueUrl=url, MessageBody="m", MessageGroupId="g", DelaySeconds=2))
    # Then SQS refuses the parameter for this queue type
    assert_error(response, "InvalidParameterValue",
                 "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not "
                 "valid for this queue type.", query="InvalidParameterValueException")


def test_fifo_send_without_deduplication_id(sqs: Any, name: str) -> None:
    """Snapshot ``test_posting_to_fifo_requires_deduplicationid_group_id[sqs]``, entry ``invalid-parameter-value``."""
    url = fifo_queue(sqs, name)
    response = error_of(lambda: sqs.send_message(QueueUrl=url, MessageBody="m", MessageGroupId="g"))
    assert_error(response, "InvalidParameterValue",
                 "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided "
                 "explicitly", query="InvalidParameterValueException")


def test_fifo_send_without_group_id(sqs: Any, name: str) -> None:
    """Snapshot ``test_posting_to_fifo_requires_deduplicationid_group_id[sqs]``, entry ``missing-parameter``."""
    url = fifo_queue(sqs, name)
    response = error_of(lambda: sqs.send_message(QueueUrl=url, MessageBody="m", MessageDeduplicationId="d"))
    assert_error(response, "MissingParameter", "The request must contain the parameter MessageGroupId.",
                 query="MissingRequiredParameterException")


@pytest.mark.parametrize("value", ["", "a" * 129, "group 123"], ids=["empty", "too_long", "spaces"])
def test_fifo_send_with_invalid_deduplication_id(sqs: Any, name: str, value: str) -> None:
    """Snapshot ``test_message_deduplication_id_invalid[<id>]``."""
    url = fifo_queue(sqs, name)
    response = error_of(lambda: sqs.send_message(QueueUrl=url, MessageBody="Hello World!", MessageGroupId="test",
                                                 MessageDeduplicationId=value))
    assert_error(response, "InvalidParameterValue",
                 f"Value {value} for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId "
                 f"{FIFO_ID_REASON}", query="InvalidParameterValueException")


@pytest.mark.parametrize("value", ["", "a" * 129, "group 123"], ids=["empty", "too_long", "spaces"])
def test_standard_send_with_invalid_group_id(sqs: Any, name: str, value: str) -> None:
    """Snapshot ``test_send_message_to_standard_queue_with_invalid_message_group_id[<id>]``."""
    url = queue(sqs, name)
    response = error_of(lambda: sqs.send_message(QueueUrl=url, MessageBody="message", MessageGroupId=value))
    assert_error(response, "InvalidParameterValue",
                 f"Value {value} for parameter MessageGroupId is invalid. Reason: MessageGroupId {FIFO_ID_REASON}",
                 query="InvalidParameterValueException")


@pytest.mark.parametrize("wait", [21, -1])
def test_receive_with_invalid_wait_time(sqs: Any, name: str, wait: int) -> None:
    """Snapshot ``test_send_receive_wait_time_seconds[sqs]``, ``recieve_message_error_too_large``, ``_small``."""
    url = queue(sqs, name)
    response = error_of(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=wait))
    assert_error(response, "InvalidParameterValue",
                 f"Value {wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if "
                 "provided.", query="InvalidParameterValueException")


def test_send_empty_message(sqs: Any, name: str) -> None:
    """Snapshot ``test_send_empty_message[sqs]``."""
    url = queue(sqs, name)
    response = error_of(lambda: sqs.send_message(QueueUrl=url, MessageBody=""))
    assert_error(response, "MissingParameter", "The request must contain the parameter MessageBody.",
                 query="MissingRequiredParameterException")


def test_batch_with_invalid_entry_id(sqs: Any, name: str) -> None:
    """Snapshot ``test_invalid_batch_id[sqs]``."""
    url = queue(sqs, name)
    response = error_of(lambda: sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "message:1",
                                                                               "MessageBody": "b"}]))
    assert_error(response, "AWS.SimpleQueueService.InvalidBatchEntryId",
                 "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at "
                 "most 80 letters long.", query="InvalidBatchEntryId")


def test_delete_batch_with_invalid_entry_id(sqs: Any, name: str) -> None:
    """Snapshot ``test_delete_message_batch_invalid_msg_id[sqs-invalid:id]``."""
    url = queue(sqs, name)
    sqs.send_message(QueueUrl=url, MessageBody="b")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    response = error_of(lambda: sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "invalid:id",
                                                                                 "ReceiptHandle": handle}]))
    assert_error(response, "AWS.SimpleQueueService.InvalidBatchEntryId",
                 "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at "
                 "most 80 letters long.", query="InvalidBatchEntryId")


@pytest.mark.parametrize("operation", ["send_message_batch", "delete_message_batch",
                                       "change_message_visibility_batch"])
def test_batch_with_too_many_entries(sqs: Any, name: str, operation: str) -> None:
    """Snapshots ``test_too_many_entries_in_batch_request[sqs]``, ``test_delete_message_batch_with_too_large_batch
    [sqs]``, ``test_change_message_visibility_batch_with_too_large_batch[sqs]``."""
    url = queue(sqs, name)
    fields = {"send_message_batch": {"MessageBody": "b"}, "delete_message_batch": {"ReceiptHandle": "h"},
              "change_message_visibility_batch": {"ReceiptHandle": "h", "VisibilityTimeout": 1}}[operation]
    entries = [{"Id": f"e{n}", **fields} for n in range(20)]
    response = error_of(lambda: getattr(sqs, operation)(QueueUrl=url, Entries=entries))
    assert_error(response, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                 "Maximum number of entries per request are 10. You have sent 20.",
                 query="TooManyEntriesInBatchRequest")


def test_queue_that_does_not_exist(sqs: Any, name: str) -> None:
    """Snapshot ``test_non_existent_queue``, entry ``queue-does-not-exist``."""
    response = error_of(lambda: sqs.get_queue_url(QueueName=name))
    assert_error(response, "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.",
                 query="QueueDoesNotExist")


def test_set_fifo_queue_on_standard_queue(sqs: Any, name: str) -> None:
    """Snapshot ``test_set_unsupported_attribute_fifo[sqs]``, entry ``invalid-attr-name-1``."""
    url = queue(sqs, name)
    response = error_of(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"}))
    assert_error(response, "InvalidAttributeName", "Unknown Attribute FifoQueue.", query="InvalidAttributeName")


def test_set_fifo_queue_false_on_fifo_queue(sqs: Any, name: str) -> None:
    """Snapshot ``test_set_unsupported_attribute_fifo[sqs]``, entry ``invalid-attr-name-2`` (``true`` again is
    accepted)."""
    url = fifo_queue(sqs, name)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})
    response = error_of(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "false"}))
    assert_error(response, "InvalidAttributeValue",
                 "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.",
                 query="InvalidAttributeValue")


@pytest.mark.parametrize(("attribute", "value", "message"), [
    ("FifoQueue", "false", "Unknown Attribute FifoQueue."),
    ("ContentBasedDeduplication", "true", "Unknown Attribute ContentBasedDeduplication."),
    ("DeduplicationScope", "messageGroup", "You can specify the DeduplicationScope only when FifoQueue is set to "
                                           "true."),
    ("FifoThroughputLimit", "perMessageGroupId", "You can specify the FifoThroughputLimit only when FifoQueue is set "
                                                 "to true."),
], ids=["fifo-queue", "content-based-deduplication", "deduplication-scope", "throughput-limit"])
def test_create_standard_queue_with_fifo_attribute(sqs: Any, name: str, attribute: str, value: str,
                                                   message: str) -> None:
    """Snapshot ``test_create_standard_queue_with_fifo_attribute_raises_error[sqs]``, entries
    ``invalid-attribute-<attribute>``."""
    response = error_of(lambda: sqs.create_queue(QueueName=name, Attributes={attribute: value}))
    assert_error(response, "InvalidAttributeName", message, query="InvalidAttributeName")


def test_standard_queue_named_fifo(sqs: Any, name: str) -> None:
    """A standard queue (no ``FifoQueue``) named ``*.fifo``: AWS's answer as recorded in boto/botocore#3058
    (https://github.com/boto/botocore/issues/3058; "A FIFO queue name must end with the .fifo suffix",
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html)."""
    response = error_of(lambda: sqs.create_queue(QueueName=f"{name}.fifo"))
    assert_error(response, "InvalidParameterValue",
                 "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
                 query="InvalidParameterValueException")


def test_create_existing_fifo_queue_with_other_attributes(sqs: Any, name: str) -> None:
    """Snapshot ``test_create_fifo_queue_with_different_attributes_raises_error[sqs]``."""
    fifo_queue(sqs, name, ContentBasedDeduplication="true")
    response = error_of(lambda: fifo_queue(sqs, name, ContentBasedDeduplication="false"))
    assert_error(response, "QueueAlreadyExists", "A queue already exists with the same name and a different value "
                 "for attribute ContentBasedDeduplication", query="QueueNameExists")


def test_create_existing_queue_with_other_attributes(sqs: Any, name: str) -> None:
    """Snapshot ``test_create_queue_with_different_attributes_raises_exception[sqs]``, entry ``create_queue_01``
    (no attributes, or the same ones, answer with the queue)."""
    url = queue(sqs, name, ReceiveMessageWaitTimeSeconds="1", DelaySeconds="1")
    assert queue(sqs, name) == url
    assert queue(sqs, name, DelaySeconds="1") == url
    response = error_of(lambda: queue(sqs, name, ReceiveMessageWaitTimeSeconds="1", DelaySeconds="2"))
    assert_error(response, "QueueAlreadyExists", "A queue already exists with the same name and a different value "
                 "for attribute DelaySeconds", query="QueueNameExists")


def test_change_visibility_of_deleted_message(sqs: Any, name: str) -> None:
    """AWS-validated ``test_change_visibility_on_deleted_message_raises_invalid_parameter_value`` (test_sqs.py)."""
    url = queue(sqs, name)
    sqs.send_message(QueueUrl=url, MessageBody="foo")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=42)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    response = error_of(lambda: sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle,
                                                              VisibilityTimeout=42))
    assert_error(response, "InvalidParameterValue",
                 f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not "
                 "available for visibility timeout change.", query="InvalidParameterValueException")


def test_delete_with_illegal_receipt_handle(sqs: Any, name: str) -> None:
    """AWS-validated ``test_delete_message_with_illegal_receipt_handle`` (test_sqs.py)."""
    url = queue(sqs, name)
    response = error_of(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage"))
    error = response["Error"]
    assert (error["Code"], error["Message"]) == ("ReceiptHandleIsInvalid",
                                                 'The input receipt handle "garbage" is not a valid receipt handle.')


def test_oversized_message(sqs: Any, name: str) -> None:
    """Snapshot ``test_send_oversized_message[sqs]``: body and attributes together over 1 MiB (1,048,576 bytes)."""
    url = queue(sqs, name)
    attributes = {"k": {"DataType": "String", "StringValue": "x"}}
    body = "a" * (1_048_576 - len("k") - len("String") - len("x") + 1)
    response = error_of(lambda: sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes))
    assert_error(response, "InvalidParameterValue", "One or more parameters are invalid. Reason: Message must be "
                 "shorter than 1048576 bytes.", query="InvalidParameterValueException")


def test_oversized_batch(sqs: Any, name: str) -> None:
    """Snapshot ``test_send_message_batch_with_oversized_contents[sqs]``: a batch one byte over 1 MiB."""
    url = queue(sqs, name)
    entries = [{"Id": "1", "MessageBody": "a" * 524_288}, {"Id": "2", "MessageBody": "a" * 524_289}]
    response = error_of(lambda: sqs.send_message_batch(QueueUrl=url, Entries=entries))
    assert_error(response, "AWS.SimpleQueueService.BatchRequestTooLong", "Batch requests cannot be longer than "
                 "1048576 bytes. You have sent 1048577 bytes.", query="BatchRequestTooLong")


def test_successive_purge(sqs: Any, name: str) -> None:
    """Snapshot ``test_successive_purge_calls_fail[sqs]``: a second ``PurgeQueue`` within 60 seconds."""
    url = queue(sqs, name)
    sqs.purge_queue(QueueUrl=url)
    response = error_of(lambda: sqs.purge_queue(QueueUrl=url))
    assert_error(response, "AWS.SimpleQueueService.PurgeQueueInProgress",
                 f"Only one PurgeQueue operation on {name} is allowed every 60 seconds.",
                 query="PurgeQueueInProgress", status=403)
