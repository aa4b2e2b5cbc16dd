"""Metric alarms evaluated as CloudWatch evaluates them
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation).

Each alarm is read with ``DescribeAlarms`` and evaluated with its own period, statistic, threshold, comparison,
``EvaluationPeriods`` (N), ``DatapointsToAlarm`` (M, default N) and ``TreatMissingData`` over the last N complete
periods of the local clock, from ``GetMetricStatistics`` (what a user reads):

- ALARM when at least M of the N datapoints breach; OK when fewer do;
- missing datapoints count as breaching (``breaching``), as not breaching (``notBreaching``), keep the state
  (``ignore``), or (``missing``, the default) are left out, and an evaluation range without any datapoint is
  INSUFFICIENT_DATA.

A change of state goes through ``SetAlarmState``, which (patched) records the history and notifies the actions'
SNS topics, as CloudWatch does. Alarms on metric math or an extended statistic are not evaluated.

Example::

    AlarmEvaluator(cloud.client).evaluate(now=cloud.clock.now())
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("localcloud.cloudwatch")

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
WORDS = {
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "GreaterThanThreshold": "greater than",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}


def _reason_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%d/%m/%y %H:%M:%S")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def evaluate_alarm(
    alarm: dict[str, Any], datapoints: dict[float, float], *, end: float
) -> tuple[str, str, dict[str, Any]] | None:
    """The state an alarm should be in given its datapoints (period start -> value) over the evaluation range
    ending at ``end``; ``None`` to keep the current state. Returns (state, reason, reason data)."""
    period = int(alarm["Period"])
    evaluation_periods = int(alarm["EvaluationPeriods"])
    to_alarm = int(alarm.get("DatapointsToAlarm") or evaluation_periods)
    threshold = float(alarm["Threshold"])
    comparison = COMPARISONS[alarm["ComparisonOperator"]]
    treat_missing = alarm.get("TreatMissingData") or "missing"
    starts = [end - period * (i + 1) for i in range(evaluation_periods)]  # newest first
    present = [(start, datapoints[start]) for start in starts if start in datapoints]
    reason_data: dict[str, Any] = {
        "version": "1.0",
        "queryDate": _iso(end),
        "statistic": alarm.get("Statistic"),
        "period": period,
        "recentDatapoints": [value for _, value in present],
        "threshold": threshold,
        "evaluatedDatapoints": [{"timestamp": _iso(start), "value": value} for start, value in present],
    }
    if alarm.get("Unit"):
        reason_data["unit"] = alarm["Unit"]
    missing = evaluation_periods - len(present)
    if not present:
        if treat_missing == "ignore":
            return None
        detail = (f"no datapoints were received for {_plural(evaluation_periods, 'period')} and "
                  f"{_plural(evaluation_periods, 'missing datapoint')} "
                  f"{'was' if evaluation_periods == 1 else 'were'} treated as")
        if treat_missing == "breaching":
            return "ALARM", f"Threshold Crossed: {detail} [Breaching].", reason_data
        if treat_missing == "notBreaching":
            return "OK", f"Threshold Crossed: {detail} [NonBreaching].", reason_data
        return "INSUFFICIENT_DATA", f"Insufficient Data: {detail} [Missing].", reason_data
    breaching = sum(1 for _, value in present if comparison(value, threshold))
    if treat_missing == "breaching":
        breaching += missing
    shown = ", ".join(f"{value} ({_reason_time(start)})" for start, value in present)
    word = WORDS[alarm["ComparisonOperator"]]
    if breaching >= to_alarm:
        if evaluation_periods == 1:
            reason = f"Threshold Crossed: 1 datapoint [{shown}] was {word} the threshold ({threshold})."
        else:
            reason = (f"Threshold Crossed: {breaching} out of the last {evaluation_periods} datapoints [{shown}] "
                      f"{'was' if breaching == 1 else 'were'} {word} the threshold ({threshold}) "
                      f"(minimum {_plural(to_alarm, 'datapoint')} for OK -> ALARM transition).")
        return "ALARM", reason, reason_data
    if len(present) == 1:
        reason = f"Threshold Crossed: 1 datapoint [{shown}] was not {word} the threshold ({threshold})."
    else:
        calm = len(present) - breaching
        reason = (f"Threshold Crossed: {calm} out of the last {len(present)} datapoints [{shown}] "
                  f"{'was' if calm == 1 else 'were'} not {word} the threshold ({threshold}) "
                  f"(minimum 1 datapoint for ALARM -> OK transition).")
    return "OK", reason, reason_data


class AlarmEvaluator:
    """Evaluates every metric alarm of the account and region through the CloudWatch API."""

    def __init__(self, client: Callable[[str], Any]) -> None:
        self._client = client
        self._skipped: set[str] = set()

    def evaluate(self, *, now: float) -> int:
        """Evaluate each alarm over its last complete periods before ``now``; returns how many changed state."""
        cloudwatch = self._client("cloudwatch")
        changed = 0
        for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"]):
            for alarm in page.get("MetricAlarms", []):
                try:
                    changed += self._evaluate_one(cloudwatch, alarm, now)
                except Exception:
                    log.exception("evaluating alarm %s failed", alarm.get("AlarmName"))
        return changed

    def _evaluate_one(self, cloudwatch: Any, alarm: dict[str, Any], now: float) -> int:
        name = alarm["AlarmName"]
        if not alarm.get("Statistic") or not alarm.get("MetricName") or alarm["ComparisonOperator"] not in COMPARISONS:
            if name not in self._skipped:
                self._skipped.add(name)
                log.info("alarm %s is not evaluated locally (metric math, extended statistic or anomaly band)", name)
            return 0
        period = int(alarm["Period"])
        end = math.floor(now / period) * period
        start = end - period * int(alarm["EvaluationPeriods"])
        response = cloudwatch.get_metric_statistics(
            Namespace=alarm["Namespace"],
            MetricName=alarm["MetricName"],
            Dimensions=alarm.get("Dimensions", []),
            StartTime=datetime.fromtimestamp(start, UTC),
            EndTime=datetime.fromtimestamp(end, UTC),
            Period=period,
            Statistics=[alarm["Statistic"]],
            **({"Unit": alarm["Unit"]} if alarm.get("Unit") else {}),
        )
        datapoints = {point["Timestamp"].timestamp(): float(point[alarm["Statistic"]])
                      for point in response.get("Datapoints", [])}
        verdict = evaluate_alarm(alarm, datapoints, end=end)
        if verdict is None or verdict[0] == alarm["StateValue"]:
            return 0
        state, reason, reason_data = verdict
        cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason,
                                   StateReasonData=json.dumps(reason_data))
        return 1
