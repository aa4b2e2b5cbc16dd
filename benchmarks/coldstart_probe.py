"""One cold start, run in a fresh interpreter by :mod:`benchmarks.coldstart`: import a handler module, then hand it
its first SQS event (read as JSON from stdin). Prints ``COLDSTART {"import_ms": ..., "first_ms": ...}`` on stdout.

Nothing is imported before the clock starts but the standard library: the handler's imports (boto3, Powertools,
pydantic) and its client creation are what is measured. The AWS endpoint comes from ``AWS_ENDPOINT_URL``.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import uuid


class ProbeContext:
    function_name = "coldstart-probe"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:coldstart-probe"
    log_group_name = "/aws/lambda/coldstart-probe"
    log_stream_name = "probe"
    function_version = "$LATEST"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + 30

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def main() -> None:
    module_name, event = sys.argv[1], json.loads(sys.stdin.read())
    started = time.perf_counter()
    module = importlib.import_module(module_name)
    imported = time.perf_counter()
    response = module.lambda_handler(event, ProbeContext())
    done = time.perf_counter()
    if response.get("batchItemFailures"):
        raise SystemExit(f"the first message failed: {response}")
    result = {"import_ms": 1000 * (imported - started), "first_ms": 1000 * (done - started)}
    sys.stdout.write("COLDSTART " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
