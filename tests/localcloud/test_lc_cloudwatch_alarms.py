"""CloudWatch alarms: evaluation on their own periods, state history and SNS notifications, against the local cloud."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from localcloud import LocalCloud
from localcloud.cloudwatch.alarms import evaluate_alarm
from tests.localcloud.lc_support import body, receive_all, send

pytestmark = pytest.mark.e2e

EVALUATION_DOC = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html"


@pytest.fixture
def cloudwatch(cloud: LocalCloud) -> Any:
    return cloud.client("cloudwatch")


def next_minute(cloud: LocalCloud) -> None:
    """Move the local clock into the next minute: the one that ended is published and the alarms evaluated."""
    cloud.clock.advance(60 - cloud.clock.now() % 60 + 0.5)


def state(cloudwatch: Any, name: str) -> str:
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return str(alarm["StateValue"])


def notifications(sqs: Any, url: str, name: str) -> list[dict[str, Any]]:
    """The SNS notifications of alarm ``name`` waiting in the standard queue ``url`` (consumed)."""
    found = []
    for message in receive_all(sqs, url, attempts=5):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        envelope = json.loads(message["Body"])
        payload = json.loads(envelope["Message"])
        if payload.get("AlarmName") == name:
            found.append({"Subject": envelope.get("Subject"), **payload})
    return found


def test_dead_letter_alarm_goes_off_and_notifies_its_topic(cloud: LocalCloud, sqs: Any, cloudwatch: Any,
                                                           tag: str) -> None:
    """A deployed alarm on a dead-letter queue's visible messages changes to ALARM at the end of the period in which
    a poison message reached the DLQ, records the change in its history and publishes CloudWatch's notification to
    its action's SNS topic; it returns to OK (and says so) once the DLQ is empty.

    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-sns-notifications.html
    """
    name = cloud.outputs["WorkerDeadLettersAlarmName"]
    inbox = cloud.outputs["AlarmInboxUrl"]
    dlq = cloud.outputs["WorkerQueueDlqUrl"]
    sqs.purge_queue(QueueUrl=dlq)
    next_minute(cloud)
    notifications(sqs, inbox, name)
    assert state(cloudwatch, name) == "OK"
    # Given a poison message that the worker fails until SQS moves it to the dead-letter queue
    send(sqs, cloud.outputs["WorkerQueueUrl"], tag, 0, tag, action="fail")
    assert cloud.drain(timeout=10, advance_clock=True)
    peek = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    assert [m["Body"] for m in peek] == [body(tag, 0, action="fail")]
    # When the minute ends
    next_minute(cloud)
    # Then the alarm is in ALARM, its history says so, and the topic got the notification
    assert state(cloudwatch, name) == "ALARM"
    history = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert history[0]["HistorySummary"] == "Alarm updated from OK to ALARM"
    data = json.loads(history[0]["HistoryData"])
    assert data["oldState"]["stateValue"] == "OK" and data["newState"]["stateValue"] == "ALARM"
    assert data["newState"]["stateReason"].startswith("Threshold Crossed: 1 datapoint [1.0 (")
    [notice] = notifications(sqs, inbox, name)
    assert notice["Subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
    assert notice["NewStateValue"] == "ALARM" and notice["OldStateValue"] == "OK"
    assert notice["AWSAccountId"] == cloud.account_id
    assert notice["Trigger"] == {
        "MetricName": "ApproximateNumberOfMessagesVisible", "Namespace": "AWS/SQS", "StatisticType": "Statistic",
        "Statistic": "MAXIMUM", "Unit": None, "Period": 60, "EvaluationPeriods": 1,
        "Dimensions": [{"value": dlq.rsplit("/", 1)[-1], "name": "QueueName"}],
        "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Threshold": 1.0, "TreatMissingData": "notBreaching",
        "EvaluateLowSampleCountPercentile": "",
    }
    # And once the DLQ is empty and a minute ends, it is OK again, with an OK notification
    sqs.purge_queue(QueueUrl=dlq)
    next_minute(cloud)
    assert state(cloudwatch, name) == "OK"
    assert [n["NewStateValue"] for n in notifications(sqs, inbox, name)] == ["OK"]


def test_alarm_needs_datapoints_to_alarm_of_its_evaluation_periods(cloud: LocalCloud, cloudwatch: Any,
                                                                   tag: str) -> None:
    """An alarm with 3 evaluation periods and 2 datapoints to alarm goes to ALARM only when 2 of the last 3 periods
    breach, and back to OK when fewer do; a new alarm starts in INSUFFICIENT_DATA.

    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
    """
    # Given an alarm on a custom metric: Maximum > 3 in 2 of 3 one-minute periods
    name = f"two-of-three-{tag}"
    cloudwatch.put_metric_alarm(
        AlarmName=name, Namespace=f"Test/{tag}", MetricName="Depth", Statistic="Maximum", Period=60,
        EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=3, ComparisonOperator="GreaterThanThreshold")
    assert state(cloudwatch, name) == "INSUFFICIENT_DATA"
    observed = []
    # When minute after minute the metric is 5, 1, 6, then nothing
    for value in (5, 1, 6, None):
        if value is not None:
            cloudwatch.put_metric_data(Namespace=f"Test/{tag}", MetricData=[{
                "MetricName": "Depth", "Value": value, "Timestamp": datetime.fromtimestamp(cloud.clock.now(), UTC)}])
        next_minute(cloud)
        observed.append(state(cloudwatch, name))
    # Then it went to ALARM with the second breaching datapoint only, and back to OK when one breach was left
    assert observed == ["OK", "OK", "ALARM", "OK"]
    summaries = [item["HistorySummary"] for item in
                 cloudwatch.describe_alarm_history(AlarmName=name, ScanBy="TimestampAscending")["AlarmHistoryItems"]]
    assert summaries == [f'Alarm "{name}" created', "Alarm updated from INSUFFICIENT_DATA to OK",
                         "Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK"]


ALARM = {"Period": 60, "EvaluationPeriods": 3, "Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
         "Statistic": "Maximum"}


@pytest.mark.parametrize(
    ("treat_missing", "values", "expected"),
    [
        ("missing", [None, None, None], "INSUFFICIENT_DATA"),
        ("notBreaching", [None, None, None], "OK"),
        ("breaching", [None, None, None], "ALARM"),
        ("ignore", [None, None, None], None),
        ("missing", [2.0, None, None], "ALARM"),
        ("breaching", [None, 0.0, 2.0], "ALARM"),
        ("notBreaching", [None, 0.0, 2.0], "ALARM"),
        ("notBreaching", [None, 0.0, 0.0], "OK"),
    ],
)
def test_missing_data_is_treated_as_configured(treat_missing: str, values: list[float | None],
                                               expected: str | None) -> None:
    """Missing datapoints count as breaching, not breaching, keep the state (ignore) or, when every datapoint is
    missing, make the alarm INSUFFICIENT_DATA (missing); one breaching datapoint of 3 alarms with M = 1.

    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data
    """
    # Given an alarm of 3 periods, M = 1, and the datapoints of the last 3 periods (oldest first)
    alarm = {**ALARM, "DatapointsToAlarm": 1, "TreatMissingData": treat_missing}
    points = {float(600 - 60 * (3 - i)): v for i, v in enumerate(values) if v is not None}
    # When it is evaluated at the end of the third period
    verdict = evaluate_alarm(alarm, points, end=600)
    # Then its state is as documented
    assert (verdict[0] if verdict else None) == expected
