"""Test handler: each SQS record's JSON body says what to do.

Body: {"tag": str, "n": int, "action": "ok" | "fail" | "raise" | "sleep", "fail_until": int, "seconds": float}
- fail: reported in batchItemFailures (and every later record of its group, as FIFO consumers must);
- fail_until: fail while ApproximateReceiveCount <= fail_until;
- raise / sleep: the invocation raises / sleeps ``seconds`` while ApproximateReceiveCount <= ``until``;
- bogus: answers with an item identifier that is not in the batch;
- log: writes ``text`` to stdout and stderr, logs it (root logging and a Powertools Logger) and emits a Powertools
  metric ``Logged`` (namespace FixtureWorkers) with ``value``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from fixture_handlers import recorder

plain_logger = logging.getLogger("fixture.worker")
powertools_logger = Logger(service="fixture-worker")
metrics = Metrics(namespace="FixtureWorkers", service="fixture-worker")

COLD_STARTS = 0
COLD_STARTS += 1


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    worker = os.environ["WORKER_NAME"]
    bodies = [json.loads(r["body"]) for r in event["Records"]]
    recorder.enter(worker)
    try:
        recorder.record(
            {
                "worker": worker,
                "event": event,
                "bodies": bodies,
                "env": {k: os.getenv(k) for k in ("WORKER_NAME", "OWN_QUEUE_URL", "RECORDS_TABLE",
                                                   "AWS_LAMBDA_FUNCTION_NAME", "POWERTOOLS_TRACE_DISABLED",
                                                   "AWS_REGION")},
                "context": {
                    "function_name": context.function_name,
                    "memory_limit_in_mb": context.memory_limit_in_mb,
                    "invoked_function_arn": context.invoked_function_arn,
                    "aws_request_id": context.aws_request_id,
                    "log_group_name": context.log_group_name,
                    "remaining": context.get_remaining_time_in_millis(),
                },
                "module": __name__,
                "cold_starts": COLD_STARTS,
                "at": time.monotonic(),
            }
        )
        failures: list[dict[str, str]] = []
        failed_groups: set[str] = set()
        for record, body in zip(event["Records"], bodies, strict=True):
            group = record["attributes"].get("MessageGroupId", "")
            action = body.get("action", "ok")
            count = int(record["attributes"]["ApproximateReceiveCount"])
            if action == "raise" and count <= int(body.get("until", 10**6)):
                raise RuntimeError(f"asked to raise by {body.get('tag')}")
            if action == "sleep" and count <= int(body.get("until", 10**6)):
                time.sleep(float(body.get("seconds", 0.1)))
            if action == "log":
                text = body["text"]
                print(f"stdout {text}")
                sys.stderr.write(f"stderr {text}\n")
                plain_logger.warning("logging %s", text)
                powertools_logger.info("powertools", extra={"text": text})
                metrics.add_dimension(name="worker", value=worker)
                metrics.add_metric(name="Logged", unit=MetricUnit.Count, value=float(body.get("value", 1)))
                metrics.flush_metrics()
            if action == "bogus":
                return {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}
            failing = action == "fail" or count <= int(body.get("fail_until", 0)) or group in failed_groups
            if failing:
                failures.append({"itemIdentifier": record["messageId"]})
                if group:
                    failed_groups.add(group)
        return {"batchItemFailures": failures}
    finally:
        recorder.leave(worker)
