"""The console's parts without a cloud: routing at the gateway, escaping, the redrive form, charts, dashboard lines."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from localcloud.console.charts import Series, line_chart, single_value
from localcloud.console.dashboard import metric_lines
from localcloud.console.html import html, table
from localcloud.console.queues import BadRequest, parse_limit
from localcloud.gateway import Gateway

pytestmark = pytest.mark.unit

SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/sqs/aws4_request, "
                           "SignedHeaders=host, Signature=x"}


class Recorder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.paths: list[str] = []

    def handle(self, request: Request) -> Response:
        self.paths.append(request.path)
        return Response(self.name)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.paths.append(environ["PATH_INFO"])
        return Response(self.name)(environ, start_response)


def test_the_gateway_routes_unsigned_requests_under_the_console_prefix_to_the_console() -> None:
    # Given a gateway with a console route in front of a backend
    console, moto = Recorder("console"), Recorder("moto")
    client = Client(Gateway({}, backend=moto, routes={"/_console": console}))
    # When unsigned requests under the prefix, a look-alike path and a signed request under the prefix arrive
    answers = [client.get(path).get_data(as_text=True) for path in ("/_console", "/_console/queues/a.fifo")]
    answers.append(client.get("/_consoles").get_data(as_text=True))
    answers.append(client.post("/_console/x", headers=SIGNED).get_data(as_text=True))
    # Then only the unsigned ones under the prefix reached the console; AWS requests still go to moto
    assert answers == ["console", "console", "moto", "moto"]
    assert console.paths == ["/_console", "/_console/queues/a.fifo"]


def test_values_are_escaped_and_markup_built_by_the_console_is_not() -> None:
    # Given text from a message and a link the console built
    hostile = '"><img src=x onerror=alert(1)>'
    link = html('<a href="{}">{}</a>', "/_console/queues/a", "a")
    # When both go into a table
    rendered = str(table(("value", "link"), [(hostile, link)]))
    # Then the message's text is escaped (also inside attributes) and the console's own markup kept
    assert "<img" not in rendered and "&lt;img src=x onerror=alert(1)&gt;" in rendered and "&#34;&gt;" in rendered
    assert '<a href="/_console/queues/a">a</a>' in rendered


@pytest.mark.parametrize(("form", "reason"), [
    ({"limit": "0"}, "from 1 to 10000"),
    ({"limit": "-3"}, "from 1 to 10000"),
    ({"limit": "10001"}, "from 1 to 10000"),
    ({"limit": "1e3"}, "from 1 to 10000"),
    ({"queue": "other.fifo"}, "unknown form field 'queue'"),
])
def test_a_bad_redrive_form_is_refused_with_one_line(form: dict[str, str], reason: str) -> None:
    # Given a redrive form with a bad field; When it is read; Then it is refused with a one-line reason
    with pytest.raises(BadRequest, match=reason) as refused:
        parse_limit(form)
    assert "\n" not in str(refused.value)


def test_a_chart_draws_each_series_in_its_range_and_says_which_have_no_data() -> None:
    # Given a series rising over two minutes and one without data
    rising = Series("orders.fifo", [(0.0, 0.0), (60.0, 4.0), (120.0, 8.0)])
    # When it is charted over [0, 120]
    chart = str(line_chart([rising, Series("p99", note="not computed locally")], start=0.0, end=120.0))
    # Then the line runs from the bottom left to the top right of the plot, under a round maximum, with a legend
    assert chart.count("<polyline") == 1
    points = chart.split('points="', 1)[1].split('"', 1)[0].split()
    xs, ys = zip(*((float(p.split(",")[0]), float(p.split(",")[1])) for p in points), strict=True)
    assert xs[0] < xs[1] < xs[2] and ys[0] > ys[1] > ys[2]
    assert ">10<" in chart and "orders.fifo: <b>8</b>" in chart and "p99: <b>not computed locally</b>" in chart
    # And a single value shows the latest datum
    assert '<div class="big">8</div>' in str(single_value([rising]))


def test_dashboard_lines_take_their_statistic_and_period_from_the_line_or_the_widget() -> None:
    # Given a widget with a default statistic and period, and lines overriding them or using the shorthand
    properties = {"stat": "Sum", "period": 300, "metrics": [
        ["AWS/Lambda", "Duration", "FunctionName", "orders", {"stat": "p99", "period": 60, "label": "p99"}],
        [".", "Invocations", ".", "."],
        [{"expression": "m1 + m2"}],
    ]}
    # When its lines are read
    lines = metric_lines(properties)
    # Then each has its own or the widget's settings, and expressions are left out
    assert [(line.name, line.dimensions, line.stat, line.period, line.label) for line in lines] == [
        ("Duration", (("FunctionName", "orders"),), "p99", 60, "p99"),
        ("Invocations", (("FunctionName", "orders"),), "Sum", 300, "Invocations orders"),
    ]
