"""CloudWatch: metric queries on aligned periods, bounded metric storage, alarm states, history and actions.

- :func:`_get_metric_statistics` / :func:`_get_metric_data` - datapoints of the series whose dimensions are exactly
  the requested ones, in periods aligned to the period (a 60 s period starts on the minute), computed in one pass;
  moto 5.2.5 started periods at the first datum or at StartTime and scanned every datum for every period of every
  query (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html); a
  percentile (``p99``) is computed from raw values (nearest rank) and has no datapoint where a statistic set was
  published (moto answered HTTP 500)
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Percentiles).
- :func:`_put_metric_data` - stored data are bounded (:data:`MAX_METRIC_DATA`, the oldest go first), so a
  long-running local cloud does not grow without bound (CloudWatch expires data by resolution).
- :func:`_put_metric_alarm` - a new alarm starts in ``INSUFFICIENT_DATA`` ("Unchecked: Initial alarm creation");
  creating or updating it is a ``ConfigurationUpdate`` history item
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html).
- :func:`_set_alarm_state` - a change of state is a ``StateUpdate`` history item (``HistoryData`` with the old and
  new state) and notifies the SNS topics of the new state's actions with the JSON CloudWatch sends (subject
  ``ALARM: "<name>" in <region name>``), when actions are enabled
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-sns-notifications.html); setting the current
  state again changes nothing.
- :func:`_describe_alarm_history` - ``DescribeAlarmHistory``, which moto lacks
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html).
- Alarm timestamps follow :data:`localcloud.clock.CLOCK`.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch import models as cw_models
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult
from moto.sns.models import sns_backends

from localcloud.clock import CLOCK
from localcloud.motopatches.core import Patch

MAX_METRIC_DATA = 100_000
"""Metric data a local account and region keeps (the oldest go first)."""
HISTORY_LIMIT = 1000
"""History items kept per alarm."""
HISTORY = "_localcloud_history"

REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)", "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)", "eu-central-1": "EU (Frankfurt)", "eu-north-1": "EU (Stockholm)",
    "ap-southeast-1": "Asia Pacific (Singapore)", "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-northeast-1": "Asia Pacific (Tokyo)", "ca-central-1": "Canada (Central)",
    "sa-east-1": "South America (Sao Paulo)",
}


def _now() -> datetime:
    return datetime.fromtimestamp(CLOCK.now(), UTC)


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


# ---------------------------------------------------------------------------------------------------- metric queries
def _periods(backend: Any, namespace: str, name: str, dimensions: list[dict[str, str]] | None, *, unit: str | None,
             start: datetime, end: datetime, period: int) -> dict[float, list[Any]]:
    """The data of one series, by aligned period start (epoch seconds)."""
    wanted = sorted((d["Name"], d["Value"]) for d in dimensions or [])
    first = math.floor(_epoch(start) / period) * period
    last = _epoch(end)
    buckets: dict[float, list[Any]] = {}
    for datum in backend.get_all_metrics():
        if datum.namespace != namespace or datum.name != name or (unit and datum.unit != unit):
            continue
        moment = _epoch(datum.timestamp)
        if not first <= moment < last:
            continue
        if sorted((d.name, d.value) for d in datum.dimensions) != wanted:
            continue
        bucket = first + math.floor((moment - first) / period) * period
        buckets.setdefault(bucket, []).append(datum)
    return buckets


_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d+)?|100)$")


def _value(stat: str, bucket: float, data: list[Any]) -> Any:
    """``stat`` of the data of one period: a percentile (``p99``) from raw values by nearest rank, None when any
    datum is a statistic set (CloudWatch has no percentile for those); else moto's statistic."""
    match = _PERCENTILE.match(stat)
    if match is None:
        return _statistics([stat], bucket, data).get_statistics_for_type(stat)
    if not data or not all(isinstance(datum, cw_models.MetricDatum) for datum in data):
        return None
    ordered = sorted(float(datum.value) for datum in data)
    rank = max(1, math.ceil(float(match.group(1)) / 100 * len(ordered)))
    return ordered[rank - 1]


def _statistics(stats: list[str], bucket: float, data: list[Any]) -> Any:
    result = cw_models.Statistics(stats, datetime.fromtimestamp(bucket, UTC))
    result.metric_data = data
    result.unit = data[-1].unit
    return result


