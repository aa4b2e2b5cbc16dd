"""Stages: ``cdk deploy -c stage=NAME`` synthesizes an independent copy of the system (synthesized once, without
bundling), beside the default stage whose names stay unprefixed (see test_infra_system)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App

from infra.services import SERVICES, stack_base_name
from infra.stage import StageError, check_stage, stack_name
from infra.system import System, build_system, cdk_context

pytestmark = pytest.mark.infra

BASE_STACKS = (
    "MessagingCore", "Orders", "Billing", "Notifications", "Quotes", "Monitoring", "BillingCredit", "OrderSaga",
    *(stack_base_name(service) for service in SERVICES),  # the services added with make service
)
EXAMPLE_FUNCTIONS = ("reply-router", "orders", "billing", "notifications", "quotes-standard", "quotes-express",
                     "quotes-economy")
NAME_PROPERTIES = ("QueueName", "TopicName", "FunctionName", "LogGroupName", "DashboardName", "AlarmName")


def synthesize(context: dict[str, Any]) -> tuple[System, dict[str, dict[str, Any]]]:
    app = App(analytics_reporting=False, context={**cdk_context(), "aws:cdk:bundling-stacks": [], **context})
    system = build_system(app, nag=False)  # the gate is the default stage's test; a prefix changes no finding
    return system, {stack.stack_name: stack.template for stack in app.synth().stacks}


@pytest.fixture(scope="module")
def synthesized() -> tuple[System, dict[str, dict[str, Any]]]:
    # Given the example system synthesized with the context stage=dev (what cdk deploy -c stage=dev passes)
    return synthesize({"stage": "dev"})


@pytest.fixture(scope="module")
def templates(synthesized: tuple[System, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return synthesized[1]


def physical_names(template: dict[str, Any]) -> list[str]:
    return [resource["Properties"][key] for resource in template["Resources"].values()
            for key in NAME_PROPERTIES if isinstance(resource.get("Properties", {}).get(key), str)]


def test_a_stage_has_its_own_stacks(templates: dict[str, dict[str, Any]]) -> None:
    # Then every stack is there under the stage's prefix, and no unprefixed one
    assert sorted(templates) == sorted(f"dev-{name}" for name in BASE_STACKS)


def test_every_physical_name_of_a_stage_carries_its_prefix(templates: dict[str, dict[str, Any]]) -> None:
    # Then queues, topics, functions, APIs, log groups, the dashboard and the alarms are all the stage's own
    names = [name for template in templates.values() for name in physical_names(template)]
    assert len(names) > 40
    log_groups = ("/aws/lambda/dev-", "/aws/apigateway/dev-")  # a log group named after its function or API
    assert [n for n in names if not (n.startswith("dev-") or n.startswith(log_groups))] == []
    orders = physical_names(templates["dev-Orders"])
    assert {"dev-orders-commands.fifo", "dev-orders-commands-dlq.fifo", "dev-order-events.fifo", "dev-orders",
            "/aws/lambda/dev-orders"} <= set(orders)
    assert "dev-messaging-alarms" in physical_names(templates["dev-MessagingCore"])
    assert "dev-FifoMessaging" in physical_names(templates["dev-Monitoring"])


def test_a_stages_alarms_watch_its_own_queues_and_functions(templates: dict[str, dict[str, Any]]) -> None:
    # Then each alarm's metric names a resource of the stage, and its action is the stage's alarm topic
    alarms = [r["Properties"] for r in templates["dev-Monitoring"]["Resources"].values()
              if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert alarms
    for alarm in alarms:
        assert [d["Value"].startswith("dev-") for d in alarm["Dimensions"]] == [True]
        assert all(action["Fn::ImportValue"].startswith("dev-MessagingCore:") for action in alarm["AlarmActions"])


def test_a_stages_functions_publish_metrics_under_its_own_namespace(
    synthesized: tuple[System, dict[str, dict[str, Any]]],
) -> None:
    system, templates = synthesized
    functions = [r["Properties"] for t in templates.values() for r in t["Resources"].values()
                 if r["Type"] == "AWS::Lambda::Function"]
    assert {f["FunctionName"] for f in functions} >= {f"dev-{name}" for name in EXAMPLE_FUNCTIONS}
    assert len(functions) == len(system.functions)  # the added services' functions too
    assert {f["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] for f in functions} == {"dev-FifoMessaging"}


def test_a_stages_stacks_register_under_its_own_registry_path(templates: dict[str, dict[str, Any]]) -> None:
    # Then each stack's registration parameter is under /fifo-messaging/dev/stacks, none under the default's
    names = [r["Properties"]["Name"] for t in templates.values() for r in t["Resources"].values()
             if r["Type"] == "AWS::SSM::Parameter"]
    assert sorted(names) == sorted(f"/fifo-messaging/dev/stacks/{stack}" for stack in templates)


def test_stage_names_that_cannot_prefix_resources_are_refused() -> None:
    # Given names with upper case, a leading digit, a trailing hyphen, or too long for the queue names
    for bad in ("Dev", "1dev", "dev-", "dev_1", "a" * 17):
        with pytest.raises(StageError):
            check_stage(bad)
    # And the stack names of the default stage are unprefixed
    assert (stack_name(None, "Orders"), stack_name("qa-2", "Orders")) == ("Orders", "qa-2-Orders")


def test_a_stages_reply_queue_takes_replies_from_its_own_responders_only(templates: dict[str, dict[str, Any]]) -> None:
    # Then the responders' roles are on the stage's reply-sender path, and the stage's reply queue admits that path
    path = "/fifo-messaging/dev/reply-senders/"
    def of_type(stack: str, type_: str) -> list[dict[str, Any]]:
        return [r["Properties"] for r in templates[stack]["Resources"].values() if r["Type"] == type_]

    assert path in [role.get("Path") for role in of_type("dev-Orders", "AWS::IAM::Role")]
    policies = [json.dumps(p["PolicyDocument"]) for p in of_type("dev-MessagingCore", "AWS::SQS::QueuePolicy")]
    senders = [p for p in policies if "aws:PrincipalArn" in p]
    assert len(senders) == 1
    assert f":role{path}*" in senders[0] and "/default/" not in senders[0]
