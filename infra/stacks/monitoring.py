"""Monitoring: one dashboard and the alarms over every queue and function of the system."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.monitoring import MessagingMonitor, MonitoredFunction, MonitoredQueue


class MonitoringStack(Stack):
    """Dashboard ``DashboardName`` and alarms notifying the alarm topic.

    Example:
        >>> MonitoringStack(app, "Monitoring", alarm_topic=core.alarms.topic,
        ...                 queues=[...], functions=[...])  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarm_topic: sns.ITopic,
        queues: Sequence[MonitoredQueue],
        functions: Sequence[MonitoredFunction],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.monitor = MessagingMonitor(self, "Monitor", alarm_topic=alarm_topic, queues=queues, functions=functions)
