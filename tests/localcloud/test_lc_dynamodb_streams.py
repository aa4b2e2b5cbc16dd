"""The local cloud's DynamoDB stream event source mappings (localcloud/streams), as Lambda documents them for stream
sources: one batch per shard at a time in order, a partial batch response retries from the reported record, a batch
that keeps failing goes to the on-failure destination after MaximumRetryAttempts and the shard moves on, and moto's
phantom records of a cancelled TransactWriteItems never reach the function.
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html ,
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localcloud import motopatches
from localcloud.awslambda.runtime import LocalFunction
from localcloud.cloudformation.deployment import FunctionSpec, MappingSpec
from localcloud.streams import StreamMappingEmulator
from tests.support.aws import AWS_ENV

pytestmark = pytest.mark.e2e

HANDLERS = Path(__file__).resolve().parent / "handlers"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    motopatches.install()
    try:
        with mock_aws():
            yield
    finally:
        motopatches.uninstall()


def client(service: str, **kwargs: Any) -> Any:
    return boto3.client(service, region_name="us-east-1", **kwargs)


TABLE = "outbox"
"""The table of the running test (a fresh name per test: other modules of the session may keep moto's state)."""


def make_table() -> str:
    global TABLE  # noqa: PLW0603 - one table per test, named afresh
    TABLE = f"outbox-{uuid.uuid4().hex[:8]}"
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    return str(dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"])


def start(tmp_path: Path, stream_arn: str, *, retries: int = -1, batch_size: int = 4) -> tuple[
        StreamMappingEmulator, Path, str]:
    record_path = tmp_path / "batches.jsonl"
    spec = FunctionSpec(stack="T", logical_id="Worker", name="worker",
                        arn="arn:aws:lambda:us-east-1:123456789012:function:worker",
                        handler="fixture_handlers.stream_worker.lambda_handler", runtime="python3.13",
                        timeout_seconds=5, memory_mb=128, environment={"RECORD_PATH": str(record_path)},
                        code_dir=HANDLERS, log_group_name="/aws/lambda/worker")
    dlq_name = f"on-failure-{uuid.uuid4().hex[:8]}"
    dlq_url = client("sqs").create_queue(QueueName=dlq_name)["QueueUrl"]
    dlq_arn = f"arn:aws:sqs:us-east-1:123456789012:{dlq_name}"
    mapping = MappingSpec(uuid="m-1", stack="T", logical_id="Mapping", function_name="worker",
                          event_source_arn=stream_arn, batch_size=batch_size, maximum_batching_window_seconds=0,
                          report_batch_item_failures=True, maximum_concurrency=None, enabled=True,
                          starting_position="TRIM_HORIZON", maximum_retry_attempts=retries,
                          on_failure_destination=dlq_arn, filter_patterns=('{"eventName":["INSERT"]}',))
    emulator = StreamMappingEmulator(client, {"worker": LocalFunction(spec, extra_env={})}, mapping,
                                     {dlq_arn: dlq_url}, region="us-east-1")
    emulator.start()
    return emulator, record_path, dlq_url


def put(pk: str, n: int, action: str = "ok") -> None:
    client("dynamodb").put_item(TableName=TABLE, Item={"pk": {"S": pk}, "sk": {"S": f"{n:03d}"},
                                                          "action": {"S": action}})


def wait_idle(emulator: StreamMappingEmulator, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while emulator.busy():
        assert time.monotonic() < deadline, "the stream mapping did not catch up"
        time.sleep(0.05)


def batches(path: Path) -> list[list[list[str]]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_reported_record_is_retried_with_the_rest_of_its_batch_and_order_holds(aws: None, tmp_path: Path) -> None:
    # Given a stream mapping and items of two keys, one reported as failed on its first delivery
    emulator, path, _ = start(tmp_path, make_table())
    for n in range(10):
        put("a" if n % 2 else "b", n, "fail_once" if n == 5 else "ok")
    # When the mapping has caught up
    wait_idle(emulator)
    client("dynamodb").delete_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"S": "001"}})  # REMOVE: filtered
    time.sleep(0.3)
    wait_idle(emulator)
    emulator.stop()
    delivered = batches(path)
    # Then the batch with the reported record was retried from it, never from before it
    flat = [record for batch in delivered for record in batch]
    assert [r[2] for r in flat].count("005") == 2
    retried_from = next(batch for batch in delivered[1:] if batch[0][2] == "005")
    assert retried_from
    # And each key saw its items in write order (the REMOVE record was filtered out)
    for key in ("a", "b"):
        seen = list(dict.fromkeys(r[2] for r in flat if r[1] == key))
        assert seen == sorted(seen)
    assert len(set(r[2] for r in flat)) == 10


def test_a_batch_failing_past_its_retries_goes_to_the_on_failure_destination_and_the_shard_moves_on(
    aws: None, tmp_path: Path
) -> None:
    # Given a mapping with 2 retries and an item whose invocation always raises, between good ones
    emulator, path, dlq_url = start(tmp_path, make_table(), retries=2, batch_size=1)
    put("a", 0)
    put("a", 1, "raise")
    put("a", 2)
    # When the mapping has caught up
    wait_idle(emulator)
    emulator.stop()
    # Then the failing record was tried 3 times, then reported to the destination, and the next one delivered
    flat = [record[2] for batch in batches(path) for record in batch]
    assert flat == ["000", "001", "001", "001", "002"]
    [message] = client("sqs").receive_message(QueueUrl=dlq_url)["Messages"]
    document = json.loads(message["Body"])
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["DDBStreamBatchInfo"]["batchSize"] == 1


def test_a_cancelled_transaction_never_reaches_the_function(aws: None, tmp_path: Path) -> None:
    # Given a mapping reading the stream while transactions commit and one is cancelled
    emulator, path, _ = start(tmp_path, make_table())
    dynamodb = client("dynamodb")
    put("a", 0)
    wait_idle(emulator)
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "a"}, "sk": {"S": "phantom"}}}},
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "a"}, "sk": {"S": "000"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
    put("a", 1)
    # When the mapping has caught up
    wait_idle(emulator)
    emulator.stop()
    # Then it saw the two committed items, never the cancelled one
    assert [record[2] for batch in batches(path) for record in batch] == ["000", "001"]