def _get_metric_statistics(original: Any) -> Any:
    @functools.wraps(original)
    def get_metric_statistics(self: Any, namespace: str, metric_name: str, start_time: datetime,  # noqa: PLR0917
                              end_time: datetime, period: int, stats: list[str], dimensions: list[dict[str, str]],
                              unit: str | None = None) -> list[Any]:
        if start_time >= end_time:
            return list(original(self, namespace, metric_name, start_time, end_time, period, stats, dimensions, unit))
        buckets = _periods(self, namespace, metric_name, dimensions, unit=unit, start=start_time, end=end_time,
                           period=int(period))
        return [_statistics(stats, bucket, data) for bucket, data in sorted(buckets.items())]

    return get_metric_statistics


def _get_metric_data(original: Any) -> Any:
    @functools.wraps(original)
    def get_metric_data(self: Any, queries: list[dict[str, Any]], start_time: datetime, end_time: datetime,
                        scan_by: str = "TimestampAscending") -> list[dict[str, Any]]:
        if start_time >= end_time or any("MetricStat" not in query for query in queries):
            return list(original(self, queries, start_time, end_time, scan_by))
        results = []
        for query in queries:
            stat = query["MetricStat"]
            metric = stat["Metric"]
            buckets = _periods(self, metric["Namespace"], metric["MetricName"], metric.get("Dimensions"),
                               unit=stat.get("Unit"), start=start_time, end=end_time, period=int(stat["Period"]))
            ordered = sorted(buckets.items(), reverse=scan_by == "TimestampDescending")
            # A percentile cannot be computed from statistic sets (what the local cloud publishes): no datapoint,
            # as CloudWatch answers for such data; moto's None value failed the whole response (HTTP 500).
            computed = [(bucket, _value(stat["Stat"], bucket, data)) for bucket, data in ordered]
            points = [(bucket, value) for bucket, value in computed if value is not None]
            if query.get("ReturnData", True):
                results.append({
                    "id": query["Id"],
                    "label": query.get("Label") or f"{metric['MetricName']} {stat['Stat']}",
                    "values": [value for _, value in points],
                    "timestamps": [datetime.fromtimestamp(bucket, UTC) for bucket, _ in points],
                    "status_code": "Complete",
                })
        return results

    return get_metric_data


