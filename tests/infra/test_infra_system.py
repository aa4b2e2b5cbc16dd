"""CDK assertions over the whole example system, synthesized once (with the cdk-nag gate, without bundling).

The example stacks are checked against what the README states (names, counts); the services added with
``make service`` (``infra/services.py``) are derived from the app and held to the same rules."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam

from infra.consumer_function import ConsumerFunction
from infra.function_code import FUNCTIONS_DIR
from infra.outbox_monitoring import RELAY_METRICS
from infra.reply_channel import REPLY_SENDERS_SID
from infra.saga_monitoring import SAGA_METRICS
from infra.system import System, build_system, cdk_context
from messaging.consumer import METRICS
from messaging.reply_store import REPLY_TTL_SECONDS
from messaging.settings import DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS as IDEMPOTENCY_EXPIRY_SECONDS

pytestmark = pytest.mark.infra

EXAMPLE_STACKS = ("MessagingCore", "Orders", "Billing", "Notifications", "Quotes", "Monitoring", "BillingCredit",
                  "OrderSaga")
Resource = dict[str, Any]


@dataclass(frozen=True)
class Assembly:
    templates: dict[str, dict[str, Any]]
    system: System

    def resources(self, type_: str, *, examples_only: bool = False) -> Iterator[tuple[str, str, Resource]]:
        for stack, template in self.templates.items():
            if examples_only and stack not in EXAMPLE_STACKS:
                continue
            for logical_id, resource in template["Resources"].items():
                if resource["Type"] == type_:
                    yield stack, logical_id, resource

    @property
    def added_stacks(self) -> list[str]:
        """The stacks of the services added with make service."""
        return [service.stack_name for service in self.system.services.values()]

    @property
    def added_functions(self) -> dict[str, str]:
        """Function name -> stack of every function of the added services."""
        return {
            function.function_name: service.stack_name
            for service in self.system.services.values()
            for function in service.functions
        }

    def resource(self, stack: str, logical_id: str) -> Resource:
        resource: Resource = self.templates[stack]["Resources"][logical_id]
        return resource

    def path(self, stack: str, logical_id: str) -> str:
        return str(self.resource(stack, logical_id)["Metadata"]["aws:cdk:path"])

    def target(self, stack: str, value: Any) -> tuple[str, str]:
        """(stack, logical id) a Ref / GetAtt / ImportValue points at."""
        if "Ref" in value:
            return stack, value["Ref"]
        if "Fn::GetAtt" in value:
            return stack, value["Fn::GetAtt"][0]
        if "Fn::ImportValue" in value:
            export = value["Fn::ImportValue"]
            producer = export.split(":", 1)[0]
            for output in self.templates[producer]["Outputs"].values():
                if output.get("Export", {}).get("Name") == export:
                    return self.target(producer, output["Value"])
        if "Fn::Sub" in value:
            # A bucket named by Fn::Sub (fixed per account and region): its ARN, or the ARN of objects in it
            for bucket_stack, logical_id, bucket in self.resources("AWS::S3::Bucket"):
                name = bucket["Properties"]["BucketName"]["Fn::Sub"]
                if value["Fn::Sub"] in (name, f"arn:${{AWS::Partition}}:s3:::{name}") or value["Fn::Sub"].startswith(
                    f"arn:${{AWS::Partition}}:s3:::{name}/"
                ):
                    return bucket_stack, logical_id
        raise AssertionError(f"cannot resolve {value!r} in {stack}")


@pytest.fixture(scope="module")
def assembly() -> Assembly:
    # Given the example system with the cdk-nag gate (a finding would make synth raise), asset bundling skipped
    app = App(
        analytics_reporting=False,
        context={
            **cdk_context(),
            "aws:cdk:bundling-stacks": [],
            "aws:cdk:enable-asset-metadata": True,
            "aws:cdk:enable-path-metadata": True,
        },
    )
    system = build_system(app)
    # When it is synthesized once
    cloud_assembly = app.synth()
    return Assembly({stack.stack_name: stack.template for stack in cloud_assembly.stacks}, system)


def _is_dead_letter_target(assembly: Assembly, stack: str, logical_id: str) -> bool:
    return any(
        q["Properties"].get("RedrivePolicy", {}).get("deadLetterTargetArn") == {"Fn::GetAtt": [logical_id, "Arn"]}
        for s, _, q in assembly.resources("AWS::SQS::Queue")
        if s == stack
    )


def test_every_stack_is_synthesized_without_cdk_metadata(assembly: Assembly) -> None:
    # Then every stack is there, the added services' too, and none carries the version-reporting resource
    assert set(assembly.templates) == set(EXAMPLE_STACKS) | set(assembly.added_stacks)
    assert not list(assembly.resources("AWS::CDK::Metadata"))


def _scheduled_delivery_targets(assembly: Assembly) -> set[tuple[str, str]]:
    """(stack, logical id) of every queue the Scheduler role may send to (delayed delivery's policies)."""
    targets = set()
    for stack, _, policy in assembly.resources("AWS::IAM::Policy"):
        if "ScheduledDelivery" not in policy["Properties"]["PolicyName"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Action"] == "sqs:SendMessage":
                targets.add(assembly.target(stack, statement["Resource"]))
    return targets


def test_every_queue_is_fifo_high_throughput_with_a_fifo_dead_letter_queue(assembly: Assembly) -> None:
    # (The outbox relay's DLQ is a standard queue, as on-failure destinations must be: test_infra_outbox_api.py.)
    queues = [q for q in assembly.resources("AWS::SQS::Queue") if not _is_outbox_relay_dlq(q[2])]
    examples = [q for q in assembly.resources("AWS::SQS::Queue", examples_only=True) if not _is_outbox_relay_dlq(q[2])]
    scheduled = _scheduled_delivery_targets(assembly)
    assert len(examples) == 18  # 9 service queues, 9 DLQs
    assert len(queues) == 2 * len(assembly.system.queues)  # every service queue and its DLQ, nothing else
    for stack, logical_id, queue in queues:
        props = queue["Properties"]
        # Then each is FIFO, explicitly named, in high-throughput mode, with content-based dedup only where
        # scheduled messages arrive (a Scheduler target cannot give a dedup id)
        assert props["FifoQueue"] is True
        assert props["QueueName"].endswith(".fifo")
        assert props["ContentBasedDeduplication"] is ((stack, logical_id) in scheduled)
        assert props["DeduplicationScope"] == "messageGroup"
        assert props["FifoThroughputLimit"] == "perMessageGroupId"
        if _is_dead_letter_target(assembly, stack, logical_id):
            assert "RedrivePolicy" not in props
            continue
        # And each service queue redrives to a FIFO DLQ of its own stack after 5 receives
        redrive = props["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == 10
        _, dlq_id = assembly.target(stack, redrive["deadLetterTargetArn"])
        assert assembly.resource(stack, dlq_id)["Properties"]["FifoQueue"] is True


def _is_outbox_relay_dlq(queue: Resource) -> bool:
    return str(queue["Properties"].get("QueueName", "")).endswith("-outbox-relay-dlq")


def _is_stream_mapping(mapping: Resource) -> bool:
    """An event source mapping on a DynamoDB stream (the outbox relay's), not on a queue."""
    return "StreamArn" in json.dumps(mapping["Properties"]["EventSourceArn"])


def _queue_mappings(assembly: Assembly, *, examples_only: bool = False) -> list[tuple[str, str, Resource]]:
    mappings = assembly.resources("AWS::Lambda::EventSourceMapping", examples_only=examples_only)
    return [m for m in mappings if not _is_stream_mapping(m[2])]


def test_service_queue_visibility_timeout_is_six_times_the_consumer_timeout(assembly: Assembly) -> None:
    for stack, _, mapping in _queue_mappings(assembly):
        queue_stack, queue_id = assembly.target(stack, mapping["Properties"]["EventSourceArn"])
        _, function_id = assembly.target(stack, mapping["Properties"]["FunctionName"])
        timeout = assembly.resource(stack, function_id)["Properties"]["Timeout"]
        # Then the source queue hides a message for 6x the function timeout
        assert assembly.resource(queue_stack, queue_id)["Properties"]["VisibilityTimeout"] == 6 * timeout


def test_every_topic_is_fifo_with_explicit_dedup_and_group_scope(assembly: Assembly) -> None:
    topics = {t["Properties"]["TopicName"]: t["Properties"] for _, _, t in assembly.resources("AWS::SNS::Topic")}
    examples = {t["Properties"]["TopicName"] for _, _, t in assembly.resources("AWS::SNS::Topic", examples_only=True)}
    assert examples == {"order-events.fifo", "quote-requests.fifo", "messaging-alarms"}
    for name in set(topics) - {"messaging-alarms"}:
        # Then the event topics are FIFO, dedup ids explicit, throughput per message group
        assert topics[name]["FifoTopic"] is True
        assert topics[name]["ContentBasedDeduplication"] is False
        assert topics[name]["FifoThroughputScope"] == "MessageGroup"


def _denies_insecure_transport(statement: dict[str, Any]) -> bool:
    return (
        statement["Effect"] == "Deny"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        and statement["Action"] in ("sqs:*", "sns:*", "sns:Publish", ["sns:Publish"])
    )


def test_every_queue_and_topic_is_tls_only(assembly: Assembly) -> None:
    # Given which queues / topics a TLS-only statement covers
    covered: set[tuple[str, str]] = set()
    for stack, _, policy in assembly.resources("AWS::SQS::QueuePolicy"):
        if any(_denies_insecure_transport(s) for s in policy["Properties"]["PolicyDocument"]["Statement"]):
            covered |= {assembly.target(stack, q) for q in policy["Properties"]["Queues"]}
    for stack, _, policy in assembly.resources("AWS::SNS::TopicPolicy"):
        if any(_denies_insecure_transport(s) for s in policy["Properties"]["PolicyDocument"]["Statement"]):
            covered |= {assembly.target(stack, t) for t in policy["Properties"]["Topics"]}
    # Then every queue and every topic is covered
    for type_ in ("AWS::SQS::Queue", "AWS::SNS::Topic"):
        for stack, logical_id, _ in assembly.resources(type_):
            assert (stack, logical_id) in covered, assembly.path(stack, logical_id)


def test_queues_and_topics_use_customer_managed_keys_and_tables_kms(assembly: Assembly) -> None:
    for type_ in ("AWS::SQS::Queue", "AWS::SNS::Topic"):
        for stack, _, resource in assembly.resources(type_):
            # Then queues and topics are encrypted with a rotating KMS key of the same stack
            key_stack, key_id = assembly.target(stack, resource["Properties"]["KmsMasterKeyId"])
            key = assembly.resource(key_stack, key_id)
            assert key["Type"] == "AWS::KMS::Key"
            assert key["Properties"]["EnableKeyRotation"] is True
    tables = list(assembly.resources("AWS::DynamoDB::Table"))
    # reply, 5 state, 5 dedup (orders, billing, notifications, billing credit, order saga; quote responders keep none),
    # the orders outbox
    assert len(list(assembly.resources("AWS::DynamoDB::Table", examples_only=True))) == 12
    for _, _, table in tables:
        # And tables are encrypted with KMS (AWS-managed key)
        assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True}


def test_every_table_has_ttl_pitr_and_on_demand_billing(assembly: Assembly) -> None:
    for _, _, table in assembly.resources("AWS::DynamoDB::Table"):
        props = table["Properties"]
        assert props["TimeToLiveSpecification"]["Enabled"] is True
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["BillingMode"] == "PAY_PER_REQUEST"
    # Then the key schemas are the ones the runtime relies on
    schemas = {
        (
            tuple(k["AttributeName"] for k in t["Properties"]["KeySchema"]),
            t["Properties"]["TimeToLiveSpecification"]["AttributeName"],
        )
        for _, _, t in assembly.resources("AWS::DynamoDB::Table")
    }
    assert schemas == {
        (("id",), "expiration"),
        (("pk", "sk"), "expires_at"),
        (("correlationid", "replyid"), "expires_at"),
    }


def test_every_event_source_mapping_reports_batch_item_failures(assembly: Assembly) -> None:
    mappings = _queue_mappings(assembly)
    assert len(_queue_mappings(assembly, examples_only=True)) == 9
    assert len(mappings) == len(assembly.system.queues)  # each service queue has its consumer
    for _, _, mapping in mappings:
        props = mapping["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BatchSize"] == 10
        assert props["ScalingConfig"]["MaximumConcurrency"] >= 2


def test_every_subscription_is_raw_with_a_message_body_filter(assembly: Assembly) -> None:
    # Given the subscriptions of the example system by subscribed queue name
    filters = {}
    for stack, _, subscription in assembly.resources("AWS::SNS::Subscription", examples_only=True):
        props = subscription["Properties"]
        assert props["Protocol"] == "sqs"
        assert props["RawMessageDelivery"] is True
        assert props["FilterPolicyScope"] == "MessageBody"
        _, queue_id = assembly.target(stack, props["Endpoint"])
        topic_stack, topic_id = assembly.target(stack, props["TopicArn"])
        topic = assembly.resource(topic_stack, topic_id)["Properties"]["TopicName"]
        queue = assembly.resource(stack, queue_id)["Properties"]["QueueName"]
        filters[queue] = (topic, props["FilterPolicy"])
    # Then each subscriber gets exactly the types and kinds of the brief
    created, cancelled = "orders.OrderCreated", "orders.OrderCancelled"
    quote = ("quote-requests.fifo", {"type": ["quotes.RequestQuote"], "kind": ["command"]})
    assert filters == {
        "billing.fifo": ("order-events.fifo", {"type": [created, cancelled], "kind": ["event"]}),
        "notifications.fifo": ("order-events.fifo", {"type": [created], "kind": ["event"]}),
        "quotes-standard.fifo": quote,
        "quotes-express.fifo": quote,
        "quotes-economy.fifo": quote,
    }


def test_sns_may_deliver_only_from_the_subscribed_topic(assembly: Assembly) -> None:
    for stack, _, subscription in assembly.resources("AWS::SNS::Subscription"):
        topic_arn = subscription["Properties"]["TopicArn"]
        _, queue_id = assembly.target(stack, subscription["Properties"]["Endpoint"])
        key_id = assembly.target(stack, assembly.resource(stack, queue_id)["Properties"]["KmsMasterKeyId"])[1]
        key_statements = assembly.resource(stack, key_id)["Properties"]["KeyPolicy"]["Statement"]
        # Then the queue key lets sns.amazonaws.com use it only for that topic
        assert any(
            s.get("Principal") == {"Service": "sns.amazonaws.com"}
            and s["Condition"] == {"ArnEquals": {"aws:SourceArn": topic_arn}}
            for s in key_statements
        )


def test_an_alarm_watches_every_dead_letter_queue(assembly: Assembly) -> None:
    # Given every DLQ of the system
    dlqs = {
        q["Properties"]["QueueName"]
        for stack, logical_id, q in assembly.resources("AWS::SQS::Queue")
        if _is_dead_letter_target(assembly, stack, logical_id)
    }
    assert len(dlqs) == len(assembly.system.queues) >= 7
    # When the alarms are collected
    alarmed = set()
    for _, _, alarm in assembly.resources("AWS::CloudWatch::Alarm"):
        props = alarm["Properties"]
        assert props["AlarmActions"], "every alarm notifies the alarm topic"
        if props["Namespace"] == "AWS/SQS" and props["MetricName"] == "ApproximateNumberOfMessagesVisible":
            assert props["Threshold"] == 1
            assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
            alarmed |= {d["Value"] for d in props["Dimensions"]}
    # Then any message in any DLQ alarms (the outbox relay's DLQ too)
    assert alarmed == dlqs | {"orders-outbox-relay-dlq"}


def test_age_and_error_alarms_cover_every_queue_and_function(assembly: Assembly) -> None:
    alarms = [a["Properties"] for _, _, a in assembly.resources("AWS::CloudWatch::Alarm")]
    aged = {a["Dimensions"][0]["Value"] for a in alarms if a["MetricName"] == "ApproximateAgeOfOldestMessage"}
    errors = {a["Dimensions"][0]["Value"] for a in alarms if a["MetricName"] == "Errors"}
    functions = {f["Properties"]["FunctionName"] for _, _, f in assembly.resources("AWS::Lambda::Function")}
    assert aged == {queue.queue_name for queue in assembly.system.queues}
    assert aged >= {
        "replies.fifo",
        "orders-commands.fifo",
        "billing.fifo",
        "notifications.fifo",
        "quotes-standard.fifo",
        "quotes-express.fifo",
        "quotes-economy.fifo",
    }
    assert errors == functions


def test_alarm_topic_lets_cloudwatch_publish_through_its_key(assembly: Assembly) -> None:
    resources = assembly.templates["MessagingCore"]["Resources"]
    key = next(r for k, r in resources.items() if k.startswith("AlarmsKey") and r["Type"] == "AWS::KMS::Key")
    topic_policy = next(r for r in resources.values() if r["Type"] == "AWS::SNS::TopicPolicy")
    cloudwatch = {"Service": "cloudwatch.amazonaws.com"}
    # Then CloudWatch may use the key and publish to the topic
    key_actions = [s["Action"] for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Principal") == cloudwatch]
    assert key_actions == [["kms:Decrypt", "kms:GenerateDataKey"]]
    statements = topic_policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(s.get("Principal") == cloudwatch and s["Action"] == "sns:Publish" for s in statements)


def test_dashboard_shows_queues_functions_and_powertools_metrics(assembly: Assembly) -> None:
    dashboards = list(assembly.resources("AWS::CloudWatch::Dashboard"))
    assert len(dashboards) == 1
    body = json.dumps(dashboards[0][2]["Properties"]["DashboardBody"])
    for needle in (
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "billing-dlq.fifo",
        "Invocations",
        "Errors",
        "Duration",
        "Throttles",
        "ConcurrentExecutions",
        "FifoMessaging",
        "MessagesProcessed",
        "MessagesDeadLettered",
        "MessagesRetried",
        "DuplicateDeliveries",
        "RepliesSent",
        "quotes-economy",
    ):
        assert needle in body, needle



def test_every_stack_registers_itself_where_clients_discover_the_system(assembly: Assembly) -> None:
    # Then each stack, the added services' among them, writes one SSM parameter under the default stage's registry
    registered = {
        stack: [(r["Properties"]["Name"], r["Properties"]["Value"])
                for owner, _, r in assembly.resources("AWS::SSM::Parameter") if owner == stack]
        for stack in assembly.templates
    }
    assert registered == {stack: [(f"/fifo-messaging/default/stacks/{stack}", stack)] for stack in assembly.templates}
    assert set(assembly.added_stacks) <= set(registered)


def test_the_dashboard_reads_each_functions_metrics_under_the_service_name_it_emits_them_with(
    assembly: Assembly,
) -> None:
    # Given the service name each queue consumer's runtime puts on its metrics (POWERTOOLS_SERVICE_NAME, see the
    # consumer), and the outbox relay's (a stream mapping, StartingPosition set) with metrics of its own
    consumers = {r["Properties"]["FunctionName"]["Ref"] for _, _, r in assembly.resources(
        "AWS::Lambda::EventSourceMapping") if "StartingPosition" not in r["Properties"]}
    relays = {r["Properties"]["FunctionName"]["Ref"] for _, _, r in assembly.resources(
        "AWS::Lambda::EventSourceMapping") if "StartingPosition" in r["Properties"]}

    def service_names(logical_ids: set[str]) -> set[str]:
        return {r["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
                for _, logical_id, r in assembly.resources("AWS::Lambda::Function") if logical_id in logical_ids}

    services, relay_services = service_names(consumers), service_names(relays)
    [(_, _, dashboard)] = assembly.resources("AWS::CloudWatch::Dashboard")
    body = json.loads("".join(part if isinstance(part, str) else "x"
                              for part in dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]))
    # When the dashboard's custom metric lines are read
    read = {(line[1], line[3]) for widget in body["widgets"] if widget["type"] == "metric"
            for line in widget["properties"]["metrics"] if line[0] == "FifoMessaging" and line[2] == "service"}
    # Then every metric the runtime emits is read for every function's service name, and nothing else is
    assert read == ({(metric, service) for metric in METRICS for service in services}
                    | {(metric, service) for metric in RELAY_METRICS for service in relay_services}
                    | {(metric, "order-saga") for metric in SAGA_METRICS})
    assert relay_services == {"orders-outbox-relay"}
    assert {"quotes-economy", "quotes-express", "quotes-standard"} <= services

# The claim-check bucket and its key: consumers of what clients send may read claims (never write or delete).
CLAIMS = ("MessagingCore/Claims/Bucket/", "MessagingCore/Claims/Key/")
CLAIM_READ_ACTIONS = {"s3:GetObject", "s3:GetObjectVersion", "kms:Decrypt"}
# Which construct paths each function's policies may name (its own resources, plus the reply queue it answers on).
ALLOWED = {
    "reply-router": ("MessagingCore/Replies/Router/", "MessagingCore/Replies/Queue/", "MessagingCore/Replies/Table/"),
    "orders": (
        "Orders/Handler/",
        "Orders/Commands/",
        "Orders/State/",
        "Orders/Idempotency/",
        "Orders/OrderEvents/",
        "MessagingCore/Replies/Queue/",
        *CLAIMS,
    ),
    "orders-api": (
        "Orders/ApiHandler/",
        "Orders/State/",
        "Orders/Outbox/Table/",
        "MessagingCore/Replies/Table/",
    ),
    "orders-outbox-relay": ("Orders/Outbox/", "Orders/Commands/"),
    "billing": ("Billing/Handler/", "Billing/Queue/", "Billing/State/", "Billing/Idempotency/", *CLAIMS),
    "billing-credit": ("BillingCredit/", "MessagingCore/Replies/Queue/", "MessagingCore/OrderSagas/", *CLAIMS),
    "order-saga": (
        "OrderSaga/",
        "MessagingCore/OrderSagas/",
        "MessagingCore/Replies/Queue/",
        "MessagingCore/Delayed/",
        "BillingCredit/Commands/",
        "Inventory/Commands/",
        *CLAIMS,
    ),
    "notifications": (
        "Notifications/Handler/",
        "Notifications/Queue/",
        "Notifications/State/",
        "Notifications/Idempotency/",
    ),
    **{
        f"quotes-{name}": (
            f"Quotes/{name.capitalize()}Responder/",
            f"Quotes/{name.capitalize()}Queue/",
            "MessagingCore/Replies/Queue/",
            *CLAIMS,
        )
        for name in ("standard", "express", "economy")
    },
}
XRAY = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]


def _allowed(assembly: Assembly) -> dict[str, tuple[str, ...]]:
    """The example functions' allowances, and an added service's function: its own stack, replies, claim reads."""
    added = {
        name: (f"{stack}/", "MessagingCore/Replies/Queue/", *CLAIMS) for name, stack in assembly.added_functions.items()
    }
    # The order saga's participants may also answer on the saga queue
    added["inventory"] = (*added["inventory"], "MessagingCore/OrderSagas/")
    return {**ALLOWED, **added}


def test_each_function_has_its_own_role_naming_only_its_own_resources(assembly: Assembly) -> None:
    allowed = _allowed(assembly)
    roles = {}
    for stack, _, function in assembly.resources("AWS::Lambda::Function"):
        name = function["Properties"]["FunctionName"]
        roles[name] = assembly.target(stack, function["Properties"]["Role"])
    # Then no two functions share a role
    assert set(roles) == set(allowed)
    assert len(set(roles.values())) == len(roles)
    for name, (stack, role_id) in roles.items():
        role = assembly.resource(stack, role_id)["Properties"]
        assert "ManagedPolicyArns" not in role and "Policies" not in role
        policies = [
            p
            for s, _, p in assembly.resources("AWS::IAM::Policy")
            if s == stack and {"Ref": role_id} in p["Properties"]["Roles"]
        ]
        assert policies
        for policy in policies:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow"
                resources = (
                    statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                )
                for resource in resources:
                    if resource == "*":
                        # And "*" only where AWS requires it (X-Ray, and the stream listing of a stream's event
                        # source mapping, have no resource-level permissions)
                        actions = set(statement["Action"]) - ({"dynamodb:ListStreams"} if "relay" in name else set())
                        assert sorted(actions) == XRAY, (name, statement)
                        continue
                    if ":scheduler:" in json.dumps(resource):
                        # And on Scheduler, the schedules of delayed delivery's group only
                        assert name == "order-saga" and "schedule/messaging-delayed/*" in json.dumps(resource)
                        continue
                    target_stack, target_id = assembly.target(stack, resource)
                    path = assembly.path(target_stack, target_id)
                    # And every other resource is one of its own (or the reply queue it may answer on)
                    assert path.startswith(allowed[name]), (name, path)
                    if path.startswith(CLAIMS):
                        # And on the claim-check bucket and its key, a consumer only reads
                        action = statement["Action"]
                        assert set(action if isinstance(action, list) else [action]) <= CLAIM_READ_ACTIONS, name


def test_functions_are_arm64_python_traced_with_their_own_log_group(assembly: Assembly) -> None:
    handlers = {}
    for stack, _, function in assembly.resources("AWS::Lambda::Function"):
        props = function["Properties"]
        handlers[props["FunctionName"]] = props["Handler"]
        assert props["Runtime"] == "python3.14"
        assert props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert function["Metadata"]["aws:asset:path"]
        log_group = assembly.resource(*assembly.target(stack, props["LoggingConfig"]["LogGroup"]))
        assert log_group["Properties"]["LogGroupName"] == f"/aws/lambda/{props['FunctionName']}"
        assert log_group["Properties"]["RetentionInDays"] > 0
    # Then every handler is a module of the functions/ asset, and the example functions run the documented ones
    assert set(handlers) == set(EXAMPLE_HANDLERS) | set(assembly.added_functions)
    for handler in handlers.values():
        assert (FUNCTIONS_DIR / handler.rpartition(".")[0].replace(".", "/")).with_suffix(".py").is_file(), handler
    assert {name: handlers[name] for name in EXAMPLE_HANDLERS} == EXAMPLE_HANDLERS
    # And nothing creates a Custom::LogRetention function behind our back
    assert not list(assembly.resources("Custom::LogRetention"))


EXAMPLE_HANDLERS = {
    "reply-router": "reply_router.handler.lambda_handler",
    "orders": "orders.handler.lambda_handler",
    "orders-api": "orders_api.handler.lambda_handler",
    "orders-outbox-relay": "outbox_relay.handler.lambda_handler",
    "billing": "billing.handler.lambda_handler",
    "notifications": "notifications.handler.lambda_handler",
    "quotes-standard": "quotes.handler.lambda_handler",
    "quotes-express": "quotes.handler.lambda_handler",
    "quotes-economy": "quotes.handler.lambda_handler",
    "billing-credit": "billing.credit_handler.lambda_handler",
    "order-saga": "order_saga.handler.lambda_handler",
}


def assembly_env_of(assembly: Assembly, function_name: str) -> dict[str, Any]:
    for _, _, function in assembly.resources("AWS::Lambda::Function"):
        if function["Properties"]["FunctionName"] == function_name:
            variables: dict[str, Any] = function["Properties"]["Environment"]["Variables"]
            return variables
    raise AssertionError(f"no function {function_name}")


def test_environment_variables_come_with_the_linked_resources(assembly: Assembly) -> None:
    env = {
        f["Properties"]["FunctionName"]: f["Properties"]["Environment"]["Variables"]
        for _, _, f in assembly.resources("AWS::Lambda::Function")
    }
    plain = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
    base = plain | {"DEAD_LETTER_QUEUE_URL"}
    service = base | {"STATE_TABLE_NAME", "IDEMPOTENCY_TABLE_NAME"}
    responder = base | {"REPLY_TO_ALLOWLIST", "QUOTE_RESPONDER_NAME", "CLAIM_CHECK_BUCKET"}
    for name in assembly.added_functions:
        # Then an added service's function has the consumer's variables, and its links' (at least)
        assert base <= set(env.pop(name)), name
    assert {name: set(variables) for name, variables in env.items()} == {
        "reply-router": base | {"REPLY_TABLE_NAME"},
        "orders": service | {"EVENT_TOPIC_ARN", "REPLY_TO_ALLOWLIST", "CLAIM_CHECK_BUCKET"},
        "orders-api": plain | {"STATE_TABLE_NAME", "OUTBOX_TABLE_NAME", "REPLY_TABLE_NAME", "REPLY_QUEUE_URL",
                               "ORDERS_COMMAND_QUEUE_URL"},
        "orders-outbox-relay": plain | {"RELAY_DEAD_LETTER_QUEUE_URL"},
        "billing": service | {"CLAIM_CHECK_BUCKET"},
        "notifications": service,
        "quotes-standard": responder,
        "quotes-express": responder,
        "quotes-economy": responder,
        "billing-credit": service | {"REPLY_TO_ALLOWLIST", "CLAIM_CHECK_BUCKET"},
        "order-saga": service
        | {"REPLY_TO_ALLOWLIST", "CLAIM_CHECK_BUCKET", "SAGA_QUEUE_URL", "BILLING_COMMAND_QUEUE_URL",
           "INVENTORY_COMMAND_QUEUE_URL", "SCHEDULE_GROUP_NAME", "SCHEDULER_ROLE_ARN"},
    }
    # And a participant of the order saga may reply to the reply queue and to the saga queue
    reply_import = {"Fn::ImportValue": "MessagingCore:ExportsOutputRefRepliesQueueA81D66B7471DB455"}
    for participant in ("billing-credit", "inventory"):
        allowlist = assembly_env_of(assembly, participant)["REPLY_TO_ALLOWLIST"]
        assert allowlist == {"Fn::Join": [",", [reply_import, env["order-saga"]["SAGA_QUEUE_URL"]]]}, participant
    assert {v["POWERTOOLS_METRICS_NAMESPACE"] for v in env.values()} == {"FifoMessaging"}
    assert {env[f"quotes-{n}"]["QUOTE_RESPONDER_NAME"] for n in ("standard", "express", "economy")} == {
        "standard",
        "express",
        "economy",
    }
    reply_queue = {"Fn::ImportValue": "MessagingCore:ExportsOutputRefRepliesQueueA81D66B7471DB455"}
    assert env["orders"]["REPLY_TO_ALLOWLIST"] == reply_queue


def test_every_dead_letter_queue_is_named_by_a_dead_letter_queue_url_output(assembly: Assembly) -> None:
    # Given each stack's dead-letter queues: redrive targets and event source mappings' on-failure destinations
    for stack, template in assembly.templates.items():
        resources = template["Resources"]
        dead_letter_queues = {
            target["Fn::GetAtt"][0]
            for resource in resources.values()
            for target in (
                resource.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn"),
                resource.get("Properties", {}).get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
            )
            if isinstance(target, dict) and "Fn::GetAtt" in target
            and resources[target["Fn::GetAtt"][0]]["Type"] == "AWS::SQS::Queue"
        }
        # Then each has an output <Name>DeadLetterQueueUrl (what fifo-messaging dlq and status find them by)
        named = {output["Value"].get("Ref") for key, output in template.get("Outputs", {}).items()
                 if key.endswith("DeadLetterQueueUrl") and isinstance(output["Value"], dict)}
        assert dead_letter_queues <= named, stack
    relay_dlq = assembly.templates["Orders"]["Outputs"]["OrdersOutboxRelayDeadLetterQueueUrl"]["Value"]
    assert assembly.templates["Orders"]["Outputs"]["OrdersOutboxRelayDlqUrl"]["Value"] == relay_dlq


def test_stack_outputs_have_the_stable_names_clients_use(assembly: Assembly) -> None:
    def queue(name: str) -> set[str]:
        return {f"{name}QueueUrl", f"{name}QueueArn", f"{name}DeadLetterQueueUrl"}

    outputs = {
        stack: {k for k in template.get("Outputs", {}) if not k.startswith("ExportsOutput")}
        for stack, template in assembly.templates.items()
    }
    for service in assembly.system.services.values():
        # Then an added service's stack names every queue of it as the example services do
        added = outputs.pop(service.stack_name)
        for service_queue in service.queues:
            assert queue(service_queue.name) <= added, service.stack_name
    assert outputs == {
        "MessagingCore": queue("Reply")
        | queue("OrderSagas")
        | {"ReplyTableName", "AlarmTopicArn", "ClaimCheckBucketName", "DelayedDeliveryGroupName",
           "DelayedDeliveryRoleArn"},
        "BillingCredit": queue("BillingCommand") | {"BillingCreditTableName"},
        "OrderSaga": {"OrderSagaTableName"},
        "Orders": queue("OrdersCommand")
        | {"OrderEventsTopicArn", "OrdersTableName", "OrdersApiUrl", "OrdersOutboxTableName",
           "OrdersOutboxRelayDeadLetterQueueUrl", "OrdersOutboxRelayDlqUrl"},
        "Billing": queue("Billing") | {"BillingTableName"},
        "Notifications": queue("Notifications") | {"NotificationsTableName"},
        "Quotes": queue("QuoteStandard") | queue("QuoteExpress") | queue("QuoteEconomy") | {"QuoteRequestsTopicArn"},
        "Monitoring": {"DashboardName"},
    }


def test_app_py_synthesizes_the_same_templates_as_the_cdk_cli_context(
    assembly: Assembly, example_assembly: Path
) -> None:
    # Given the templates `python app.py` writes (what the local cloud deploys and cfn-lint checks)
    def without_metadata(template: dict[str, Any]) -> dict[str, Any]:
        resources = {k: {f: v for f, v in r.items() if f != "Metadata"} for k, r in template["Resources"].items()}
        return {**template, "Resources": resources}

    assert set(assembly.templates) == {path.name.split(".")[0] for path in example_assembly.glob("*.template.json")}
    for stack in assembly.templates:
        written = json.loads((example_assembly / f"{stack}.template.json").read_text(encoding="utf-8"))
        # Then they are the ones synthesized with cdk.json's context (feature flags included), metadata aside
        assert without_metadata(written) == without_metadata(assembly.templates[stack]), stack


def test_the_claim_check_bucket_is_encrypted_tls_only_versioned_and_outlives_dedup_and_replies(
    assembly: Assembly,
) -> None:
    # Given the one bucket of the system: the claim-check bucket of MessagingCore
    [(stack, logical_id, bucket)] = list(assembly.resources("AWS::S3::Bucket"))
    props = bucket["Properties"]
    assert stack == "MessagingCore"
    # Then it is encrypted with its own rotating customer-managed key, versioned, never public
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    key_stack, key_id = assembly.target(stack, rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"])
    assert assembly.resource(key_stack, key_id)["Properties"]["EnableKeyRotation"] is True
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    # And claims expire, later than the idempotency records (1 hour) and the replies (1 day) they can come back with
    [lifecycle] = props["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert lifecycle["ExpirationInDays"] * 24 * 3600 > max(IDEMPOTENCY_EXPIRY_SECONDS, REPLY_TTL_SECONDS)
    # And its policy refuses any request without TLS
    [policy] = [p for s, _, p in assembly.resources("AWS::S3::BucketPolicy") if s == stack]
    assert policy["Properties"]["Bucket"] == {"Ref": logical_id}
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )


def test_consumers_run_at_the_documented_maximum_concurrency(assembly: Assembly) -> None:
    # Then every event source mapping caps its function at 5 concurrent batches (README: "maximum concurrency 5")
    concurrency = {
        m["Properties"]["ScalingConfig"]["MaximumConcurrency"]
        for _, _, m in _queue_mappings(assembly)
    }
    assert concurrency == {5}


def test_the_age_alarm_fires_when_the_oldest_message_is_older_than_five_minutes(assembly: Assembly) -> None:
    alarms = [a["Properties"] for _, _, a in assembly.resources("AWS::CloudWatch::Alarm")]
    aged = [a for a in alarms if a["MetricName"] == "ApproximateAgeOfOldestMessage"]
    # Then each age alarm fires on a maximum age of more than 300 seconds (>= 301), three periods in a row
    assert aged
    for alarm in aged:
        assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"], alarm["EvaluationPeriods"]) == (
            "Maximum",
            301,
            "GreaterThanOrEqualToThreshold",
            3,
        )


SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_KEY", re.IGNORECASE)
PLAIN_LITERAL = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,30}$")


def test_no_function_environment_holds_a_secret(assembly: Assembly) -> None:
    for _, _, function in assembly.resources("AWS::Lambda::Function"):
        variables = function["Properties"]["Environment"]["Variables"]
        for name, value in variables.items():
            # Then no variable is named like a secret
            assert not SECRET_NAME.search(name), name
            # And each value is a reference to a resource of the app or a short plain name (a service name, a level),
            # never a literal key, password or URL with credentials
            if isinstance(value, str):
                assert PLAIN_LITERAL.match(value), (name, value)
            else:
                assert set(value) <= {"Ref", "Fn::GetAtt", "Fn::ImportValue", "Fn::Sub", "Fn::Join"}, (name, value)


def test_delayed_delivery_has_a_group_and_a_role_only_scheduler_assumes_allowed_to_its_target_queues(
    assembly: Assembly,
) -> None:
    core = assembly.templates["MessagingCore"]
    # Then MessagingCore holds one schedule group and outputs it with the Scheduler role
    groups = list(assembly.resources("AWS::Scheduler::ScheduleGroup"))
    assert [(stack, g["Properties"]["Name"]) for stack, _, g in groups] == [("MessagingCore", "messaging-delayed")]
    assert {"DelayedDeliveryGroupName", "DelayedDeliveryRoleArn"} <= set(core["Outputs"])
    _, role_id = assembly.target("MessagingCore", core["Outputs"]["DelayedDeliveryRoleArn"]["Value"])
    trust = assembly.resource("MessagingCore", role_id)["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "scheduler.amazonaws.com"}]
    assert all("aws:SourceAccount" in s["Condition"]["StringEquals"] for s in trust)
    # And the role may send to the orders queue (the policy lives in the queue's stack, so core depends on nothing)
    scheduled = _scheduled_delivery_targets(assembly)
    orders_queue = assembly.system.orders.queue.queue.node.default_child
    assert ("Orders", assembly.system.orders.resolve(orders_queue.logical_id)) in scheduled  # type: ignore[union-attr]
    for stack, _, policy in assembly.resources("AWS::IAM::Policy"):
        if "ScheduledDelivery" in policy["Properties"]["PolicyName"]:
            statement = next(s for s in policy["Properties"]["PolicyDocument"]["Statement"]
                             if s["Action"] == "sqs:SendMessage")
            assert assembly.target(stack, statement["Resource"])[0] == stack  # in its queue's stack
            actions = {a for st in policy["Properties"]["PolicyDocument"]["Statement"] for a in
                       ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
            assert actions == {"sqs:SendMessage", "kms:GenerateDataKey", "kms:Decrypt"}


def test_the_order_saga_alarms_on_failed_and_overdue_sagas(assembly: Assembly) -> None:
    # Then the OrderSaga stack alarms on its saga metrics, each notifying the alarm topic
    alarms = {a["Properties"]["MetricName"]: a["Properties"] for s, _, a in assembly.resources("AWS::CloudWatch::Alarm")
              if s == "OrderSaga"}
    assert set(alarms) == {"SagasFailed", "SagasOverdue"}
    for alarm in alarms.values():
        assert alarm["Namespace"] == "FifoMessaging" and alarm["Threshold"] == 1
        assert alarm["Dimensions"] == [{"Name": "service", "Value": "order-saga"}]
        assert alarm["AlarmActions"] == [{"Fn::ImportValue": alarm["AlarmActions"][0]["Fn::ImportValue"]}]
        assert alarm["AlarmActions"][0]["Fn::ImportValue"].startswith("MessagingCore:")


def test_the_saga_row_reads_every_metric_the_orchestrator_emits() -> None:
    # Given the metric names the saga orchestrator emits / Then the dashboard's saga row lists exactly those
    from messaging.saga import orchestrator  # noqa: PLC0415

    emitted = {value for name, value in vars(orchestrator).items() if name.startswith("SAGAS_")}
    assert set(SAGA_METRICS) == emitted == set(orchestrator.SAGA_METRICS)


def _path_of(assembly: Assembly, stack: str, resource: Any) -> str | None:
    """The construct path a policy's resource names, None for ARNs built by hand ("*", a Scheduler pattern)."""
    if not isinstance(resource, dict) or not {"Ref", "Fn::GetAtt", "Fn::ImportValue"} & set(resource):
        return None
    return assembly.path(*assembly.target(stack, resource))


def _reply_senders(assembly: Assembly) -> dict[str, dict[str, Any]]:
    """Function name -> role properties of every function whose role may send to the reply queue."""
    function_of = {}
    for stack, _, function in assembly.resources("AWS::Lambda::Function"):
        function_of[assembly.target(stack, function["Properties"]["Role"])] = function["Properties"]["FunctionName"]
    senders = {}
    for stack, _, policy in assembly.resources("AWS::IAM::Policy"):
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if "sqs:SendMessage" not in actions or "*" in resources:
                continue
            if any(_path_of(assembly, stack, r) == REPLY_QUEUE_PATH for r in resources):
                for role in policy["Properties"]["Roles"]:
                    key = assembly.target(stack, role)
                    senders[function_of[key]] = assembly.resource(*key)["Properties"]
    return senders


REPLY_QUEUE_PATH = "MessagingCore/Replies/Queue/Queue/Resource"


def test_only_the_systems_responders_may_send_to_the_reply_queue(assembly: Assembly) -> None:
    # Given the reply queue's policy
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for s, _, p in assembly.resources("AWS::SQS::QueuePolicy")
        if any(assembly.path(*assembly.target(s, q)) == REPLY_QUEUE_PATH for q in p["Properties"]["Queues"])
    ]
    assert len(policies) == 1
    statements = {statement.get("Sid"): statement for statement in policies[0]}
    # Then it denies SendMessage to every principal whose ARN is not a role under the stage's reply-sender path
    deny = statements[REPLY_SENDERS_SID]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", {"AWS": "*"}, "sqs:SendMessage")
    (condition,) = deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]["Fn::Join"][1][-1:]
    assert condition == ":role/fifo-messaging/default/reply-senders/*"
    assert {"Ref": "AWS::AccountId"} in deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]["Fn::Join"][1]
    # And TLS-only stays
    assert any(s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
               for s in policies[0])
    # And exactly the responders' roles, each allowed to send there, are on that path (a function granted the send
    # whose role is elsewhere would be refused by the queue; one on the path without the grant could not send)
    senders = _reply_senders(assembly)
    responders = {"orders", "billing-credit", "order-saga", "quotes-standard", "quotes-express", "quotes-economy",
                  *assembly.added_functions}
    assert set(senders) == responders
    assert {name: role.get("Path") for name, role in senders.items()} == dict.fromkeys(
        responders, "/fifo-messaging/default/reply-senders/")
    other_paths = {
        role["Properties"].get("Path") for _, _, role in assembly.resources("AWS::IAM::Role")
    } - {None, "/fifo-messaging/default/reply-senders/"}
    assert other_paths == set()


