"""End to end through the local cloud: the dashboard and alarms read exactly what the functions emit.

After traffic of every messaging style, every metric a function emitted (Powertools custom metrics and the AWS/Lambda
metrics, name and dimensions) is one the dashboard or an alarm reads, and every metric line of the dashboard has a
datapoint (``GetMetricData`` over the body ``GetDashboard`` returns). A dashboard asking for another dimension than
the functions emit (the quote responders once emitted ``service=quotes`` while the dashboard read
``quotes-economy``) fails both checks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from demo.run import System, order_data
from localcloud.apigateway import HttpApiRouter
from tests.support.dashboards import WidgetMetric, widget_metrics

pytestmark = pytest.mark.e2e

FUNCTION_NAMESPACES = ("FifoMessaging", "AWS/Lambda")
"""What functions emit: their Powertools metrics and, per invocation, Lambda's own."""

MetricKey = tuple[str, str, tuple[tuple[str, str], ...]]


def traffic_of_every_style(system: System, customer: str) -> None:
    client, orders = system.client, system.orders_queue
    client.notify(orders, "orders.CreateOrder", order_data(customer), partitionkey=customer)
    correlation_id = client.send(orders, "orders.CreateOrder", order_data(customer), partitionkey=customer)
    created = client.request(orders, "orders.CreateOrder", order_data(customer), partitionkey=customer, timeout=15)
    assert created.outcome.ok
    cancel = {"customer_id": customer, "order_id": created.outcome.result["order_id"]}
    client.request(orders, "orders.CancelOrder", cancel, partitionkey=customer, timeout=15)
    quotes = client.scatter_gather(system.outputs["QuoteRequestsTopicArn"], "quotes.RequestQuote",
                                   {"weight_kg": "2.5", "destination": "FR"}, partitionkey=customer, window=15,
                                   min_replies=3)
    assert len(quotes) == 3
    system.sqs.send_message(QueueUrl=orders, MessageBody="not JSON", MessageGroupId=customer,
                            MessageDeduplicationId=f"poison-{customer}")
    # an order placed through the saga: its orchestrator, billing's credit and inventory
    sku = f"sku-{customer}"
    credit = client.send(system.outputs["BillingCommandQueueUrl"], "billing.SetCreditLimit",
                         {"customer_id": customer, "limit": "100.00"})
    restock = client.send(system.outputs["InventoryCommandQueueUrl"], "inventory.Restock",
                          {"sku": sku, "quantity": 5}, partitionkey=sku)
    system.drain()
    assert client.get_reply(credit) is not None and client.get_reply(restock) is not None
    placed = client.send(system.outputs["OrderSagasQueueUrl"], "orders.PlaceOrder",
                         {"customer_id": customer, "lines": [{"sku": sku, "quantity": 1, "unit_price": "10.00"}]})
    # an order through the HTTP front door: the API's function, the outbox and its relay
    status, _, _ = HttpApiRouter(system.cloud).invoke(
        "POST", system.outputs["OrdersApiUrl"] + "orders",
        {"content-type": "application/json", "Idempotency-Key": f"dashboard-{customer}"},
        json.dumps(order_data(customer)).encode())
    assert status == 202
    system.drain()
    assert client.get_reply(correlation_id) is not None
    placed_reply = client.get_reply(placed)
    assert placed_reply is not None and placed_reply.outcome.result["status"] == "approved"


def metric_key(metric: dict[str, Any]) -> MetricKey:
    dimensions = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
    return (metric.get("Namespace", ""), metric["MetricName"], dimensions)


def test_every_emitted_metric_is_read_and_every_widget_metric_has_data(system: System, customer: str) -> None:
    # Given traffic of every style, and the minute it happened in published
    traffic_of_every_style(system, customer)
    system.cloud.logs.flush(5.0)  # the EMF lines reach CloudWatch Logs, which extracts their metrics
    clock = system.cloud.clock
    clock.advance(60 - clock.now() % 60 + 0.5)
    system.cloud.cloudwatch.flush()
    cloudwatch = system.cloud.client("cloudwatch")
    # When the dashboard's body and the alarms are read back, and the metrics the functions emitted are listed
    body = json.loads(cloudwatch.get_dashboard(DashboardName=system.outputs["DashboardName"])["DashboardBody"])
    lines = widget_metrics(body)
    alarms = cloudwatch.describe_alarms()["MetricAlarms"]
    read = {line.key for line in lines} | {metric_key(alarm) for alarm in alarms}
    # (of this system's functions: other local clouds of the same test process share CloudWatch)
    ours = {("FunctionName", name) for name in system.cloud.functions} | {
        ("service", function.spec.environment.get("POWERTOOLS_SERVICE_NAME", "")) for function in
        system.cloud.functions.values()}
    emitted = {
        metric_key(metric)
        for namespace in FUNCTION_NAMESPACES
        for metric in cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace).build_full_result()[
            "Metrics"]
        if set(metric_key(metric)[2]) <= ours
    }
    # Then every metric a function emitted is read by the dashboard or an alarm
    assert emitted, "the functions emitted no metric"
    assert sorted(emitted - read) == []
    # And every function's custom metrics are on the dashboard under its own service name
    services = {dict(key[2]).get("service") for key in emitted if key[0] == "FifoMessaging"}
    assert {"quotes-economy", "quotes-express", "quotes-standard", "orders", "billing"} <= services
    # And every line of every widget has a datapoint in the last minutes, the p99 durations included
    end = datetime.fromtimestamp(clock.now(), UTC)
    assert len(lines) > 50 and any(line.stat == "p99" for line in lines)
    assert sorted(f"{line.title}: {line.name} {line.stat}" for line in without_data(cloudwatch, lines, end)) == []


def without_data(cloudwatch: Any, lines: list[WidgetMetric], end: datetime) -> list[WidgetMetric]:
    missing: list[WidgetMetric] = []
    for start in range(0, len(lines), 500):
        chunk = lines[start:start + 500]
        results = cloudwatch.get_metric_data(
            MetricDataQueries=[line.query(f"m{index}") for index, line in enumerate(chunk)],
            StartTime=end - timedelta(minutes=15), EndTime=end)["MetricDataResults"]
        by_id = {result["Id"]: [v for v in result["Values"] if v is not None] for result in results}
        missing.extend(line for index, line in enumerate(chunk) if not by_id.get(f"m{index}"))
    return missing