def _put_metric_data(original: Any) -> Any:
    @functools.wraps(original)
    def put_metric_data(self: Any, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        original(self, namespace, metric_data)
        excess = len(self.metric_data) - MAX_METRIC_DATA
        if excess > 0:
            self.metric_data.sort(key=lambda datum: _epoch(datum.timestamp))
            del self.metric_data[:excess]

    return put_metric_data


# ------------------------------------------------------------------------------------------------------------ alarms
def _history(alarm: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] | None = getattr(alarm, HISTORY, None)
    if items is None:
        items = []
        setattr(alarm, HISTORY, items)
    return items


def _record(alarm: Any, item_type: str, summary: str, data: dict[str, Any]) -> None:
    items = _history(alarm)
    items.append({
        "AlarmName": alarm.name,
        "AlarmType": "MetricAlarm",
        "Timestamp": _now(),
        "HistoryItemType": item_type,
        "HistorySummary": summary,
        "HistoryData": json.dumps(data),
    })
    del items[:-HISTORY_LIMIT]


def _put_metric_alarm(original: Any) -> Any:
    @functools.wraps(original)
    def put_metric_alarm(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        existing = self.alarms.get(name)
        alarm = original(self, name, *args, **kwargs)
        created = self.alarms[name]
        if existing is None:
            created.state_value = "INSUFFICIENT_DATA"
            created.state_reason = "Unchecked: Initial alarm creation"
            created.state_updated_timestamp = _now()
            created.configuration_updated_timestamp = _now()
            _record(created, "ConfigurationUpdate", f'Alarm "{name}" created', {"type": "Create", "version": "1.0"})
        else:
            # An update keeps the state and the history (moto builds a new alarm object).
            for attribute in ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp"):
                setattr(created, attribute, getattr(existing, attribute))
            setattr(created, HISTORY, _history(existing))
            created.configuration_updated_timestamp = _now()
            _record(created, "ConfigurationUpdate", f'Alarm "{name}" updated', {"type": "Update", "version": "1.0"})
        return alarm

    return put_metric_alarm


def _notification(alarm: Any, account_id: str, region: str, old_state: str) -> str:
    dimensions = [{"value": d.value, "name": d.name} for d in alarm.dimensions]
    return json.dumps({
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": _iso(alarm.configuration_updated_timestamp),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": _iso(alarm.state_updated_timestamp),
        "Region": REGION_NAMES.get(region, region),
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "Statistic" if alarm.statistic else "ExtendedStatistic",
            **({"Statistic": alarm.statistic.upper()} if alarm.statistic
               else {"ExtendedStatistic": alarm.extended_statistic}),
            "Unit": alarm.unit,
            "Dimensions": dimensions,
            "Period": int(alarm.period or 0),
            "EvaluationPeriods": int(alarm.evaluation_periods or 0),
            **({"DatapointsToAlarm": int(alarm.datapoints_to_alarm)} if alarm.datapoints_to_alarm else {}),
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": float(alarm.threshold),
            "TreatMissingData": alarm.treat_missing_data or "",
            "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
        },
    })


def _set_alarm_state(original: Any) -> Any:
    @functools.wraps(original)
    def set_alarm_state(self: Any, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
        alarm = self.alarms.get(alarm_name)
        old_state, old_reason = (alarm.state_value, alarm.state_reason) if alarm is not None else (None, None)
        original(self, alarm_name, reason, reason_data, state_value)
        alarm = self.alarms[alarm_name]
        alarm.history.clear()  # moto's own record of previous states; the history kept is the one below
        if old_state == state_value:
            return
        alarm.state_updated_timestamp = _now()
        _record(alarm, "StateUpdate", f"Alarm updated from {old_state} to {state_value}", {
            "version": "1.0",
            "oldState": {"stateValue": old_state, "stateReason": old_reason},
            "newState": {"stateValue": state_value, "stateReason": reason,
                         **({"stateReasonData": json.loads(reason_data)} if reason_data else {})},
        })
        if not alarm.actions_enabled:
            return
        actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions}.get(state_value,
                                                                             alarm.insufficient_data_actions)
        message = _notification(alarm, self.account_id, self.region_name, str(old_state))
        for action in actions:
            parts = str(action).split(":")
            if len(parts) < 6 or parts[2] != "sns":
                continue
            topics = sns_backends[parts[4]][parts[3]]
            if action in topics.topics:
                subject = f'{state_value}: "{alarm_name}" in {REGION_NAMES.get(self.region_name, self.region_name)}'
                topics.publish(message, action, subject=subject[:100])

    return set_alarm_state


def _describe_alarm_history(self: Any) -> ActionResult:
    """``DescribeAlarmHistory``: newest first unless ``ScanBy=TimestampAscending``."""
    name = self._get_param("AlarmName")
    item_type = self._get_param("HistoryItemType")
    start = self._get_param("StartDate")
    end = self._get_param("EndDate")
    limit = int(self._get_param("MaxRecords") or 100)
    backend = self.cloudwatch_backend
    items = [item for alarm in backend.alarms.values() if not name or alarm.name == name
             for item in _history(alarm)]
    if item_type:
        items = [item for item in items if item["HistoryItemType"] == item_type]
    if start:
        items = [item for item in items if _epoch(item["Timestamp"]) >= _epoch(start)]
    if end:
        items = [item for item in items if _epoch(item["Timestamp"]) <= _epoch(end)]
    items.sort(key=lambda item: _epoch(item["Timestamp"]),
               reverse=self._get_param("ScanBy") != "TimestampAscending")
    return ActionResult({"AlarmHistoryItems": items[:limit]})


def patches() -> Iterator[Patch]:
    """The patches of this module."""
    backend = cw_models.CloudWatchBackend
    yield backend, "get_metric_statistics", _get_metric_statistics(backend.get_metric_statistics)
    yield backend, "get_metric_data", _get_metric_data(backend.get_metric_data)
    yield backend, "put_metric_data", _put_metric_data(backend.put_metric_data)
    yield backend, "put_metric_alarm", _put_metric_alarm(backend.put_metric_alarm)
    yield backend, "set_alarm_state", _set_alarm_state(backend.set_alarm_state)
    yield CloudWatchResponse, "describe_alarm_history", _describe_alarm_history