def test_the_reply_path_reads_nothing_to_store_a_reply_and_writes_nothing_to_send_a_request(assembly: Assembly) -> None:
    # Given the grants on the reply table
    table_actions: dict[str, set[str]] = {}
    function_of = {}
    for stack, _, function in assembly.resources("AWS::Lambda::Function"):
        function_of[assembly.target(stack, function["Properties"]["Role"])] = function["Properties"]["FunctionName"]
    for stack, _, policy in assembly.resources("AWS::IAM::Policy"):
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if any((_path_of(assembly, stack, r) or "").startswith("MessagingCore/Replies/Table/") for r in resources):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                for role in policy["Properties"]["Roles"]:
                    table_actions.setdefault(function_of[assembly.target(stack, role)], set()).update(actions)
    # Then the router may only put a reply, and a requester (the HTTP front door) only query its replies
    assert table_actions == {"reply-router": {"dynamodb:PutItem"}, "orders-api": {"dynamodb:Query"}}


def test_a_role_kept_on_another_path_cannot_be_made_a_reply_sender(assembly: Assembly) -> None:
    # Given a function whose role was put on another IAM path
    stack = Stack(App(context={"aws:cdk:bundling-stacks": []}), "Elsewhere")
    function = ConsumerFunction(stack, "Fn", function_name="elsewhere", handler="x.handler", service_name="x")
    role = function.role.node.default_child
    assert isinstance(role, iam.CfnRole)
    role.path = "/teams/payments/"
    # When it is named a responder of the reply channel
    # Then it is refused (the queue's policy would deny its sends), and its path is left as it was
    with pytest.raises(ValueError, match="is on the path '/teams/payments/'"):
        assembly.system.core.replies.allow_replies_from(function)
    assert role.path == "/teams/payments/"
