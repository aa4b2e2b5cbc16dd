"""Metrics in log lines: the CloudWatch embedded metric format (EMF), which Powertools Metrics prints.

CloudWatch Logs turns a JSON log event with an ``_aws.CloudWatchMetrics`` directive into metrics
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
every metric of a directive, once per dimension set, in the directive's namespace, with the values of the root
members of the same names, at ``_aws.Timestamp``. A line that breaks the specification stays a log line only.

Example::

    line = '{"_aws": {"Timestamp": 1796100000000, "CloudWatchMetrics": [{"Namespace": "Shop", '
           '"Dimensions": [["service"]], "Metrics": [{"Name": "Orders", "Unit": "Count"}]}]}, '
           '"service": "orders", "Orders": [1.0]}'
    [datum] = extract(line)
    datum.namespace, datum.name, datum.dimensions, datum.values  # ('Shop', 'Orders', {'service': 'orders'}, [1.0])
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

UNITS = frozenset({
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits",
    "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second",
    "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
    "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
})
MAX_DIMENSIONS = 30
MAX_VALUES = 100


@dataclass(frozen=True)
class EmfDatum:
    """One metric of one dimension set of an EMF log event."""

    namespace: str
    name: str
    dimensions: dict[str, str]
    unit: str
    values: tuple[float, ...]
    timestamp: float
    """Epoch seconds."""


def _values(raw: Any) -> tuple[float, ...] | None:
    items = raw if isinstance(raw, list) else [raw]
    if not items or len(items) > MAX_VALUES:
        return None
    values: list[float] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            return None
        values.append(float(item))
    return tuple(values)


def _dimension_values(document: dict[str, Any], dimension_sets: Any) -> list[dict[str, str]] | None:
    if not isinstance(dimension_sets, list):
        return None
    resolved_sets: list[dict[str, str]] = []
    for dimension_set in dimension_sets:
        if not isinstance(dimension_set, list) or len(dimension_set) > MAX_DIMENSIONS:
            return None
        resolved: dict[str, str] = {}
        for key in dimension_set:
            value = document.get(key) if isinstance(key, str) else None
            if not isinstance(value, str) or not value:
                return None
            resolved[key] = value
        resolved_sets.append(resolved)
    return resolved_sets


def _directive_data(document: dict[str, Any], directive: Any, timestamp: float) -> list[EmfDatum] | None:
    if not isinstance(directive, dict):
        return None
    namespace = directive.get("Namespace")
    metrics = directive.get("Metrics")
    dimension_sets = _dimension_values(document, directive.get("Dimensions"))
    if not isinstance(namespace, str) or not 1 <= len(namespace) <= 255:
        return None
    if dimension_sets is None or not isinstance(metrics, list):
        return None
    data: list[EmfDatum] = []
    for metric in metrics:
        name = metric.get("Name") if isinstance(metric, dict) else None
        unit = metric.get("Unit", "None") if isinstance(metric, dict) else None
        values = _values(document.get(name)) if isinstance(name, str) else None
        if name is None or unit not in UNITS or values is None:
            return None
        for dimensions in dimension_sets or [{}]:
            data.append(EmfDatum(namespace, name, dimensions, unit, values, timestamp))
    return data


def extract(message: str) -> list[EmfDatum]:
    """The metrics an EMF log event carries; ``[]`` for any other line or one that breaks the specification."""
    if not message.startswith("{") or '"_aws"' not in message:
        return []
    try:
        document = json.loads(message)
    except ValueError:
        return []
    meta = document.get("_aws") if isinstance(document, dict) else None
    if not isinstance(meta, dict):
        return []
    stamp = meta.get("Timestamp")
    directives = meta.get("CloudWatchMetrics")
    if isinstance(stamp, bool) or not isinstance(stamp, int | float) or not isinstance(directives, list):
        return []
    data: list[EmfDatum] = []
    for directive in directives:
        extracted = _directive_data(document, directive, float(stamp) / 1000.0)
        if extracted is None:
            return []
        data.extend(extracted)
    return data
