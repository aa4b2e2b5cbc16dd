"""What a Lambda function logs, as Lambda captures it, run by the local cloud."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.localcloud.lc_support import body, wait_for

pytestmark = pytest.mark.e2e

REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms"
    r"\tMemory Size: 256 MB\tMax Memory Used: \d+ MB"
)


def sqs_event(*bodies: str) -> dict[str, Any]:
    """A Lambda SQS event for a direct invocation of the fixture worker."""
    return {"Records": [{"messageId": f"m-{n}", "body": text,
                         "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": "g"}}
                        for n, text in enumerate(bodies)]}


def invocation_of(cloud: LocalCloud, message_id: str) -> Any:
    return next((i for i in cloud.invocations if message_id in i.message_ids), None)


def test_invocation_log_holds_stdout_stderr_logging_and_the_runtime_lines(cloud: LocalCloud, sqs: Any,
                                                                          tag: str) -> None:
    """Lambda captures what the function writes to stdout and stderr and through logging, between the runtime's
    START line and its END and REPORT lines (request id, duration, billed duration, memory size, max memory used).

    https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html
    """
    # Given a message asking the worker to log
    sent = sqs.send_message(QueueUrl=cloud.outputs["WorkerQueueUrl"], MessageBody=body(tag, action="log", text=tag),
                            MessageGroupId=tag, MessageDeduplicationId=tag)
    # When the poller invokes the function
    invocation = wait_for(lambda: invocation_of(cloud, sent["MessageId"]))
    result = invocation.result
    lines = result.log.splitlines()
    # Then the log is framed by the runtime's lines, carrying the request id
    request_id = result.request_id
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert lines[-2] == f"END RequestId: {request_id}"
    match = REPORT.match(lines[-1])
    assert match is not None and match["id"] == request_id
    # And it holds each kind of output of the handler, once
    assert lines.count(f"stdout {tag}") == 1
    assert lines.count(f"stderr {tag}") == 1
    [logged] = [line for line in lines if line.endswith(f"logging {tag}")]
    assert re.match(rf"^\[WARNING\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{request_id}\tlogging {tag}$", logged)
    documents = [json.loads(line) for line in lines if line.startswith("{")]
    [structured] = [d for d in documents if d.get("text") == tag]
    assert structured["message"] == "powertools" and structured["service"] == "fixture-worker"
    [emf] = [d for d in documents if "_aws" in d]
    assert emf["Logged"] == [1.0]
    # And the execution environment's stream is named as Lambda names it
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", result.log_stream_name)


def test_concurrent_invocations_capture_only_their_own_output(cloud: LocalCloud, tag: str) -> None:
    """Each invocation's log holds only what that invocation wrote, also while others run at the same time.

    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
    """
    # Given a function invoked from eight threads at once, each with its own text and a pause to overlap
    function = cloud.function("WideFunction")
    results: dict[int, Any] = {}

    def invoke(n: int) -> None:
        results[n] = function.invoke(sqs_event(body(tag, n, action="sleep", seconds=0.05),
                                               body(tag, n, action="log", text=f"{tag}-{n}")))

    threads = [threading.Thread(target=invoke, args=(n,)) for n in range(8)]
    # When they run
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every log has its own lines and no other invocation's
    assert max(r.concurrency for r in results.values()) > 1
    for n, result in results.items():
        mine = [line for line in result.log.splitlines() if tag in line]
        assert mine and all(f"{tag}-{n}" in line for line in mine), (n, mine)
    # And the concurrent invocations ran in distinct execution environments, each with its own stream
    overlapping = [r for r in results.values() if r.concurrency > 1]
    assert len({r.log_stream_name for r in results.values()}) >= max(r.concurrency for r in overlapping)


def test_errors_and_timeouts_are_logged_as_lambda_logs_them(cloud: LocalCloud, tag: str) -> None:
    """An unhandled exception is logged with its type, message and traceback; a timeout with
    "Task timed out after N seconds"; both before END and REPORT.

    https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html
    """
    # Given a function that raises, and one that outlives its 1 s timeout
    failing = cloud.function("WorkerFunction").invoke(sqs_event(body(tag, action="raise")))
    slow = cloud.function("SlowFunction").invoke(sqs_event(body(tag, action="sleep", seconds=1.5)), timeout=0.2)
    # Then the error is logged with its traceback
    assert not failing.ok
    assert f"[ERROR] RuntimeError: asked to raise by {tag}\nTraceback (most recent call last):" in failing.log
    assert failing.log.splitlines()[-2] == f"END RequestId: {failing.request_id}"
    # And the timeout is logged with the limit
    assert slow.timed_out
    assert re.search(rf"Z {slow.request_id} Task timed out after 0\.20 seconds\nEND RequestId: ", slow.log)


def test_log_output_is_bounded_per_invocation(cloud: LocalCloud, tag: str) -> None:
    """A function that writes without end cannot grow the local cloud's memory: output past the per-invocation
    limit is dropped and the drop is noted (the runtime's lines are kept).

    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
    """
    # Given a worker that logs a 300 KB text five times (1.5 MB, above the 1 MB kept)
    result = cloud.function("WorkerFunction").invoke(
        sqs_event(*(body(tag, n, action="log", text="x" * 300_000) for n in range(5))))
    # Then about 1 MB is kept, the rest is counted as dropped, and the runtime's lines are there
    kept = sum(len(event.message) + 1 for event in result.log_events)
    assert 900_000 < kept < 1_100_000
    assert "bytes of log output dropped" in result.log
    assert result.log.splitlines()[-1].startswith("REPORT RequestId: ")
