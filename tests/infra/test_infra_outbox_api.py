"""CDK assertions on the orders outbox (table stream, relay mapping, relay DLQ, alarms, widgets) and the HTTP front
door (routes, IAM authorization, payload 2.0, access logs, output), read from the example assembly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def templates(example_assembly: Path) -> dict[str, dict[str, Any]]:
    return {p.name.split(".")[0]: json.loads(p.read_text()) for p in example_assembly.glob("*.template.json")}


def of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == type_}


def test_the_outbox_table_streams_new_images_and_expires_items(templates: dict[str, dict[str, Any]]) -> None:
    # Given the Orders stack's tables
    tables = of_type(templates["Orders"], "AWS::DynamoDB::Table")
    # Then exactly one streams (the outbox): new images, pk/sk, TTL, PITR
    [outbox] = [t for t in tables.values() if "StreamSpecification" in t]
    assert outbox["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert [k["AttributeName"] for k in outbox["KeySchema"]] == ["pk", "sk"]
    assert outbox["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert outbox["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_the_relay_tails_the_stream_in_order_with_retries_and_an_on_failure_destination(
    templates: dict[str, dict[str, Any]],
) -> None:
    orders = templates["Orders"]
    # Given the stream's event source mapping
    [mapping] = [m for m in of_type(orders, "AWS::Lambda::EventSourceMapping").values()
                 if "StreamArn" in json.dumps(m["EventSourceArn"])]
    # Then one batch per shard at a time, from the start, partial batch responses, retried until a day old
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping.get("ParallelizationFactor", 1) == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is False
    assert mapping["MaximumRetryAttempts"] == 10_000
    assert mapping["MaximumRecordAgeInSeconds"] == 86_400
    # And only new items invoke it (TTL deletions do not)
    assert mapping["FilterCriteria"] == {"Filters": [{"Pattern": '{"eventName":["INSERT"]}'}]}
    # And a batch given up on goes to the relay DLQ: a standard queue with its own rotating key, TLS only
    destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    dlq = orders["Resources"][destination]["Properties"]
    assert dlq["QueueName"] == "orders-outbox-relay-dlq"
    assert "FifoQueue" not in dlq
    key = orders["Resources"][dlq["KmsMasterKeyId"]["Fn::GetAtt"][0]]["Properties"]
    assert key["EnableKeyRotation"] is True
    policies = of_type(orders, "AWS::SQS::QueuePolicy").values()
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for p in policies for s in p["PolicyDocument"]["Statement"]
        if {"Ref": destination} in p["Queues"]
    )
    # And the relay function runs the relay handler and knows its DLQ
    function = orders["Resources"][mapping["FunctionName"]["Ref"]]["Properties"]
    assert function["Handler"] == "outbox_relay.handler.lambda_handler"
    assert function["Environment"]["Variables"]["RELAY_DEAD_LETTER_QUEUE_URL"] == {"Ref": destination}


def test_the_relay_is_alarmed_and_on_the_dashboard(templates: dict[str, dict[str, Any]]) -> None:
    monitoring = templates["Monitoring"]
    alarms = {a["AlarmName"]: a for a in of_type(monitoring, "AWS::CloudWatch::Alarm").values()}
    # Then its DLQ, its lag and its errors alarm, each to the alarm topic
    dlq = alarms["orders-outbox-relay-dlq has messages"]
    assert (dlq["MetricName"], dlq["Threshold"]) == ("ApproximateNumberOfMessagesVisible", 1)
    lag = alarms["orders-outbox-relay behind its stream"]
    assert (lag["MetricName"], lag["Statistic"], lag["Threshold"]) == ("IteratorAge", "Maximum", 60_000)
    assert "orders-outbox-relay errors" in alarms and "orders-api errors" in alarms
    assert all(alarm["AlarmActions"] for alarm in alarms.values())
    # And the dashboard shows the relay's lag, its messages and its DLQ
    [dashboard] = of_type(monitoring, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["DashboardBody"])
    for needle in ("IteratorAge", "OutboxMessagesRelayed", "OutboxMessagesDeadLettered", "orders-outbox-relay-dlq"):
        assert needle in body, needle


def test_the_http_api_routes_to_the_api_function_iam_authorized_with_payload_2(
    templates: dict[str, dict[str, Any]],
) -> None:
    orders = templates["Orders"]
    [api] = of_type(orders, "AWS::ApiGatewayV2::Api").values()
    routes = {r["RouteKey"]: r for r in of_type(orders, "AWS::ApiGatewayV2::Route").values()}
    integrations = of_type(orders, "AWS::ApiGatewayV2::Integration")
    # Then an HTTP API with the two routes, each IAM-authorized, to the orders-api function with payload 2.0
    assert api["ProtocolType"] == "HTTP"
    assert set(routes) == {"POST /orders", "GET /orders/requests/{id}"}
    for route in routes.values():
        assert route["AuthorizationType"] == "AWS_IAM"
        integration_id = route["Target"]["Fn::Join"][1][1]["Ref"]
        integration = integrations[integration_id]
        assert integration["PayloadFormatVersion"] == "2.0"
        assert integration["IntegrationType"] == "AWS_PROXY"
        function = orders["Resources"][integration["IntegrationUri"]["Fn::GetAtt"][0]]["Properties"]
        assert function["Handler"] == "orders_api.handler.lambda_handler"
    # And the $default stage deploys itself, is throttled and writes JSON access logs
    [stage] = of_type(orders, "AWS::ApiGatewayV2::Stage").values()
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert "$context.requestId" in stage["AccessLogSettings"]["Format"]
    # And the stack outputs the base URL
    url = orders["Outputs"]["OrdersApiUrl"]["Value"]
    assert url == {"Fn::Join": ["", [{"Fn::GetAtt": [next(iter(of_type(orders, "AWS::ApiGatewayV2::Api"))),
                                                      "ApiEndpoint"]}, "/"]]}
