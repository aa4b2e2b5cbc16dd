"""Alarms and dashboard widgets of a transactional outbox's relay (stream lag, dead letters, relayed messages)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.consumer_function import metrics_namespace
from infra.outbox import TransactionalOutbox

MAX_ITERATOR_AGE = Duration.minutes(1)
"""A relay more than a minute behind its stream is stuck (throttled broker, failing batch, no concurrency)."""
RELAY_METRICS = ("OutboxMessagesRelayed", "OutboxMessagesDeadLettered", "OutboxMessagesRetried")
_PERIOD = Duration.minutes(1)


@dataclass(frozen=True)
class MonitoredOutbox:
    """What the monitor needs of an outbox: physical names only (no cross-stack references)."""

    name: str
    relay_function_name: str
    relay_service_name: str
    dead_letter_queue_name: str

    @classmethod
    def of(cls, name: str, outbox: TransactionalOutbox) -> MonitoredOutbox:
        """Describe a :class:`~infra.outbox.TransactionalOutbox`."""
        return cls(name, outbox.relay.function_name, outbox.relay.service_name, outbox.dead_letter_queue_name)


class OutboxMonitor(Construct):
    """Alarms (a message in the relay DLQ, the relay's iterator age above a minute) to ``alarm_topic``, and a row
    of widgets on ``dashboard``: iterator age, relayed / dead-lettered / retried messages, DLQ depth, alarms.

    Example:
        >>> OutboxMonitor(monitoring, "OrdersOutbox", outbox=MonitoredOutbox.of("Orders", orders.outbox),
        ...               alarm_topic=core.alarms.topic, dashboard=monitoring.monitor.dashboard)  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, *, outbox: MonitoredOutbox, alarm_topic: sns.ITopic,
                 dashboard: cloudwatch.Dashboard) -> None:
        super().__init__(scope, construct_id)
        relay = outbox.relay_function_name

        def iterator_age(label: str | None = None) -> cloudwatch.Metric:
            return cloudwatch.Metric(namespace="AWS/Lambda", metric_name="IteratorAge",
                                     dimensions_map={"FunctionName": relay}, statistic="Maximum", period=_PERIOD,
                                     label=label)

        def dlq_depth(label: str | None = None) -> cloudwatch.Metric:
            return cloudwatch.Metric(namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
                                     dimensions_map={"QueueName": outbox.dead_letter_queue_name},
                                     statistic="Maximum", period=_PERIOD, label=label)

        relayed = [
            cloudwatch.Metric(namespace=metrics_namespace(self), metric_name=metric,
                              dimensions_map={"service": outbox.relay_service_name}, statistic="Sum",
                              period=_PERIOD, label=metric)
            for metric in RELAY_METRICS
        ]
        self.alarms = [
            cloudwatch.Alarm(
                self, "DeadLetters", alarm_name=f"{outbox.dead_letter_queue_name} has messages",
                alarm_description=f"The {outbox.name} outbox relay dead-lettered an item or gave up on a batch.",
                metric=dlq_depth(), threshold=1, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self, "IteratorAge", alarm_name=f"{relay} behind its stream",
                alarm_description=f"The {outbox.name} outbox relay is more than "
                f"{int(MAX_ITERATOR_AGE.to_seconds())} s behind the outbox stream: messages wait.",
                metric=iterator_age(), threshold=MAX_ITERATOR_AGE.to_milliseconds(), evaluation_periods=3,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]
        action = cloudwatch_actions.SnsAction(alarm_topic)
        for alarm in self.alarms:
            alarm.add_alarm_action(action)
        dashboard.add_widgets(cloudwatch.TextWidget(markdown=f"# Outbox: {outbox.name}", width=24, height=1))
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title=f"{relay}: iterator age (ms)", left=[iterator_age(relay)], width=8, height=6),
            cloudwatch.GraphWidget(title=f"{relay}: messages", left=relayed, width=8, height=6),
            cloudwatch.GraphWidget(title=f"{outbox.name} outbox: relay dead-letter queue depth",
                                   left=[dlq_depth(outbox.dead_letter_queue_name)], width=8, height=6),
        )
        dashboard.add_widgets(cloudwatch.AlarmStatusWidget(title=f"{outbox.name} outbox alarms", alarms=self.alarms,
                                                           width=24))
