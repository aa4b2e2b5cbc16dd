"""The dashboard row of a saga orchestrator: how its sagas start and end, per minute.

The orchestrator emits its saga metrics (:data:`SAGA_METRICS`) under its Powertools service name; its alarms (sagas
``failed``, sagas past their deadline) live with it in its stack (:mod:`infra.saga_orchestrator`). This row puts every
one of those metrics on the system's dashboard, so an operator sees them beside the queues and functions.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from infra.consumer_function import metrics_namespace

SAGA_METRICS = ("SagasStarted", "SagasCompleted", "SagasRejected", "SagasFailed", "SagasTimedOut", "SagasOverdue")
"""What :mod:`messaging.saga.orchestrator` emits (a test holds the two equal)."""


class SagaDashboardRow(Construct):
    """One graph of ``service_name``'s saga metrics on ``dashboard``.

    Example:
        >>> SagaDashboardRow(monitoring, "OrderSagas", service_name="order-saga",
        ...                  dashboard=monitoring.monitor.dashboard)  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, *, service_name: str,
                 dashboard: cloudwatch.Dashboard) -> None:
        super().__init__(scope, construct_id)
        metrics = [
            cloudwatch.Metric(namespace=metrics_namespace(self), metric_name=metric,
                              dimensions_map={"service": service_name}, statistic="Sum",
                              period=Duration.minutes(1), label=metric)
            for metric in SAGA_METRICS
        ]
        dashboard.add_widgets(cloudwatch.GraphWidget(title=f"{service_name}: sagas", left=metrics, width=24))
