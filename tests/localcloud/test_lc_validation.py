"""SQS and SNS request validation: the error codes AWS returns, against the local cloud."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.localcloud.test_lc_sqs_fifo import ad_hoc_fifo

pytestmark = pytest.mark.e2e

SEND_DOC = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html"


def error_of(call: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as error:
        call(**kwargs)
    return dict(error.value.response["Error"])


@pytest.mark.parametrize(
    ("parameter", "value"),
    [("MessageDeduplicationId", "has space"), ("MessageDeduplicationId", "x" * 129),
     ("MessageDeduplicationId", "caf\u00e9"), ("MessageGroupId", "has space"), ("MessageGroupId", ""),
     ("MessageGroupId", "g" * 129)],
)
def test_fifo_ids_are_1_to_128_alphanumeric_or_punctuation_characters(sqs: Any, tag: str, parameter: str,
                                                                     value: str) -> None:
    """MessageDeduplicationId and MessageGroupId: 1-128 alphanumeric and punctuation characters, else
    InvalidParameterValue, on SendMessage and on each entry of SendMessageBatch.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
    """
    # Given a FIFO queue and a message with one invalid id
    url = ad_hoc_fifo(sqs, f"ids-{tag}")
    message = {"MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "d", parameter: value}
    # When it is sent alone or in a batch
    single = error_of(sqs.send_message, QueueUrl=url, **message)
    batch = error_of(sqs.send_message_batch, QueueUrl=url, Entries=[{"Id": "1", **message}])
    # Then both fail with InvalidParameterValue naming the parameter
    for error in (single, batch):
        assert error["Code"] == "InvalidParameterValue"
        assert error["Message"] == (f"Value {value} for parameter {parameter} is invalid. Reason: {parameter} can "
                                    "only include alphanumeric and punctuation characters. 1 to 128 in length.")
    # And a valid punctuation-rich id is accepted
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="a-b_c.d:e/f", MessageDeduplicationId="!#$%&'()*+")


def test_deduplication_id_is_refused_on_a_standard_queue(cloud: LocalCloud, sqs: Any) -> None:
    """A standard queue refuses MessageDeduplicationId as "not valid for this queue type" (MessageGroupId is
    allowed: fair queues).

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
    """
    # Given a standard queue
    url = cloud.outputs["StandardUrl"]
    # When a message with a deduplication id is sent, Then it is refused
    error = error_of(sqs.send_message, QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert error["Code"] == "InvalidParameterValue"
    assert error["Message"].endswith("Reason: The request includes a parameter that is not valid for this queue type.")
    # And one with a group id only is accepted
    sent = sqs.send_message(QueueUrl=url, MessageBody="fair", MessageGroupId="tenant-1")
    assert sent["MessageId"]


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [("ContentBasedDeduplication", "true", "Unknown Attribute ContentBasedDeduplication."),
     ("FifoQueue", "true", "Unknown Attribute FifoQueue."),
     ("DeduplicationScope", "messageGroup",
      "You can specify the DeduplicationScope only when FifoQueue is set to true."),
     ("FifoThroughputLimit", "perMessageGroupId",
      "You can specify the FifoThroughputLimit only when FifoQueue is set to true.")],
)
def test_fifo_only_attributes_are_refused_on_a_standard_queue(cloud: LocalCloud, sqs: Any, tag: str, attribute: str,
                                                              value: str, message: str) -> None:
    """FIFO-only queue attributes on a standard queue are InvalidAttributeName, on SetQueueAttributes and (but for
    FifoQueue, which makes the queue FIFO) on CreateQueue.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
    """
    # Given a standard queue / When a FIFO-only attribute is set on it / Then it is refused
    error = error_of(sqs.set_queue_attributes, QueueUrl=cloud.outputs["StandardUrl"], Attributes={attribute: value})
    assert (error["Code"], error["Message"]) == ("InvalidAttributeName", message)
    if attribute != "FifoQueue":
        error = error_of(sqs.create_queue, QueueName=f"standard-{tag}", Attributes={attribute: value})
        assert (error["Code"], error["Message"]) == ("InvalidAttributeName", message)


@pytest.mark.parametrize("operation", ["send_message_batch", "delete_message_batch", "change_message_visibility_batch"])
def test_batches_hold_at_most_10_entries_with_distinct_ids(cloud: LocalCloud, sqs: Any, operation: str) -> None:
    """A batch of more than 10 entries is TooManyEntriesInBatchRequest; two entries with one Id are
    BatchEntryIdsNotDistinct.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessageBatch.html
    """
    # Given entries of the operation
    url = cloud.outputs["InboxUrl"]

    def entry(n: int, id_: str) -> dict[str, Any]:
        if operation == "send_message_batch":
            return {"Id": id_, "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": f"d{n}"}
        extra = {"VisibilityTimeout": 1} if operation == "change_message_visibility_batch" else {}
        return {"Id": id_, "ReceiptHandle": f"handle-{n}", **extra}

    call = getattr(sqs, operation)
    # When 11 are sent, or two with the same Id
    too_many = error_of(call, QueueUrl=url, Entries=[entry(n, str(n)) for n in range(11)])
    repeated = error_of(call, QueueUrl=url, Entries=[entry(1, "same"), entry(2, "same")])
    # Then the request fails with SQS's codes
    assert too_many["Code"] == "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
    assert too_many["Message"] == "Maximum number of entries per request are 10. You have sent 11."
    assert repeated["Code"] == "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"


def test_fifo_topic_batch_without_deduplication_ids_is_refused(sns: Any, tag: str) -> None:
    """PublishBatch to a FIFO topic without content-based deduplication needs a MessageDeduplicationId on every
    entry: else InvalidParameter for the request; a batch of 11 or with a repeated Id is refused too.

    https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html
    """
    # Given a FIFO topic without content-based deduplication
    arn = sns.create_topic(Name=f"batch-{tag}.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]

    def entry(n: int, **fields: str) -> dict[str, str]:
        return {"Id": str(n), "Message": "x", "MessageGroupId": "g", **fields}

    # When a batch has one entry without deduplication id
    error = error_of(sns.publish_batch, TopicArn=arn,
                     PublishBatchRequestEntries=[entry(1, MessageDeduplicationId="a"), entry(2)])
    # Then the request is refused
    assert (error["Code"], error["Message"]) == (
        "InvalidParameter", "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
                            "MessageDeduplicationId provided explicitly")
    # And 11 entries, or a repeated Id, are refused with their codes
    assert error_of(sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=[
        entry(n, MessageDeduplicationId=str(n)) for n in range(11)])["Code"] == "TooManyEntriesInBatchRequest"
    assert error_of(sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=[
        {**entry(1, MessageDeduplicationId="a")}, {**entry(1, MessageDeduplicationId="b")}])["Code"] == (
        "BatchEntryIdsNotDistinct")
    sns.delete_topic(TopicArn=arn)
