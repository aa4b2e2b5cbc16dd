"""Framework CPU per message: the orders handler, product and baseline, on in-memory fakes (no moto, no network).

Every boto3 client either handler creates is a :class:`FakeAwsClient` that answers each call at once with what the
real API returns on success, so what is timed (in CPU time of this process, which other load on the machine
barely moves) is the handler's own code and its libraries: decoding, validation, routing, the commit or Powertools
idempotency, encoding the events and the reply. ``overhead_ratio`` = baseline messages/s over ours (above 1: ours is
slower).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from benchmarks.coldstart import HANDLERS, ProbeWorld, _sqs_event  # noqa: F401 - the same first messages
from benchmarks.coldstart_probe import ProbeContext
from chaos.naive.common import cloud_event


class FakeAwsClient:
    """Answers any call of any service with a success response; counts them."""

    class exceptions:  # noqa: N801 - mirrors boto3's client.exceptions
        class ConditionalCheckFailedException(Exception):  # noqa: N818 - boto3 names
            pass

        class TransactionCanceledException(Exception):  # noqa: N818 - boto3 names
            pass

    def __init__(self, service: str) -> None:
        self.service = service
        self.calls = 0

    def __getattr__(self, operation: str) -> Any:
        def call(**params: Any) -> dict[str, Any]:
            self.calls += 1
            if operation == "publish_batch":
                return {
                    "Successful": [
                        {"Id": e["Id"], "MessageId": str(uuid.uuid4())} for e in params["PublishBatchRequestEntries"]
                    ],
                    "Failed": [],
                }
            if operation == "send_message_batch":
                return {
                    "Successful": [{"Id": e["Id"], "MessageId": str(uuid.uuid4())} for e in params["Entries"]],
                    "Failed": [],
                }
            if operation in ("publish", "send_message"):
                return {"MessageId": str(uuid.uuid4())}
            return {}

        return call


@contextmanager
def fake_aws() -> Iterator[None]:
    def client(self: Any, service: str, *args: Any, **kwargs: Any) -> FakeAwsClient:
        return FakeAwsClient(service)

    with (
        mock.patch("boto3.session.Session.client", client),
        mock.patch("boto3.client", lambda s, *a, **k: FakeAwsClient(s)),
    ):
        yield


def _event(n: int, reply_queue: str) -> dict[str, Any]:
    records = []
    for i in range(10):
        key = f"c-{n}-{i}"
        order = {"customer_id": key, "lines": [{"sku": "book", "quantity": 1, "unit_price": "12.50"}]}
        body = cloud_event("orders.CreateOrder", "/bench/overhead", order, key, kind="command", replyto=reply_queue)
        record = _sqs_event(body)["Records"][0]
        record["attributes"]["MessageGroupId"] = body["partitionkey"]
        records.append(record)
    return {"Records": records}


ENV = {
    "STATE_TABLE_NAME": "state",
    "IDEMPOTENCY_TABLE_NAME": "dedup",
    "REPLY_TABLE_NAME": "replies",
    "EVENT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:events.fifo",
    "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq.fifo",
    "REPLY_TO_ALLOWLIST": "https://sqs.us-east-1.amazonaws.com/123456789012/replies.fifo",
    "POWERTOOLS_SERVICE_NAME": "orders",
    "POWERTOOLS_METRICS_NAMESPACE": "FifoMessaging",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
}


DISCARDED = open(os.devnull, "w")  # noqa: PTH123, SIM115 - loggers keep the stream they were made with: never closed
"""Where the handlers' log lines go while timed (Lambda would ship them to CloudWatch Logs)."""


def throughput(module_name: str, batches: int) -> float:
    """Messages per second through ``module_name``'s handler on fakes (a fresh module instance, logs discarded)."""
    with mock.patch.dict(os.environ, ENV), fake_aws():
        stdout, sys.stdout = sys.stdout, DISCARDED
        try:
            for name in [m for m in sys.modules if m == module_name]:
                del sys.modules[name]
            module = importlib.import_module(module_name)
            events = [_event(n, ENV["REPLY_TO_ALLOWLIST"]) for n in range(batches + 1)]
            module.lambda_handler(events[0], ProbeContext())  # warm: clients made, models built
            started = time.process_time()
            for event in events[1:]:
                response = module.lambda_handler(event, ProbeContext())
                if response.get("batchItemFailures"):
                    raise RuntimeError(f"{module_name} failed on fakes: {json.dumps(response)[:200]}")
            return 10 * batches / (time.process_time() - started)
        finally:
            sys.stdout = stdout


ROUNDS = 3


def overhead(batches: int = 40, rounds: int = ROUNDS) -> tuple[float, float]:
    """(ours, baseline) messages per second of the orders handler on fakes: the best of ``rounds`` interleaved runs
    each, so a burst of load from elsewhere on the machine slows one run, not the figure."""
    ours_module, baseline_module = HANDLERS["orders"]
    ours, baseline = 0.0, 0.0
    for _ in range(rounds):
        ours = max(ours, throughput(ours_module, batches))
        baseline = max(baseline, throughput(baseline_module, batches))
    return ours, baseline
