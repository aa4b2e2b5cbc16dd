"""The dashboard page (``/_console/dashboard``): the CloudWatch dashboard the stacks deploy, drawn from its own body
(``GetDashboard``) with the local metrics (``GetMetricData``) and alarm states (``DescribeAlarms``).

Widgets are placed on the dashboard's 24-column grid in its order; a ``metric`` widget is a line chart (a number
for the ``singleValue`` view), a ``text`` widget its markdown headings and lines, an ``alarm`` widget a table of
its alarms with their state. The time range is the last hour of the local clock.

Example::

    dashboard_page(cloud.client("cloudwatch"), ["FifoMessaging"], None, now=CLOCK.now())
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from localcloud.console.charts import Series, line_chart, single_value
from localcloud.console.html import CONSOLE, html, join, page, table

WINDOW_SECONDS = 3600
STANDARD_STATISTICS = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")
"""What every datum answers; a percentile (``p99``) needs raw values, which the local cloud publishes for a minute of
at most 150 values of a series (:data:`localcloud.cloudwatch.aggregate.MAX_RAW_VALUES`), and statistic sets beyond."""
_PERCENTILE_NOTE = "no raw values in the window: busier minutes are published as statistic sets (no percentiles)"
_QUERIES_PER_CALL = 500
_ALARMS_PER_CALL = 100


@dataclass(frozen=True)
class MetricLine:
    """One line of a metric widget: the series, its statistic and period, its label."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    period: int
    label: str


def metric_lines(properties: dict[str, Any]) -> list[MetricLine]:
    """The lines of a metric widget's ``metrics`` array, with the ``"."`` shorthand (same as the line above).

    Example:
        >>> [line.label for line in metric_lines({"metrics": [
        ...     ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "a.fifo", {"stat": "Maximum"}],
        ...     [".", ".", ".", "b.fifo"]], "period": 60})]
        ['ApproximateNumberOfMessagesVisible a.fifo', 'ApproximateNumberOfMessagesVisible b.fifo']
    """
    lines: list[MetricLine] = []
    previous: list[Any] = []
    for row in properties.get("metrics") or []:
        if not isinstance(row, list) or not row:
            continue
        options = row[-1] if isinstance(row[-1], dict) else {}
        fields = [str(f) for f in (row[:-1] if options else row)]
        if "expression" in options or len(fields) < 2:
            continue
        fields = [previous[i] if f == "." and i < len(previous) else f for i, f in enumerate(fields)]
        previous = fields
        dimensions = tuple(zip(fields[2::2], fields[3::2], strict=False))
        label = options.get("label") or " ".join([fields[1], *(value for _, value in dimensions)])
        lines.append(MetricLine(fields[0], fields[1], dimensions, str(options.get("stat") or properties.get("stat")
                                                                        or "Average"),
                                int(options.get("period") or properties.get("period") or 300), str(label)))
    return lines


def _series(cloudwatch: Any, lines: list[MetricLine], *, start: float, end: float) -> dict[MetricLine, Series]:
    """Every line's datapoints, in as few ``GetMetricData`` calls as the API allows."""
    queried = list(dict.fromkeys(lines))
    found: dict[MetricLine, Series] = {}
    for offset in range(0, len(queried), _QUERIES_PER_CALL):
        chunk = queried[offset:offset + _QUERIES_PER_CALL]
        queries = [{"Id": f"m{i}", "ReturnData": True, "MetricStat": {
            "Metric": {"Namespace": line.namespace, "MetricName": line.name,
                       "Dimensions": [{"Name": n, "Value": v} for n, v in line.dimensions]},
            "Period": line.period, "Stat": line.stat}} for i, line in enumerate(chunk)]
        response = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=datetime.fromtimestamp(start, UTC),
                                              EndTime=datetime.fromtimestamp(end, UTC), ScanBy="TimestampAscending")
        for result in response.get("MetricDataResults", []):
            line = chunk[int(result["Id"][1:])]
            points = sorted((stamp.timestamp(), float(value)) for stamp, value
                            in zip(result.get("Timestamps", []), result.get("Values", []), strict=False))
            note = _PERCENTILE_NOTE if not points and line.stat not in STANDARD_STATISTICS else ""
            found[line] = Series(line.label, points, note=note)
    return found


