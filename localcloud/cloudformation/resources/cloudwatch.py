"""``AWS::CloudWatch::Alarm`` and ``AWS::CloudWatch::Dashboard`` (both created by upserting calls).

Example::

    Alarm().create(ctx)   # put_metric_alarm with the template's settings
"""

from __future__ import annotations

from localcloud.cloudformation.resources.base import ResourceContext, ResourceType, text

_ALARM_SETTINGS = frozenset({
    "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions",
    "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
    "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
    "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId",
})


class Alarm(ResourceType):
    replace_on = frozenset({"AlarmName"})
    name_property = "AlarmName"

    def create(self, ctx: ResourceContext) -> None:
        name = ctx.physical_name("AlarmName", limit=255)
        args = {k: v for k, v in ctx.props.items() if k in _ALARM_SETTINGS}
        if "Threshold" in args:
            args["Threshold"] = float(args["Threshold"])
        for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if key in args:
                args[key] = int(args[key])
        ctx.client("cloudwatch").put_metric_alarm(AlarmName=name, **args)
        ctx.set(name, Arn=f"arn:aws:cloudwatch:{ctx.region}:{ctx.account_id}:alarm:{name}")

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        ctx.client("cloudwatch").delete_alarms(AlarmNames=[ctx.previous.physical_id])


class Dashboard(ResourceType):
    replace_on = frozenset({"DashboardName"})
    name_property = "DashboardName"

    def create(self, ctx: ResourceContext) -> None:
        name = ctx.physical_name("DashboardName", limit=255)
        ctx.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=text(ctx.props["DashboardBody"]))
        ctx.set(name)

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        ctx.client("cloudwatch").delete_dashboards(DashboardNames=[ctx.previous.physical_id])
