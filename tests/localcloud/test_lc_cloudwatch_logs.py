"""CloudWatch Logs: Lambda's log groups and streams, and the filter pattern syntax, against the local cloud."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.localcloud.lc_support import body, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def logs(cloud: LocalCloud) -> Any:
    return cloud.client("logs")


def test_invocation_logs_reach_the_function_log_group_one_stream_per_environment(cloud: LocalCloud, sqs: Any,
                                                                                 logs: Any, tag: str) -> None:
    """Lambda sends each invocation's output to the function's log group, into the log stream of the execution
    environment that ran it, named ``YYYY/MM/DD/[$LATEST]<id>``.

    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
    """
    # Given a message asking the worker function to log
    function = cloud.function("WorkerFunction")
    sent = sqs.send_message(QueueUrl=cloud.outputs["WorkerQueueUrl"], MessageBody=body(tag, action="log", text=tag),
                            MessageGroupId=tag, MessageDeduplicationId=tag)
    invocation = wait_for(lambda: next((i for i in cloud.invocations if sent["MessageId"] in i.message_ids), None))
    # When its log is shipped
    assert cloud.logs.flush()
    # Then filter-log-events on the function's log group finds the lines carrying the tag, in its stream
    found = logs.filter_log_events(logGroupName=function.spec.log_group_name,
                                   filterPattern=f'"{tag}"')["events"]
    assert {event["message"] for event in found} >= {f"stdout {tag}", f"stderr {tag}"}
    assert all(tag in event["message"] for event in found)
    assert {event["logStreamName"] for event in found} == {invocation.result.log_stream_name}
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", invocation.result.log_stream_name)
    # And the stream holds the runtime's START and REPORT lines of that request
    stream = logs.get_log_events(logGroupName=function.spec.log_group_name,
                                 logStreamName=invocation.result.log_stream_name, startFromHead=True)["events"]
    messages = [event["message"] for event in stream]
    request_id = invocation.result.request_id
    assert f"START RequestId: {request_id} Version: $LATEST" in messages
    assert any(m.startswith(f"REPORT RequestId: {request_id}\tDuration: ") for m in messages)
    streams = logs.describe_log_streams(logGroupName=function.spec.log_group_name)["logStreams"]
    assert invocation.result.log_stream_name in {s["logStreamName"] for s in streams}


@pytest.fixture
def events_group(cloud: LocalCloud, logs: Any, tag: str) -> tuple[str, int]:
    """An ad hoc log group holding four events (timestamps ``start + n``), one of them a structured JSON line."""
    group = f"/patterns/{tag}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    lines = [
        "ERROR 5b0c9e2a-77f1-4a55-9c1d-0c1d2e3f4a5b failed",
        "WARN disk almost full",
        "INFO Exception handled",
        json.dumps({"level": "ERROR", "cloudevent_id": "5b0c9e2a", "latency": 75, "ok": False,
                    "path": "/orders/42"}),
    ]
    start = int(cloud.clock.now_millis()) - 60_000
    logs.put_log_events(logGroupName=group, logStreamName="s",
                        logEvents=[{"timestamp": start + n, "message": m} for n, m in enumerate(lines)])
    return group, start


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("", [0, 1, 2, 3]),
        ("ERROR", [0, 3]),
        ("ERROR failed", [0]),
        ("?WARN ?Exception", [1, 2]),
        ("ERROR -failed", [3]),
        ('"disk almost"', [1]),
        ("5b0c9e2a-77f1-4a55-9c1d-0c1d2e3f4a5b", [0]),
        ('"5b0c9e2a"', [0, 3]),
        ("%WARN|INFO%", [1, 2]),
        ('{ $.cloudevent_id = "5b0c9e2a" }', [3]),
        ("{ ($.latency > 50) && ($.path = \"/orders/*\") }", [3]),
        ("{ $.latency < 50 || $.ok IS FALSE }", [3]),
        ("{ $.missing NOT EXISTS && $.level != \"INFO\" }", [3]),
    ],
)
def test_filter_patterns_select_events_as_documented(logs: Any, events_group: tuple[str, int], pattern: str,
                                                     expected: list[int]) -> None:
    """Terms (all, ``?`` any, ``-`` none), quoted phrases, ``%regex%`` and JSON patterns select events as documented;
    a term is matched whatever character it starts with.

    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
    """
    # Given four events, When they are filtered with the pattern
    group, start = events_group
    found = logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]
    # Then exactly the expected ones are returned, in order
    assert [event["timestamp"] - start for event in found] == expected


def test_an_invalid_filter_pattern_is_refused(logs: Any, events_group: tuple[str, int]) -> None:
    """An unparsable pattern is an InvalidParameterException, not a match of everything.

    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
    """
    # Given a JSON pattern without a comparison, When it is used, Then the call fails with InvalidParameterException
    with pytest.raises(ClientError) as error:
        logs.filter_log_events(logGroupName=events_group[0], filterPattern="{ $.level }")
    assert error.value.response["Error"]["Code"] == "InvalidParameterException"
