"""Channels (batching, partial failures, lazy clients) and settings, with fake boto3 clients."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from messaging.channels import QueueSender, TopicPublisher
from messaging.codec import CloudEventJsonCodec
from messaging.consumer import MessageConsumer
from messaging.envelope import command, event
from messaging.settings import ConsumerSettings

pytestmark = pytest.mark.unit
QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:order-events.fifo"
FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
HANDLERS = ["orders.handler", "billing.handler", "notifications.handler", "quotes.handler", "reply_router.handler"]


class FakeSqs:
    def __init__(self, throttle_call: int | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.throttle_call = throttle_call

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if len(self.calls) == self.throttle_call:
            error = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
            raise ClientError({**error, "ResponseMetadata": {"HTTPStatusCode": 400}}, "SendMessageBatch")
        return {"Successful": [{"Id": e["Id"], "MessageId": "m"} for e in kwargs["Entries"]], "Failed": []}


def test_a_batch_is_sent_ten_per_call_with_fifo_identity() -> None:
    # Given 23 commands
    commands = [command("orders.CreateOrder", {"n": n}, source="/web", partitionkey=f"c-{n % 3}") for n in range(23)]
    sqs = FakeSqs()
    # When they are sent as a batch
    result = QueueSender(QUEUE, client=sqs).send_batch(commands)  # type: ignore[arg-type]
    # Then three calls carry 10, 10 and 3 entries, each with group id, dedup id, type/kind attributes and the JSON body
    assert [len(call["Entries"]) for call in sqs.calls] == [10, 10, 3]
    first = sqs.calls[0]["Entries"][0]
    assert first["MessageGroupId"] == "c-0"
    assert len(first["MessageDeduplicationId"]) == 64
    assert first["MessageAttributes"]["type"]["StringValue"] == "orders.CreateOrder"
    assert first["MessageAttributes"]["kind"]["StringValue"] == "command"
    assert CloudEventJsonCodec().decode(first["MessageBody"]) == commands[0]
    assert result.succeeded == [c.id for c in commands]


def test_a_failed_call_marks_its_entries_failed_and_the_rest_still_go_out() -> None:
    # Given SQS throttles the second call of a 23-message batch
    commands = [command("orders.CreateOrder", {"n": n}, source="/web", partitionkey="c") for n in range(23)]
    sqs = FakeSqs(throttle_call=2)
    # When the batch is sent
    result = QueueSender(QUEUE, client=sqs).send_batch(commands)  # type: ignore[arg-type]
    # Then the ten entries of that call are reported failed with the error code, the other 13 succeeded
    assert [f.id for f in result.failed] == [c.id for c in commands[10:20]]
    assert {(f.code, f.sender_fault) for f in result.failed} == {("ThrottlingException", True)}
    assert result.succeeded == [c.id for c in commands[:10] + commands[20:]]


def test_no_client_is_created_before_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given boto3 would explode if a client were created
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("client created")

    monkeypatch.setattr(boto3.session.Session, "client", explode)
    # When channels and a consumer are constructed (as at import time of a handler module)
    TopicPublisher(TOPIC)
    QueueSender(QUEUE)
    consumer = MessageConsumer("orders")
    # Then nothing was created and no settings were read yet
    assert consumer._settings is None


@pytest.mark.parametrize("module", HANDLERS)
def test_a_handler_module_imports_without_boto3(module: str) -> None:
    # Given a fresh interpreter, as a Lambda cold start
    probe = f"import sys, {module}; print(sorted(m for m in ('boto3', 'moto', 'aws_cdk') if m in sys.modules))"
    # When the handler module is imported
    imported = subprocess.run(
        [sys.executable, "-c", probe], cwd=FUNCTIONS, capture_output=True, text=True, check=True
    ).stdout.strip()
    # Then neither boto3 (created with the first client) nor a test or infra library was loaded
    assert imported == "[]"


def test_a_standard_topic_gets_no_fifo_attributes() -> None:
    # Given a publisher to a standard (non-FIFO) topic
    calls: list[dict[str, Any]] = []

    class FakeSns:
        def publish(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            return {"MessageId": "m-1"}

    # When an event is published
    TopicPublisher("arn:aws:sns:eu-west-1:123456789012:plain", client=FakeSns()).publish(  # type: ignore[arg-type]
        event("t", {}, source="/s", partitionkey="p")
    )
    # Then no group or dedup id is sent
    assert "MessageGroupId" not in calls[0]
    assert "MessageDeduplicationId" not in calls[0]


def test_settings_are_read_from_the_environment_when_asked() -> None:
    # Given a Lambda environment
    env = {
        "IDEMPOTENCY_TABLE_NAME": "idem",
        "DEAD_LETTER_QUEUE_URL": "https://q/dlq.fifo",
        "EVENT_TOPIC_ARN": TOPIC,
        "REPLY_TO_ALLOWLIST": " https://q/replies.fifo ,,https://q/other.fifo",
        "POWERTOOLS_SERVICE_NAME": "orders",
        "IDEMPOTENCY_EXPIRY_SECONDS": "7200",
    }
    # When settings are read
    settings = ConsumerSettings.from_env(env)
    # Then every value is taken, the allowlist trimmed, and the metrics namespace defaults to FifoMessaging
    assert settings == ConsumerSettings(
        idempotency_table_name="idem",
        dead_letter_queue_url="https://q/dlq.fifo",
        event_topic_arn=TOPIC,
        reply_to_allowlist=frozenset({"https://q/replies.fifo", "https://q/other.fifo"}),
        service_name="orders",
        idempotency_expiry_seconds=7200,
    )
    assert settings.metrics_namespace == "FifoMessaging"
    assert ConsumerSettings.from_env({}).idempotency_expiry_seconds == 3600
