"""Dashboard, alarms and the encrypted alarm topic CloudWatch notifies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.consumer_function import ConsumerFunction, metrics_namespace
from infra.defaults import customer_managed_key
from infra.service_queue import ServiceQueue
from infra.stage import staged

#: Powertools custom metrics the runtime emits (namespace FifoMessaging, dimension ``service``).
CUSTOM_METRICS = ("MessagesProcessed", "MessagesDeadLettered", "MessagesRetried", "DuplicateDeliveries", "RepliesSent")
DEFAULT_OLDEST_MESSAGE_AGE = Duration.minutes(5)
_PERIOD = Duration.minutes(1)


class AlarmTopic(Construct):
    """Standard SNS topic (alarm actions cannot target FIFO topics), CMK that CloudWatch may use, TLS only.

    Example:
        >>> alarms = AlarmTopic(stack, "Alarms")  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, *, topic_name: str = "messaging-alarms") -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.key = customer_managed_key(
            self, "Encrypts the alarm topic; CloudWatch may use it to publish alarm notifications"
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],  # in a key policy "*" means this key
            )
        )
        self.topic = sns.Topic(
            self, "Topic", topic_name=staged(self, topic_name), master_key=self.key, enforce_ssl=True
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                # Confused-deputy guard: only alarms of this account and region.
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )
        CfnOutput(self, "Arn", value=self.topic.topic_arn).override_logical_id("AlarmTopicArn")


@dataclass(frozen=True)
class MonitoredQueue:
    """What the monitor needs of a service queue: its physical names (stable, so no cross-stack references)."""

    name: str
    queue_name: str
    dead_letter_queue_name: str

    @classmethod
    def of(cls, queue: ServiceQueue) -> MonitoredQueue:
        """Describe a :class:`ServiceQueue`."""
        return cls(queue.name, queue.queue_name, queue.dead_letter_queue_name)


@dataclass(frozen=True)
class MonitoredFunction:
    """What the monitor needs of a function: its physical name, its Powertools service name, and whether it emits the
    consumer's messaging metrics (:data:`CUSTOM_METRICS`; a function that consumes no queue, such as an HTTP API's or
    the outbox relay, does not: its own widgets come from its construct's monitor)."""

    function_name: str
    service_name: str
    messaging_metrics: bool = True

    @classmethod
    def of(cls, function: ConsumerFunction, *, messaging_metrics: bool = True) -> MonitoredFunction:
        """Describe a :class:`ConsumerFunction`."""
        return cls(function.function_name, function.service_name, messaging_metrics)


def _metric(
    namespace: str, metric_name: str, dimension: tuple[str, str], statistic: str, label: str | None
) -> cloudwatch.Metric:
    name, value = dimension
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=metric_name,
        dimensions_map={name: value},
        statistic=statistic,
        period=_PERIOD,
        label=label,
    )


def _sqs(metric_name: str, queue_name: str, statistic: str, *, labelled: bool = True) -> cloudwatch.Metric:
    return _metric("AWS/SQS", metric_name, ("QueueName", queue_name), statistic, queue_name if labelled else None)


def _lambda(metric_name: str, function_name: str, statistic: str, *, labelled: bool = True) -> cloudwatch.Metric:
    label = function_name if labelled else None
    return _metric("AWS/Lambda", metric_name, ("FunctionName", function_name), statistic, label)