def _alarm_states(cloudwatch: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    states: dict[str, dict[str, Any]] = {}
    for offset in range(0, len(names), _ALARMS_PER_CALL):
        response = cloudwatch.describe_alarms(AlarmNames=names[offset:offset + _ALARMS_PER_CALL])
        for alarm in response.get("MetricAlarms", []) + response.get("CompositeAlarms", []):
            states[alarm["AlarmName"]] = alarm
    return states


def _text_widget(properties: dict[str, Any]) -> Markup:
    parts = []
    for line in str(properties.get("markdown", "")).splitlines():
        stripped = line.lstrip("#").strip()
        if line.startswith("#"):
            parts.append(html("<h2>{}</h2>", stripped))
        elif stripped:
            parts.append(html("<p>{}</p>", stripped))
    return join(parts)


def _alarm_widget(properties: dict[str, Any], states: dict[str, dict[str, Any]]) -> Markup:
    rows = []
    for arn in properties.get("alarms") or []:
        name = str(arn).split(":alarm:", 1)[-1]
        alarm = states.get(name)
        if alarm is None:
            rows.append((name, html('<span class="muted">not found</span>'), "-", "-"))
            continue
        state = str(alarm.get("StateValue", ""))
        updated = alarm.get("StateUpdatedTimestamp")
        rows.append((name, html('<span class="state-{}">{}</span>', state, state), alarm.get("StateReason", ""),
                     updated.astimezone(UTC).strftime("%H:%M:%S") if isinstance(updated, datetime) else "-"))
    return table(("alarm", "state", "reason", "since (UTC)"), rows)


def dashboard_page(cloudwatch: Any, dashboards: list[str], selected: str | None, *, now: float) -> str | None:
    """The HTML of a deployed dashboard (``selected``, else the first); None when ``selected`` is not deployed."""
    if not dashboards:
        return page("Dashboard", html("<p>No stack deploys a CloudWatch dashboard.</p>"))
    name = selected or dashboards[0]
    if name not in dashboards:
        return None
    body = json.loads(cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"])
    widgets = sorted((w for w in body.get("widgets", []) if isinstance(w, dict)),
                     key=lambda w: (int(w.get("y", 0)), int(w.get("x", 0))))
    end = (int(now) // 60 + 1) * 60
    start = end - WINDOW_SECONDS
    lines = {id(w): metric_lines(w.get("properties") or {}) for w in widgets if w.get("type") == "metric"}
    series = _series(cloudwatch, [line for group in lines.values() for line in group], start=start, end=end)
    alarm_names = [str(a).split(":alarm:", 1)[-1] for w in widgets if w.get("type") == "alarm"
                   for a in (w.get("properties") or {}).get("alarms") or []]
    states = _alarm_states(cloudwatch, alarm_names)
    cells = []
    for widget in widgets:
        properties = widget.get("properties") or {}
        kind = widget.get("type")
        columns = max(1, min(24, int(widget.get("width", 6))))
        if kind == "metric":
            drawn = [series[line] for line in lines[id(widget)]]
            content = (single_value(drawn) if properties.get("view") == "singleValue"
                       else line_chart(drawn, start=start, end=end, columns=columns))
        elif kind == "text":
            content = _text_widget(properties)
        elif kind == "alarm":
            content = _alarm_widget(properties, states)
        else:
            content = html('<p class="muted">A {} widget is not drawn here.</p>', kind)
        title = properties.get("title")
        cells.append(html('<section class="widget" style="grid-column: span {}">{}{}</section>', columns,
                          html("<h3>{}</h3>", title) if title else "", content))
    in_alarm = sorted(n for n, a in states.items() if a.get("StateValue") == "ALARM")
    summary = html("<p>{} widgets; the last hour of the local clock, to {} UTC. Alarms: {} of {} in ALARM{}.</p>",
                   len(widgets), datetime.fromtimestamp(end, UTC).strftime("%H:%M"), len(in_alarm), len(states),
                   f" ({', '.join(in_alarm)})" if in_alarm else "")
    others = [html('<a href="{}/dashboard?name={}">{}</a>', CONSOLE, quote(d, safe=""), d) for d in dashboards
              if d != name]
    switch = html("<p>Other dashboards: {}</p>", join(others, ", ")) if others else Markup("")
    return page(f"Dashboard {name}", html('{}{}<div class="grid">{}</div>', summary, switch, join(cells)))
