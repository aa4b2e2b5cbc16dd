"""The Lambda SQS trigger (event source mapping), as AWS documents it, run by the local cloud's emulator."""

from __future__ import annotations

import base64
import hashlib
import itertools
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.localcloud.lc_support import body, send, wait_for

pytestmark = pytest.mark.e2e


def calls(recorder: Any, tag: str) -> list[dict[str, Any]]:
    return list(recorder.calls_with(tag))


def dlq_bodies(cloud: LocalCloud, sqs: Any, output: str, tag: str) -> list[str]:
    url = cloud.outputs[output]
    found = []
    for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if tag in m["Body"]:
            found.append(m["Body"])
    return found


def test_event_record_has_every_field_lambda_sends(cloud: LocalCloud, sqs: Any, recorder: Any, tag: str) -> None:
    """The SQS event record carries messageId, receiptHandle, body, attributes (incl. the FIFO ones),
    messageAttributes in Lambda's shape, md5OfBody, eventSource, eventSourceARN and awsRegion.

    https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
    """
    # Given a message with a string and a binary attribute on a mapped FIFO queue
    url = cloud.outputs["WorkerQueueUrl"]
    text = body(tag)
    sqs.send_message(QueueUrl=url, MessageBody=text, MessageGroupId=tag, MessageDeduplicationId=tag,
                     MessageAttributes={"color": {"DataType": "String", "StringValue": "blue"},
                                        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})
    # When the function is invoked
    [call] = wait_for(lambda: calls(recorder, tag))
    record = call["event"]["Records"][0]
    # Then the record is shaped as Lambda's
    assert record["body"] == text
    assert record["md5OfBody"] == hashlib.md5(text.encode()).hexdigest()
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == cloud.outputs["WorkerQueueArn"]
    assert record["awsRegion"] == cloud.region
    attributes = record["attributes"]
    assert attributes["MessageGroupId"] == tag
    assert attributes["MessageDeduplicationId"] == tag
    assert attributes["ApproximateReceiveCount"] == "1"
    assert int(attributes["SequenceNumber"]) > 0
    for key in ("SentTimestamp", "ApproximateFirstReceiveTimestamp", "SenderId"):
        assert attributes[key]
    assert record["messageAttributes"]["color"] == {
        "stringValue": "blue", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    assert base64.b64decode(record["messageAttributes"]["blob"]["binaryValue"]) == b"\x00\x01"
    assert record["md5OfMessageAttributes"]


def test_function_runs_with_its_environment_and_a_lambda_context(cloud: LocalCloud, sqs: Any, recorder: Any,
                                                                 tag: str) -> None:
    """The function sees its environment variables (references resolved) and a context whose remaining time
    follows the function timeout.

    https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
    """
    # Given a mapped queue
    url = cloud.outputs["WorkerQueueUrl"]
    # When a message is processed
    send(sqs, url, tag, 0, tag)
    [call] = wait_for(lambda: calls(recorder, tag))
    # Then env and context are the function's
    function = cloud.function("WorkerFunction")
    assert call["env"]["OWN_QUEUE_URL"] == url
    assert call["env"]["RECORDS_TABLE"] == cloud.outputs["RecordsTableName"]
    assert call["env"]["AWS_LAMBDA_FUNCTION_NAME"] == function.spec.name
    assert call["env"]["POWERTOOLS_TRACE_DISABLED"] == "true"
    context = call["context"]
    assert context["function_name"] == function.spec.name
    assert context["memory_limit_in_mb"] == 256
    assert context["invoked_function_arn"] == function.spec.arn
    assert context["log_group_name"] == f"/aws/lambda/{function.spec.name}"
    assert 0 < context["remaining"] <= function.spec.timeout_seconds * 1000


def test_each_function_has_its_own_handler_module(cloud: LocalCloud, sqs: Any, recorder: Any, tag: str) -> None:
    """Each function is its own execution environment: two functions with one handler share no module state.

    https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
    """
    # Given two functions with the same handler string
    send(sqs, cloud.outputs["WorkerQueueUrl"], tag, 0, tag)
    send(sqs, cloud.outputs["WideQueueUrl"], tag, 1, tag)
    # When both run
    both = wait_for(lambda: len(calls(recorder, tag)) == 2 and calls(recorder, tag))
    # Then they ran in different module instances, each with its own variables
    assert len({c["module"] for c in both}) == 2
    assert {c["env"]["WORKER_NAME"] for c in both} == {"Worker", "Wide"}


def test_batch_size_is_respected(cloud: LocalCloud, sqs: Any, recorder: Any, tag: str) -> None:
    """Lambda reads at most BatchSize messages per invocation.

    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
    """
    # Given a mapping with batch size 5 and 12 messages in distinct groups
    url = cloud.outputs["WorkerQueueUrl"]
    for n in range(12):
        send(sqs, url, tag, n, f"{tag}-{n}")
    # When all are processed
    assert cloud.drain(timeout=10)
    # Then no invocation had more than 5 records, and every message was seen
    mine = calls(recorder, tag)
    assert all(len(c["bodies"]) <= 5 for c in mine)
    assert sorted(b["n"] for c in mine for b in c["bodies"]) == list(range(12))


def test_successful_batch_is_deleted(cloud: LocalCloud, sqs: Any, recorder: Any, tag: str) -> None:
    """When the function succeeds, Lambda deletes the batch's messages from the queue.

    https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
    """
    # Given messages processed successfully
    url = cloud.outputs["WorkerQueueUrl"]
    for n in range(3):
        send(sqs, url, tag, n, tag)
    assert cloud.drain(timeout=10)
    # When the visibility timeout has passed
    cloud.clock.advance(3)
    assert cloud.drain(timeout=5)
    # Then nothing was redelivered
    assert sorted(b["n"] for c in calls(recorder, tag) for b in c["bodies"]) == [0, 1, 2]


def test_partial_batch_failure_retries_only_reported_items(cloud: LocalCloud, sqs: Any, recorder: Any,
                                                           tag: str) -> None:
    """With ReportBatchItemFailures only the messages in batchItemFailures return to the queue.

    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    """
    # Given a batch where one group's message fails on its first receive
    url = cloud.outputs["WorkerQueueUrl"]
    send(sqs, url, tag, 0, f"{tag}-ok")
    send(sqs, url, tag, 1, f"{tag}-bad", fail_until=1)
    # When processed until idle (visibility timeouts advanced)
    assert cloud.drain(timeout=10, advance_clock=True)
    # Then only the failed one was delivered twice, the second time with ApproximateReceiveCount 2
    seen = [(b["n"], r["attributes"]["ApproximateReceiveCount"])
            for c in calls(recorder, tag) for b, r in zip(c["bodies"], c["event"]["Records"], strict=True)]
    assert sorted(seen) == [(0, "1"), (1, "1"), (1, "2")]


def test_invalid_item_identifier_fails_the_whole_batch(cloud: LocalCloud, sqs: Any, recorder: Any, tag: str) -> None:
    """An itemIdentifier that is empty or not a message id of the batch makes Lambda treat the whole batch as failed.

    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    """
    # Given a handler answering with an unknown item identifier
    url = cloud.outputs["WorkerQueueUrl"]
    send(sqs, url, tag, 0, tag, action="bogus")
    # When it has been processed once and the visibility timeout passed
    wait_for(lambda: calls(recorder, tag))
    assert cloud.drain(timeout=10, advance_clock=True)
    # Then the message was retried and finally dead-lettered (maxReceiveCount 2)
    assert len(calls(recorder, tag)) == 2
    assert dlq_bodies(cloud, sqs, "WorkerQueueDlqUrl", tag) == [body(tag, 0, action="bogus")]


def test_exception_fails_the_whole_batch(cloud: LocalCloud, sqs: Any, recorder: Any, tag: str) -> None:
    """If the function raises, every message of the batch becomes visible again after the visibility timeout.

    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    """
    # Given a batch of three where one message makes the function raise on the first attempt
    url = cloud.outputs["WholeQueueUrl"]
    send(sqs, url, tag, 0, f"{tag}-a")
    send(sqs, url, tag, 1, f"{tag}-b", action="raise", until=1)
    send(sqs, url, tag, 2, f"{tag}-c")
    # When processed until idle
    assert cloud.drain(timeout=10, advance_clock=True)
    # Then every message of the failed invocation was received again, also those that did not raise
    counts: dict[int, list[str]] = {}
    number: dict[str, int] = {}
    for c in calls(recorder, tag):
        for b, r in zip(c["bodies"], c["event"]["Records"], strict=True):
            counts.setdefault(b["n"], []).append(r["attributes"]["ApproximateReceiveCount"])
            number[r["messageId"]] = b["n"]
    [failed] = [i for i in cloud.invocations if not i.result.ok and set(number) & set(i.message_ids)]
    assert set(failed.failed_ids) == set(failed.message_ids)
    for message_id in failed.message_ids:
        assert counts[number[message_id]] == ["1", "2"]
    assert sorted(counts) == [0, 1, 2]


def test_timeout_fails_the_whole_batch(cloud: LocalCloud, sqs: Any, recorder: Any, tag: str) -> None:
    """An invocation that exceeds the function timeout fails; its messages are retried.

    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    """
    # Given a function with a 1 s timeout and a message that sleeps 1.3 s on its first attempt
    url = cloud.outputs["SlowQueueUrl"]
    send(sqs, url, tag, 0, tag, action="sleep", seconds=1.3, until=1)
    # When processed until idle
    assert cloud.drain(timeout=10, advance_clock=True)
    # Then the first of this message's two invocations timed out, and the second one succeeded
    ids = {r["messageId"] for c in calls(recorder, tag) for r in c["event"]["Records"]}
    mine = [i for i in cloud.invocations if ids & set(i.message_ids)]
    assert [(i.result.timed_out, i.result.ok) for i in mine] == [(True, False), (False, True)]
    attempts = [c["event"]["Records"][0]["attributes"]["ApproximateReceiveCount"] for c in calls(recorder, tag)]
    assert attempts == ["1", "2"]


def test_redrive_to_dead_letter_queue_after_max_receive_count(cloud: LocalCloud, sqs: Any, recorder: Any,
                                                              tag: str) -> None:
    """A message that keeps failing moves to the source queue's dead-letter queue after maxReceiveCount receives.

    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    """
    # Given a message that always fails, on a queue with maxReceiveCount 2
    url = cloud.outputs["WorkerQueueUrl"]
    send(sqs, url, tag, 0, tag, action="fail")
    # When processed until idle
    assert cloud.drain(timeout=10, advance_clock=True)
    # Then it was tried twice and is now in the DLQ
    assert len(calls(recorder, tag)) == 2
    assert dlq_bodies(cloud, sqs, "WorkerQueueDlqUrl", tag) == [body(tag, 0, action="fail")]


def test_reported_failures_are_ignored_without_report_batch_item_failures(cloud: LocalCloud, sqs: Any,
                                                                         recorder: Any, tag: str) -> None:
    """Without ReportBatchItemFailures a returning function succeeded: the whole batch is deleted.

    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    """
    # Given a mapping without ReportBatchItemFailures, and a handler reporting a failure
    url = cloud.outputs["WholeQueueUrl"]
    send(sqs, url, tag, 0, tag, action="fail")
    # When processed until idle
    assert cloud.drain(timeout=10, advance_clock=True)
    # Then the message was processed once and deleted
    assert len(calls(recorder, tag)) == 1
    assert dlq_bodies(cloud, sqs, "WholeQueueDlqUrl", tag) == []


def test_group_order_and_exclusivity_under_concurrent_workers(cloud: LocalCloud, sqs: Any, recorder: Any,
                                                              tag: str) -> None:
    """FIFO: Lambda never processes two batches of one message group at once and keeps order within a group,
    while different groups are processed concurrently.

    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
    """
    # Given three groups of four messages each on a mapping with batch size 1 and concurrency 2
    url = cloud.outputs["WideQueueUrl"]
    groups = [f"{tag}-{g}" for g in range(3)]
    for n in range(4):
        for group in groups:
            send(sqs, url, tag, n * 10 + groups.index(group), group, action="sleep", seconds=0.03)
    # When all are processed
    assert cloud.drain(timeout=15)
    mine = [i for i in cloud.invocations if i.group_ids and i.group_ids[0] in groups]
    # Then no two invocations of one group overlapped, and each group was processed in send order
    for group in groups:
        spans = sorted((i.started, i.ended) for i in mine if i.group_ids[0] == group)
        assert len(spans) == 4
        assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))
    order = [b["n"] for c in sorted(calls(recorder, tag), key=lambda c: c["at"]) for b in c["bodies"]]
    for g in range(3):
        assert [n for n in order if n % 10 == g] == [g, 10 + g, 20 + g, 30 + g]