class MessagingMonitor(Construct):
    """A dashboard over every queue and function plus the alarms that page the alarm topic.

    Alarms: a message in any DLQ, the oldest message of a queue older than ``oldest_message_age``, any function error.

    Example:
        >>> MessagingMonitor(stack, "Monitor", alarm_topic=alarms.topic, queues=[MonitoredQueue.of(q)],
        ...                  functions=[MonitoredFunction.of(fn)])  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarm_topic: sns.ITopic,
        queues: Sequence[MonitoredQueue],
        functions: Sequence[MonitoredFunction],
        dashboard_name: str = "FifoMessaging",
        oldest_message_age: Duration = DEFAULT_OLDEST_MESSAGE_AGE,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: list[cloudwatch.Alarm] = []
        self.alarm_names: list[str] = []
        action = cloudwatch_actions.SnsAction(alarm_topic)
        age_seconds = int(oldest_message_age.to_seconds())
        for queue in queues:
            self._alarm(
                f"{queue.name}DeadLetters",
                f"{queue.dead_letter_queue_name} has messages",
                f"A message reached the dead-letter queue {queue.dead_letter_queue_name}.",
                _sqs("ApproximateNumberOfMessagesVisible", queue.dead_letter_queue_name, "Maximum", labelled=False),
                threshold=1,
                evaluation_periods=1,
            )
            self._alarm(
                f"{queue.name}OldestMessage",
                f"{queue.queue_name} oldest message too old",
                f"The oldest message in {queue.queue_name} waited longer than {age_seconds} s: consumers are stuck.",
                _sqs("ApproximateAgeOfOldestMessage", queue.queue_name, "Maximum", labelled=False),
                threshold=age_seconds + 1,
                evaluation_periods=3,
            )
        for function in functions:
            self._alarm(
                "".join(part.capitalize() for part in function.function_name.split("-")) + "Errors",
                f"{function.function_name} errors",
                f"The function {function.function_name} failed.",
                _lambda("Errors", function.function_name, "Sum", labelled=False),
                threshold=1,
                evaluation_periods=1,
            )
        for alarm in self.alarms:
            alarm.add_alarm_action(action)

        dashboard_name = staged(self, dashboard_name)
        self.dashboard_name = dashboard_name
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=dashboard_name)
        self.dashboard.add_widgets(cloudwatch.TextWidget(markdown="# Queues", width=24, height=1))
        for queue in queues:
            self.dashboard.add_widgets(
                _graph(
                    f"{queue.name}: visible messages",
                    [_sqs("ApproximateNumberOfMessagesVisible", queue.queue_name, "Maximum")],
                ),
                _graph(
                    f"{queue.name}: age of oldest message (s)",
                    [_sqs("ApproximateAgeOfOldestMessage", queue.queue_name, "Maximum")],
                ),
                _graph(
                    f"{queue.name}: dead-letter queue depth",
                    [_sqs("ApproximateNumberOfMessagesVisible", queue.dead_letter_queue_name, "Maximum")],
                ),
            )
        self.dashboard.add_widgets(cloudwatch.TextWidget(markdown="# Functions", width=24, height=1))
        for function in functions:
            name = function.function_name
            self.dashboard.add_widgets(
                _graph(
                    f"{name}: invocations / errors / throttles",
                    [
                        _lambda("Invocations", name, "Sum"),
                        _lambda("Errors", name, "Sum"),
                        _lambda("Throttles", name, "Sum"),
                    ],
                    width=8,
                ),
                _graph(
                    f"{name}: duration (ms)",
                    [_lambda("Duration", name, "Average"), _lambda("Duration", name, "p99")],
                    width=8,
                ),
                _graph(f"{name}: concurrent executions", [_lambda("ConcurrentExecutions", name, "Maximum")], width=8),
            )
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(markdown="# Messaging (Powertools metrics)", width=24, height=1)
        )
        for function in (f for f in functions if f.messaging_metrics):
            self.dashboard.add_widgets(
                _graph(
                    f"{function.service_name}: messages",
                    [
                        _metric(metrics_namespace(self), metric, ("service", function.service_name), "Sum", metric)
                        for metric in CUSTOM_METRICS
                    ],
                    width=24,
                )
            )
        # Alarms referenced by name-derived ARN, not GetAtt: the dashboard does not depend on the alarm resources.
        stack = Stack.of(self)
        by_name = [
            cloudwatch.Alarm.from_alarm_arn(
                self,
                f"Ref{index}",
                stack.format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name=alarm_name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                ),
            )
            for index, alarm_name in enumerate(self.alarm_names)
        ]
        self.dashboard.add_widgets(cloudwatch.AlarmStatusWidget(title="Alarms", alarms=by_name, width=24))
        CfnOutput(self, "DashboardName", value=dashboard_name).override_logical_id("DashboardName")

    def _alarm(
        self,
        construct_id: str,
        alarm_name: str,
        description: str,
        metric: cloudwatch.Metric,
        *,
        threshold: float,
        evaluation_periods: int,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=alarm_name,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.alarms.append(alarm)
        self.alarm_names.append(alarm_name)


def _graph(title: str, metrics: Sequence[cloudwatch.IMetric], width: int = 8) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(metrics), width=width, height=6)
