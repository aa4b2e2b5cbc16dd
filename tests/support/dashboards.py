"""Read a CloudWatch dashboard body as AWS renders it: the metrics of its widgets (namespace, name, dimensions, stat).

Example:
    >>> body = {"widgets": [{"type": "metric", "properties": {"stat": "Sum", "metrics": [
    ...     ["AWS/Lambda", "Invocations", "FunctionName", "orders", {"label": "orders"}],
    ...     [".", "Errors", ".", "."]]}}]}
    >>> [(m.namespace, m.name, m.dimensions, m.stat) for m in widget_metrics(body)][1]
    ('AWS/Lambda', 'Errors', (('FunctionName', 'orders'),), 'Sum')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WidgetMetric:
    """One line of a dashboard widget."""

    title: str
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str

    @property
    def key(self) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        return (self.namespace, self.name, tuple(sorted(self.dimensions)))

    def query(self, query_id: str, period: int = 60) -> dict[str, Any]:
        """A ``GetMetricData`` query of this line."""
        return {"Id": query_id, "MetricStat": {
            "Metric": {"Namespace": self.namespace, "MetricName": self.name,
                       "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions]},
            "Period": period, "Stat": self.stat}}


def widget_metrics(body: dict[str, Any]) -> list[WidgetMetric]:
    """Every metric line of every metric widget (``"."`` repeats the previous line's value, as the console writes)."""
    found: list[WidgetMetric] = []
    for widget in body.get("widgets", []):
        properties = widget.get("properties", {})
        if widget.get("type") != "metric":
            continue
        previous: list[Any] = []
        for line in properties.get("metrics", []):
            options = line[-1] if line and isinstance(line[-1], dict) else {}
            values = [v for v in line if not isinstance(v, dict)]
            values = [previous[i] if v == "." and i < len(previous) else v for i, v in enumerate(values)]
            previous = values
            namespace, name, *pairs = values
            dimensions = tuple((str(pairs[i]), str(pairs[i + 1])) for i in range(0, len(pairs) - 1, 2))
            found.append(WidgetMetric(str(properties.get("title", "")), str(namespace), str(name), dimensions,
                                      str(options.get("stat", properties.get("stat", "Average")))))
    return found
