"""End to end through the local cloud: what the synthesized dashboard, alarms and `cli status` read exists locally."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cli import queues
from cli.endpoints import Endpoints
from demo.run import System, order_data

pytestmark = pytest.mark.e2e


def next_minute(system: System) -> None:
    """Move the local clock into the next minute: the one that ended is published and the alarms evaluated."""
    clock = system.cloud.clock
    clock.advance(60 - clock.now() % 60 + 0.5)


def local_now(system: System) -> datetime:
    return datetime.fromtimestamp(system.cloud.clock.now(), UTC)


def test_dead_letter_alarm_of_the_orders_queue_goes_off_within_a_minute(system: System, customer: str) -> None:
    # Given the orders queue's dead-letter alarm (Monitoring stack) and a poison message in the orders queue
    cloudwatch = system.cloud.client("cloudwatch")
    dlq_name = queues.queue_name_of(system.outputs["OrdersCommandDeadLetterQueueUrl"])
    [alarm] = [a for a in cloudwatch.describe_alarms()["MetricAlarms"]
               if a["MetricName"] == "ApproximateNumberOfMessagesVisible"
               and a["Dimensions"] == [{"Name": "QueueName", "Value": dlq_name}]]
    system.sqs.send_message(QueueUrl=system.orders_queue, MessageBody="this is not JSON", MessageGroupId=customer,
                            MessageDeduplicationId=f"poison-{customer}")
    system.drain()
    started = local_now(system)
    # When the minute in which it reached the dead-letter queue ends
    next_minute(system)
    # Then the alarm is in ALARM, a minute or less after the message arrived, and its history says so
    [now] = cloudwatch.describe_alarms(AlarmNames=[alarm["AlarmName"]])["MetricAlarms"]
    assert now["StateValue"] == "ALARM"
    assert local_now(system) - started <= timedelta(minutes=3)
    changes = cloudwatch.describe_alarm_history(AlarmName=alarm["AlarmName"],
                                                HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert changes[0]["HistorySummary"].endswith("to ALARM")


def test_powertools_and_aws_metrics_exist_and_status_shows_ages(system: System, customer: str) -> None:
    # Given an order created through the orders queue
    system.client.send(system.orders_queue, "orders.CreateOrder", order_data(customer), partitionkey=customer)
    system.drain()
    # When the minute ends
    next_minute(system)
    cloudwatch = system.cloud.client("cloudwatch")
    # Then the Powertools metrics of the runtime are listed in the FifoMessaging namespace
    listed = cloudwatch.list_metrics(Namespace="FifoMessaging")["Metrics"]
    assert listed, "no FifoMessaging metrics"
    assert {"Name": "service", "Value": "orders"} in [d for m in listed for d in m["Dimensions"]]
    # And AWS/SQS and AWS/Lambda have datapoints for the orders queue and function
    orders_queue = queues.queue_name_of(system.orders_queue)
    end = local_now(system)

    def datapoints(namespace: str, metric: str, dimension: dict[str, str]) -> list[dict[str, Any]]:
        points: list[dict[str, Any]] = cloudwatch.get_metric_statistics(
            Namespace=namespace, MetricName=metric, Dimensions=[dimension], StartTime=end - timedelta(minutes=5),
            EndTime=end, Period=60, Statistics=["Sum"])["Datapoints"]
        return points

    assert sum(p["Sum"] for p in datapoints("AWS/SQS", "NumberOfMessagesSent",
                                            {"Name": "QueueName", "Value": orders_queue})) >= 1
    [orders_function] = system.function_names("orders.handler.lambda_handler")
    assert sum(p["Sum"] for p in datapoints("AWS/Lambda", "Invocations",
                                            {"Name": "FunctionName", "Value": orders_function})) >= 1
    # And `cli status` reads an age (a number, not n/a) for every queue and dead-letter queue
    endpoints = Endpoints.from_outputs(system.outputs)
    statuses = queues.status(system.sqs, cloudwatch, endpoints.queues, now=local_now(system))
    # (a dead-letter queue without a source queue, the outbox relay's, has an age for its DLQ only)
    assert statuses and all(s.oldest_age_seconds is not None for s in statuses if s.url is not None)
    assert all(s.dead_letter_oldest_age_seconds is not None for s in statuses)