def test_other_groups_progress_while_one_group_waits_for_a_retry(cloud: LocalCloud, sqs: Any, recorder: Any,
                                                                 tag: str) -> None:
    """A failed message holds back its own group until retried; other groups keep being processed.

    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
    """
    # Given group A's first message failing once, then messages in group B
    url = cloud.outputs["WorkerQueueUrl"]
    send(sqs, url, tag, 0, f"{tag}-A", fail_until=1)
    send(sqs, url, tag, 1, f"{tag}-A")
    wait_for(lambda: calls(recorder, tag))
    send(sqs, url, tag, 2, f"{tag}-B")
    send(sqs, url, tag, 3, f"{tag}-B")
    # When B is processed (A still waits for its visibility timeout)
    wait_for(lambda: {2, 3} <= {b["n"] for c in calls(recorder, tag) for b in c["bodies"]})
    before_retry = [[b["n"] for b in c["bodies"]] for c in calls(recorder, tag)]
    # Then A has not moved on (its second message came only behind the failed first, so failed with it)
    assert sum(batch.count(0) for batch in before_retry) == 1
    assert all(batch.index(0) < batch.index(1) for batch in before_retry if 1 in batch)
    # And after the timeout A resumes in order
    assert cloud.drain(timeout=10, advance_clock=True)
    order_a = [b["n"] for c in sorted(calls(recorder, tag), key=lambda c: c["at"]) for b in c["bodies"]
               if b["n"] in (0, 1)]
    assert order_a[-2:] == [0, 1]


def test_maximum_concurrency_is_respected(cloud: LocalCloud, sqs: Any, recorder: Any, tag: str) -> None:
    """ScalingConfig MaximumConcurrency caps the concurrent invocations of the mapping.

    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
    """
    # Given a mapping with maximum concurrency 2 and eight groups of slow messages
    url = cloud.outputs["WideQueueUrl"]
    recorder.PEAK["Wide"] = 0
    for n in range(8):
        send(sqs, url, tag, n, f"{tag}-{n}", action="sleep", seconds=0.15)
    # When all are processed
    assert cloud.drain(timeout=15)
    # Then two ran at a time, never more
    assert recorder.PEAK["Wide"] == 2
