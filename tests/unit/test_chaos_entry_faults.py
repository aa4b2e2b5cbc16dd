"""The chaos harness's per-entry fault of batch calls (chaos.faults): an entry of a PublishBatch / SendMessageBatch
fails on its own, reported in ``Failed``, while the others - later entries of its message group included - go
through, as AWS answers batch calls; only calls made from a function invocation are touched."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chaos.faults import FaultInjector, FaultRates
from tests.support.aws import AWS_ENV, create_fifo_queue, drain

ONLY_ENTRIES = FaultRates(transient=0.0, ambiguous=0.0, crash=0.0, timeout=0.0, entry=0.5)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def in_function(call: Any) -> Any:
    """Run ``call`` on a thread named like a function invocation of the local cloud."""
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.update(value=call()), name="lambda:orders")
    thread.start()
    thread.join()
    return result["value"]


def entries(count: int) -> list[dict[str, Any]]:
    return [{"Id": str(n), "MessageBody": f"m-{n}", "MessageGroupId": "g", "MessageDeduplicationId": f"d-{n}"}
            for n in range(count)]


def test_a_failed_entry_does_not_stop_the_later_entries_of_its_group(aws: None) -> None:
    # Given the per-entry fault at one entry in two, and a FIFO queue
    recorded: list[tuple[str, str]] = []
    injector = FaultInjector(ONLY_ENTRIES, seed=3, function_timeout=5,
                             recorder=lambda function, service, op, params: recorded.append((service, op)))
    with injector.installed():
        sqs = boto3.client("sqs")
        queue = create_fifo_queue(sqs, "orders")
        # When a function sends ten messages of one group in one SendMessageBatch
        response = in_function(lambda: sqs.send_message_batch(QueueUrl=queue, Entries=entries(10)))
    # Then some entries failed (InternalError, not the sender's fault) and the others were enqueued, a later one of
    # the group after an earlier failed one: the reorder a delivery must not risk
    failed = sorted(int(bad["Id"]) for bad in response["Failed"])
    succeeded = sorted(int(ok["Id"]) for ok in response["Successful"])
    assert failed and succeeded
    assert sorted(failed + succeeded) == list(range(10))
    assert {bad["Code"] for bad in response["Failed"]} == {"InternalError"}
    assert not any(bad["SenderFault"] for bad in response["Failed"])
    assert any(ok > min(failed) for ok in succeeded)
    assert [m["Body"] for m in drain(sqs, queue)] == [f"m-{n}" for n in succeeded]
    assert injector.counts["entry_failed"] == len(failed)
    assert recorded == [("sqs", "SendMessageBatch")]


def test_a_batch_whose_every_entry_fails_sends_nothing(aws: None) -> None:
    # Given the per-entry fault on every entry
    injector = FaultInjector(FaultRates(transient=0.0, ambiguous=0.0, crash=0.0, timeout=0.0, entry=1.0), seed=1,
                             function_timeout=5)
    with injector.installed():
        sqs = boto3.client("sqs")
        queue = create_fifo_queue(sqs, "orders")
        # When a function sends a batch
        response = in_function(lambda: sqs.send_message_batch(QueueUrl=queue, Entries=entries(3)))
    # Then every entry is reported failed and the queue holds nothing
    assert [bad["Id"] for bad in response["Failed"]] == ["0", "1", "2"]
    assert response["Successful"] == []
    assert drain(sqs, queue) == []


def test_calls_outside_a_function_are_never_touched(aws: None) -> None:
    # Given the per-entry fault on every entry
    injector = FaultInjector(FaultRates(transient=0.0, ambiguous=0.0, crash=0.0, timeout=0.0, entry=1.0), seed=1,
                             function_timeout=5)
    with injector.installed():
        sqs = boto3.client("sqs")
        queue = create_fifo_queue(sqs, "orders")
        # When the harness itself sends a batch
        response = sqs.send_message_batch(QueueUrl=queue, Entries=entries(3))
    # Then it goes through whole
    assert len(response["Successful"]) == 3
    assert not response.get("Failed")
