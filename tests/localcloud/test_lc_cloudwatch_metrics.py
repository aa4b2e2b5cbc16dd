"""CloudWatch metrics: what Lambda, SQS and CloudWatch Logs (EMF) publish, against the local cloud."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.localcloud.lc_support import body, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def cloudwatch(cloud: LocalCloud) -> Any:
    return cloud.client("cloudwatch")


def statistics(cloud: LocalCloud, cloudwatch: Any, namespace: str, name: str, dimensions: dict[str, str],
               *stats: str, minutes: int = 5) -> list[dict[str, Any]]:
    """Per-minute datapoints of the last ``minutes`` minutes of the local clock, oldest first."""
    end = datetime.fromtimestamp(cloud.clock.now(), UTC)
    points: list[dict[str, Any]] = cloudwatch.get_metric_statistics(
        Namespace=namespace, MetricName=name, Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=end - timedelta(minutes=minutes), EndTime=end, Period=60, Statistics=list(stats))["Datapoints"]
    return sorted(points, key=lambda point: point["Timestamp"])


def next_minute(cloud: LocalCloud) -> None:
    """Move the local clock into the next minute: the one that ended is published."""
    cloud.clock.advance(60 - cloud.clock.now() % 60 + 0.5)


def test_embedded_metric_format_lines_become_metrics(cloud: LocalCloud, sqs: Any, cloudwatch: Any,
                                                     tag: str) -> None:
    """A log line in the embedded metric format (what Powertools Metrics prints) becomes a metric of its namespace,
    once per dimension set, with its values and unit, at its timestamp.

    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
    """
    # Given a function emitting the metric Logged with the values 1, 2 and 4 through Powertools
    url = cloud.outputs["WideQueueUrl"]
    for n, value in enumerate((1, 2, 4)):
        sqs.send_message(QueueUrl=url, MessageBody=body(tag, n, action="log", text=tag, value=value),
                         MessageGroupId=f"{tag}-{n}", MessageDeduplicationId=f"{tag}-{n}")
    # When the invocations ran and their logs were shipped
    wait_for(lambda: sum(tag in i.result.log for i in cloud.invocations) == 3)
    assert cloud.drain(timeout=10)
    # Then the metric is listed in the namespace with the dimensions of the line
    listed = cloudwatch.list_metrics(Namespace="FixtureWorkers", MetricName="Logged")["Metrics"]
    dimensions = {"worker": "Wide", "service": "fixture-worker"}
    assert dimensions in [{d["Name"]: d["Value"] for d in metric["Dimensions"]} for metric in listed]
    # And its statistics hold this test's values (among any other test's in the same minute)
    [*_, point] = statistics(cloud, cloudwatch, "FixtureWorkers", "Logged", dimensions, "Sum", "Maximum",
                             "SampleCount", minutes=1)
    assert point["Sum"] >= 7 and point["Maximum"] >= 4 and point["SampleCount"] >= 3
    assert point["Unit"] == "Count"


def test_lambda_publishes_invocations_errors_duration_and_concurrency(cloud: LocalCloud, cloudwatch: Any,
                                                                      tag: str) -> None:
    """Lambda publishes Invocations, Errors, Duration, Throttles and ConcurrentExecutions per function.

    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
    """
    # Given a function invoked three times, once failing, in a fresh minute
    next_minute(cloud)
    function = cloud.function("WholeFunction")
    record = {"messageId": "m", "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": "g"}}
    for action in ("ok", "ok", "raise"):
        function.invoke({"Records": [{**record, "body": body(tag, action=action)}]})
    # When that minute is over
    next_minute(cloud)
    # Then its AWS/Lambda metrics count them
    dimensions = {"FunctionName": function.spec.name}
    [invocations] = statistics(cloud, cloudwatch, "AWS/Lambda", "Invocations", dimensions, "Sum", minutes=1)
    [errors] = statistics(cloud, cloudwatch, "AWS/Lambda", "Errors", dimensions, "Sum", minutes=1)
    [throttles] = statistics(cloud, cloudwatch, "AWS/Lambda", "Throttles", dimensions, "Sum", minutes=1)
    [duration] = statistics(cloud, cloudwatch, "AWS/Lambda", "Duration", dimensions, "Maximum", "SampleCount",
                            minutes=1)
    [concurrency] = statistics(cloud, cloudwatch, "AWS/Lambda", "ConcurrentExecutions", dimensions, "Maximum",
                               minutes=1)
    assert invocations["Sum"] == 3 and errors["Sum"] == 1 and throttles["Sum"] == 0
    assert duration["SampleCount"] == 3 and duration["Maximum"] > 0 and duration["Unit"] == "Milliseconds"
    assert concurrency["Maximum"] == 1


def test_sqs_publishes_queue_metrics_each_minute(cloud: LocalCloud, sqs: Any, cloudwatch: Any, tag: str) -> None:
    """SQS publishes, per queue and minute, the messages sent, received and deleted, empty receives, sent message
    size, and the visible, in-flight and oldest-message-age gauges.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
    """
    # Given a queue of its own, idle for a minute, then: one empty receive, three 9-byte messages sent, two of them
    # received, one of those deleted
    name = f"metrics-{tag}"
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "600"})["QueueUrl"]
    next_minute(cloud)
    assert sqs.receive_message(QueueUrl=url).get("Messages") is None
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"message-{n}")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=received[0]["ReceiptHandle"])
    # When that minute is over
    cloud.clock.advance(30)
    next_minute(cloud)
    # Then each of the two minutes has its counters and gauges
    queue = {"QueueName": name}

    def values(metric: str, stat: str = "Sum") -> list[float]:
        return [p[stat] for p in statistics(cloud, cloudwatch, "AWS/SQS", metric, queue, stat, minutes=2)]

    assert values("NumberOfMessagesSent") == [0, 3]
    assert values("NumberOfMessagesReceived") == [0, 2]
    assert values("NumberOfMessagesDeleted") == [0, 1]
    assert values("NumberOfEmptyReceives") == [0, 1]
    assert values("SentMessageSize", "Average") == [9]
    assert values("ApproximateNumberOfMessagesVisible", "Maximum") == [0, 1]
    assert values("ApproximateNumberOfMessagesNotVisible", "Maximum") == [0, 1]
    assert values("ApproximateAgeOfOldestMessage", "Maximum") == [0, pytest.approx(60, abs=1)]


def test_a_percentile_over_statistic_sets_has_no_datapoints_and_the_other_queries_still_answer(
    cloud: LocalCloud, cloudwatch: Any, tag: str
) -> None:
    """CloudWatch computes percentiles from raw values only; data published as statistic sets (what the local cloud
    publishes for Lambda and SQS) has no percentile datapoint, and GetMetricData answers every other query.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Percentiles"""
    # Given one statistic set of a metric
    now = datetime.fromtimestamp(cloud.clock.now(), UTC)
    cloudwatch.put_metric_data(Namespace=f"Test/{tag}", MetricData=[{
        "MetricName": "Duration", "Timestamp": now, "Unit": "Milliseconds",
        "StatisticValues": {"SampleCount": 2, "Sum": 30, "Minimum": 10, "Maximum": 20}}])

    def query(query_id: str, stat: str) -> dict[str, Any]:
        return {"Id": query_id, "MetricStat": {"Metric": {"Namespace": f"Test/{tag}", "MetricName": "Duration"},
                                               "Period": 60, "Stat": stat}}

    # When its p99 and its average are asked for in one GetMetricData call
    results = cloudwatch.get_metric_data(MetricDataQueries=[query("p", "p99"), query("a", "Average")],
                                         StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=1))
    values = {result["Id"]: result["Values"] for result in results["MetricDataResults"]}
    # Then the percentile has no datapoint and the average has its value
    assert values == {"p": [], "a": [15.0]}


def test_lambda_duration_p99_is_computed_from_the_minutes_raw_values(cloud: LocalCloud, cloudwatch: Any,
                                                                    tag: str) -> None:
    """A quiet minute is published as its values (PutMetricData ``Values``/``Counts``), so a percentile of it is
    computed, nearest rank, as CloudWatch computes Lambda's ``p99`` Duration."""
    # Given twenty values of a series in one minute, gathered as the local cloud gathers Lambda's metrics
    now = cloud.clock.now()
    for value in range(1, 21):
        cloud.cloudwatch.metrics.add(f"Test/{tag}", "Duration", {"FunctionName": tag}, float(value),
                                     unit="Milliseconds", timestamp=now)
    cloud.cloudwatch.flush()
    end = datetime.fromtimestamp(now, UTC) + timedelta(minutes=1)

    def stat(name: str) -> list[float]:
        query = {"Id": "q", "MetricStat": {"Metric": {"Namespace": f"Test/{tag}", "MetricName": "Duration",
                                                      "Dimensions": [{"Name": "FunctionName", "Value": tag}]},
                                           "Period": 60, "Stat": name}}
        result = cloudwatch.get_metric_data(MetricDataQueries=[query], StartTime=end - timedelta(minutes=5),
                                            EndTime=end)["MetricDataResults"][0]
        return list(result["Values"])

    # When its percentiles and average are read / Then p99 and p50 are the nearest-rank values, the average as ever
    assert (stat("p99"), stat("p50"), stat("Average"), stat("SampleCount")) == ([20.0], [10.0], [10.5], [20.0])
