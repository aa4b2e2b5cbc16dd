"""CDK app used only as a test fixture of the local cloud (not a product topology).

Synthesized once per test session by ``conftest.py``::

    python tests/localcloud/fixture_app.py   # with CDK context ``outdir`` set by the caller
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

HANDLERS = Path(__file__).parent / "handlers"


class FixtureCore(cdk.Stack):
    """Key, topics and an exported table: exercised across stacks via Fn::ImportValue."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(self, "Key", enable_key_rotation=True)
        self.topic = sns.Topic(self, "Events", fifo=True, master_key=self.key)
        self.content_topic = sns.Topic(self, "ContentEvents", fifo=True, content_based_deduplication=True)
        self.table = dynamodb.Table(
            self,
            "Records",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="expires_at",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        cdk.CfnOutput(self, "EventsTopicArn", value=self.topic.topic_arn, export_name="FixtureEventsTopicArn")
        cdk.CfnOutput(self, "ContentTopicArn", value=self.content_topic.topic_arn)
        cdk.CfnOutput(self, "RecordsTableName", value=self.table.table_name, export_name="FixtureRecordsTable")


def fifo_queue_with_dlq(scope: Construct, name: str, key: kms.IKey, *, max_receive: int = 2) -> sqs.Queue:
    dlq = sqs.Queue(scope, f"{name}Dlq", fifo=True, encryption_master_key=key)
    queue = sqs.Queue(
        scope,
        name,
        fifo=True,
        encryption_master_key=key,
        visibility_timeout=cdk.Duration.seconds(2),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receive),
    )
    cdk.CfnOutput(scope, f"{name}Url", value=queue.queue_url)
    cdk.CfnOutput(scope, f"{name}Arn", value=queue.queue_arn)
    cdk.CfnOutput(scope, f"{name}DlqUrl", value=dlq.queue_url)
    return queue


class FixtureService(cdk.Stack):
    """Queues, subscriptions, functions and event source mappings."""

    def __init__(self, scope: Construct, construct_id: str, core: FixtureCore) -> None:
        super().__init__(scope, construct_id)
        code = lambda_.Code.from_asset(str(HANDLERS))
        table_name = cdk.Fn.import_value("FixtureRecordsTable")

        # Given-side queues of the conformance tests: no mapping on them, read by the tests directly.
        inbox = fifo_queue_with_dlq(self, "Inbox", core.key)
        core.topic.add_subscription(subs.SqsSubscription(inbox, raw_message_delivery=True))
        filtered = fifo_queue_with_dlq(self, "Filtered", core.key)
        core.topic.add_subscription(
            subs.SqsSubscription(
                filtered,
                raw_message_delivery=True,
                filter_policy_with_message_body={
                    "kind": sns.FilterOrPolicy.filter(sns.SubscriptionFilter.string_filter(allowlist=["event"]))
                },
            )
        )
        content = fifo_queue_with_dlq(self, "ContentInbox", core.key)
        core.content_topic.add_subscription(subs.SqsSubscription(content, raw_message_delivery=True))
        standard = sqs.Queue(self, "Standard", visibility_timeout=cdk.Duration.seconds(2))
        cdk.CfnOutput(self, "StandardUrl", value=standard.queue_url)

        # Queues consumed by functions through event source mappings.
        def consumer(name: str, *, batch_size: int, timeout: int = 2, max_concurrency: int | None = None,
                     report: bool = True) -> lambda_.Function:
            queue = fifo_queue_with_dlq(self, f"{name}Queue", core.key)
            fn = lambda_.Function(
                self,
                f"{name}Function",
                runtime=lambda_.Runtime.PYTHON_3_13,
                handler="fixture_handlers.worker.lambda_handler",
                code=code,
                timeout=cdk.Duration.seconds(timeout),
                memory_size=256,
                environment={
                    "WORKER_NAME": name,
                    "OWN_QUEUE_URL": queue.queue_url,
                    "RECORDS_TABLE": table_name,
                    "EVENTS_TOPIC_ARN": core.topic.topic_arn,
                },
            )
            fn.add_event_source(
                sources.SqsEventSource(
                    queue,
                    batch_size=batch_size,
                    report_batch_item_failures=report,
                    max_concurrency=max_concurrency,
                )
            )
            core.table.grant_read_write_data(fn)
            self.queues[name] = queue
            return fn

        self.queues: dict[str, sqs.Queue] = {}
        consumer("Worker", batch_size=5)
        consumer("Slow", batch_size=1, timeout=1)
        consumer("Wide", batch_size=1, max_concurrency=2)
        consumer("Whole", batch_size=10, report=False)

        # An alarm on the worker's dead-letter queue, notifying a topic that a standard queue reads.
        alarm_topic = sns.Topic(self, "Alarms")
        alarm_inbox = sqs.Queue(self, "AlarmInbox")
        alarm_topic.add_subscription(subs.SqsSubscription(alarm_inbox))
        dead_letters = self.queues["Worker"].dead_letter_queue
        assert dead_letters is not None
        alarm = cloudwatch.Alarm(
            self,
            "WorkerDeadLetters",
            alarm_description="A message reached the worker's dead-letter queue.",
            metric=cloudwatch.Metric(
                namespace="AWS/SQS",
                metric_name="ApproximateNumberOfMessagesVisible",
                dimensions_map={"QueueName": dead_letters.queue.queue_name},
                statistic="Maximum",
                period=cdk.Duration.minutes(1),
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(alarm_topic))
        alarm.add_ok_action(cloudwatch_actions.SnsAction(alarm_topic))
        cdk.CfnOutput(self, "WorkerDeadLettersAlarmName", value=alarm.alarm_name)
        cdk.CfnOutput(self, "AlarmInboxUrl", value=alarm_inbox.queue_url)
        cdk.CfnOutput(self, "AlarmTopicArn", value=alarm_topic.topic_arn)


def build(app: cdk.App) -> None:
    core = FixtureCore(app, "FixtureCore")
    service = FixtureService(app, "FixtureService", core)
    service.add_dependency(core)


if __name__ == "__main__":
    fixture_app = cdk.App()
    build(fixture_app)
    fixture_app.synth()
