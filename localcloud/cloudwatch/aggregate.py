"""Metric values gathered per series and minute, then written with ``PutMetricData`` as statistic sets.

CloudWatch stores standard-resolution metrics as per-minute aggregates; the local cloud does the same before the
values reach moto, so a busy function adds one datum per series and flush, not one per invocation.

Example::

    metrics = MetricAggregator()
    metrics.add("AWS/Lambda", "Duration", {"FunctionName": "orders"}, 12.5, unit="Milliseconds", timestamp=now)
    metrics.flush(cloudwatch_client)
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MAX_DATA_PER_CALL = 1000
"""PutMetricData accepts up to 1000 metrics per call."""


@dataclass(frozen=True)
class SeriesKey:
    """One metric series and minute: namespace, name, dimensions (sorted), unit, minute start (epoch seconds)."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    unit: str
    minute: int


MAX_RAW_VALUES = 150
"""Values one ``PutMetricData`` datum may carry (``Values``/``Counts``): a minute of a timing series (a unit of
:data:`RAW_UNITS`, such as Lambda's ``Duration``) with at most this many values is published as the values
themselves, so percentiles (a dashboard's ``p99``) can be computed from it as CloudWatch computes them; a busier
minute, and every other series, as a statistic set (no percentiles), which keeps the stored data small."""
RAW_UNITS = frozenset({"Microseconds", "Milliseconds", "Seconds"})


@dataclass
class Statistics:
    """Sum, minimum, maximum and count of the values of one series in one minute, and the values themselves while
    there are at most :data:`MAX_RAW_VALUES` of them (``values``: value -> count; None past that)."""

    sum: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    count: float = 0.0
    values: dict[float, float] | None = field(default_factory=dict)

    def add(self, value: float, count: float = 1.0) -> None:
        self.sum += value * count
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        self.count += count
        if self.values is not None:
            self.values[value] = self.values.get(value, 0.0) + count
            if self.count > MAX_RAW_VALUES:
                self.values = None


def minute_of(timestamp: float) -> int:
    """The start (epoch seconds) of the minute holding ``timestamp``."""
    return int(timestamp // 60) * 60


class MetricAggregator:
    """Thread-safe per-minute statistics of metric series, written out by :meth:`flush`."""

    def __init__(self) -> None:
        self._series: dict[SeriesKey, Statistics] = {}
        self._lock = threading.Lock()

    def add(
        self,
        namespace: str,
        name: str,
        dimensions: Mapping[str, str],
        value: float,
        *,
        unit: str = "None",
        timestamp: float,
        count: float = 1.0,
    ) -> None:
        """Record ``value`` (``count`` times) for the series at ``timestamp`` (epoch seconds)."""
        key = SeriesKey(namespace, name, tuple(sorted(dimensions.items())), unit or "None", minute_of(timestamp))
        with self._lock:
            self._series.setdefault(key, Statistics()).add(float(value), count)

    def __len__(self) -> int:
        with self._lock:
            return len(self._series)

    def take(self) -> dict[SeriesKey, Statistics]:
        """Everything gathered so far (and forget it)."""
        with self._lock:
            taken, self._series = self._series, {}
        return taken

    def flush(self, cloudwatch: Any) -> int:
        """Write everything gathered so far with ``PutMetricData``; returns how many data were written."""
        taken = self.take()
        return put_statistics(cloudwatch, taken.items())


def put_statistics(cloudwatch: Any, series: Iterable[tuple[SeriesKey, Statistics]]) -> int:
    """``PutMetricData`` calls for ``series`` (grouped by namespace, 1000 per call)."""
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for key, stats in series:
        datum: dict[str, Any] = {
            "MetricName": key.name,
            "Dimensions": [{"Name": name, "Value": value} for name, value in key.dimensions],
            "Timestamp": datetime.fromtimestamp(key.minute, UTC),
            "Unit": key.unit,
        }
        if key.unit in RAW_UNITS and stats.values and all(count == int(count) for count in stats.values.values()):
            datum["Values"] = list(stats.values)
            datum["Counts"] = list(stats.values.values())
        else:
            datum["StatisticValues"] = {
                "SampleCount": stats.count,
                "Sum": stats.sum,
                "Minimum": stats.minimum,
                "Maximum": stats.maximum,
            }
        by_namespace.setdefault(key.namespace, []).append(datum)
    written = 0
    for namespace, data in by_namespace.items():
        for start in range(0, len(data), MAX_DATA_PER_CALL):
            chunk = data[start : start + MAX_DATA_PER_CALL]
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=chunk)
            written += len(chunk)
    return written
