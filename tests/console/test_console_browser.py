"""The web console in a real browser: a person opens http://localhost:PORT/_console/ of a running local cloud server
with the example system deployed, sends a CreateOrder through the product's client, and reads what happened.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from playwright.sync_api import Page, expect

from demo.run import System, order_data
from localcloud.server import LocalCloudServer

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

HOSTILE_TYPE = "orders.<img src=x onerror=alert(document.domain)>"


@pytest.fixture(scope="module")
def system(server: LocalCloudServer) -> System:
    """The product's client and the stack outputs, against the server's endpoint."""
    return System(server.cloud)


@pytest.fixture(scope="module")
def aws(server: LocalCloudServer) -> Any:
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name="us-east-1")
    return lambda service: session.client(service, endpoint_url=server.url)


@pytest.fixture(scope="module")
def request_id(system: System) -> str:
    """A CreateOrder request sent through the product's client, answered."""
    reply = system.client.request(system.orders_queue, "orders.CreateOrder", order_data("console-customer"),
                                  partitionkey="console-customer", timeout=30)
    system.drain()
    return reply.correlation_id


def depth_cells(page: Page, queue: str) -> tuple[str, str]:
    """(visible, in flight) of a service queue's row in the queues table of the topology page."""
    link = page.get_by_role("link", name=queue, exact=True)
    rows = [[" ".join(t.split()) for t in row.locator("td").all_inner_texts()]
            for row in page.locator("tr").filter(has=link).all()]
    [row] = [r for r in rows if len(r) == 7 and r[0] == queue]
    return row[2], row[3]


def dead_letter_cell(page: Page, dead_letter_queue: str) -> str:
    [cell] = [t for t in page.locator("td").all_inner_texts() if t.startswith(f"{dead_letter_queue}:")]
    return " ".join(cell.split())


def test_the_topology_lists_every_queue_with_its_depth(
    page: Page, server: LocalCloudServer, aws: Any, request_id: str
) -> None:
    # Given the example system after a CreateOrder request
    sqs = aws("sqs")
    # When a person opens the console
    page.goto(f"{server.url}/_console/")
    # Then every queue of the deployed stacks is listed with the depth SQS reports
    expect(page.get_by_role("heading", name="Topology")).to_be_visible()
    cloudformation = aws("cloudformation")
    deployed = {resource["PhysicalResourceId"].rsplit("/", 1)[-1]
                for stack in cloudformation.describe_stacks()["Stacks"]
                for resource in cloudformation.describe_stack_resources(StackName=stack["StackName"])["StackResources"]
                if resource["ResourceType"] == "AWS::SQS::Queue"}
    assert len(deployed) > 10
    checked = 0
    for url in sqs.list_queues()["QueueUrls"]:
        name = url.rsplit("/", 1)[-1]
        if name not in deployed:  # a queue of another test module of the session (they share moto's state)
            continue
        visible = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"]["ApproximateNumberOfMessages"]
        if "-dlq" in name and not name.endswith("-outbox-relay-dlq"):  # shown in the row of the queue it serves
            assert dead_letter_cell(page, name).startswith(f"{name}: {visible} message"), name
        else:  # a service queue, or the outbox relay's on-failure queue (it serves a stream, not a queue)
            assert depth_cells(page, name)[0] == visible, name
        checked += 1
    assert checked == len(deployed)
    # And the order-events topic shows its subscribers' filters
    expect(page.get_by_text('{"type": ["orders.OrderCreated"], "kind": ["event"]}')).to_be_visible()


def test_the_journey_of_a_request_shows_the_command_the_event_and_the_reply(
    page: Page, server: LocalCloudServer, request_id: str
) -> None:
    # Given a processed CreateOrder request; When a person looks its correlation id up from the console
    page.goto(f"{server.url}/_console/")
    page.get_by_label("message id").fill(request_id)
    page.get_by_role("button", name="Journey").click()
    # Then the journey lists orders processing the command, billing and notifications the event, the reply stored
    expect(page.get_by_role("heading", name=f"Journey of {request_id}")).to_be_visible()
    rows = [" ".join(t.split()) for t in page.locator("tbody tr").all_inner_texts()]
    assert re.search(r"orders .*orders\.CreateOrder processed published 1 event\(s\), replied .* \(success\)", rows[0])
    assert any(re.search(r"billing .*orders\.OrderCreated processed", r) for r in rows)
    assert any(re.search(r"notifications .*orders\.OrderCreated processed", r) for r in rows)
    assert any(re.search(r"reply-router .*orders\.CreateOrder\.Reply reply stored", r) for r in rows)
    # And the event links to its own journey
    event = page.locator("tbody tr").filter(has_text="billing").get_by_role("link").first
    event_id = event.inner_text()
    event.click()
    expect(page.get_by_role("heading", name=f"Journey of {event_id}")).to_be_visible()
    expect(page.locator("tbody tr").filter(has_text="orders.OrderCreated")).to_have_count(2)


@pytest.fixture
def orders_trigger_paused(aws: Any) -> Iterator[None]:
    """The orders function's trigger disabled (messages wait in the queue), enabled again afterwards."""
    lambda_api = aws("lambda")
    [mapping] = lambda_api.list_event_source_mappings(FunctionName="orders")["EventSourceMappings"]
    lambda_api.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    yield
    lambda_api.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)


def test_a_poison_command_shows_its_reason_in_the_dlq(
    page: Page, server: LocalCloudServer, system: System, aws: Any
) -> None:
    # Given a CreateOrder that fails validation, and a command whose type is markup, both dead-lettered
    system.client.notify(system.orders_queue, "orders.CreateOrder",
                         {"customer_id": "poison-1", "lines": [{"sku": "x", "quantity": "lots", "unit_price": "1"}]},
                         partitionkey="poison-1")
    aws("sqs").send_message(QueueUrl=system.orders_queue, MessageGroupId="poison-2", MessageDeduplicationId="p2",
                            MessageBody=json.dumps({"specversion": "1.0", "id": "p2", "source": "/x", "kind": "command",
                                                    "type": HOSTILE_TYPE, "time": "2026-12-01T00:00:00Z",
                                                    "partitionkey": "poison-2", "data": {}}))
    system.drain()
    # When a person follows the orders queue's DLQ from the topology
    page.goto(f"{server.url}/_console/")
    assert dead_letter_cell(page, "orders-commands-dlq.fifo").startswith("orders-commands-dlq.fifo: 2 messages")
    page.get_by_role("link", name="orders-commands-dlq.fifo", exact=True).click()
    # Then each dead letter shows its reason, and the markup in a type is shown as text
    expect(page.get_by_role("heading", name="Queue orders-commands-dlq.fifo")).to_be_visible()
    poison = " ".join(page.locator("tbody tr").filter(has_text="poison-1").inner_text().split())
    assert "poison-1 orders.CreateOrder" in poison
    assert "invalid_payload: data does not match CreateOrder" in poison and "valid integer" in poison
    expect(page.get_by_text(f"no handler is registered for command '{HOSTILE_TYPE}'")).to_be_visible()


def test_redrive_from_the_dlq_page_moves_the_dead_letters_back(
    page: Page, server: LocalCloudServer, system: System, orders_trigger_paused: None
) -> None:
    # Given two dead letters in the orders DLQ (the previous test) and the orders trigger paused
    page.goto(f"{server.url}/_console/queues/orders-commands-dlq.fifo")
    # When a person clicks Redrive / Then the console asks first
    page.get_by_role("button", name="Redrive").click()
    expect(page.get_by_role("heading", name="Redrive in orders-commands-dlq.fifo?")).to_be_visible()
    # When the person confirms
    page.get_by_role("button", name="Confirm redrive").click()
    # Then the queue page (a redirect: a reload posts nothing) says both went back to the orders queue
    expect(page.get_by_role("heading", name="Queue orders-commands-dlq.fifo")).to_be_visible()
    expect(page.get_by_text(re.compile(r"moved 2 message\(s\) back to orders-commands\.fifo.*0 failed"))
           ).to_be_visible()
    # And the topology shows them waiting in the orders queue, the DLQ empty
    page.goto(f"{server.url}/_console/")
    assert depth_cells(page, "orders-commands.fifo") == ("2", "0")
    assert dead_letter_cell(page, "orders-commands-dlq.fifo").startswith("orders-commands-dlq.fifo: 0 messages")


def test_a_redriven_poison_command_comes_back_once_marked(page: Page, server: LocalCloudServer, system: System) -> None:
    # Given the redriven commands, still invalid, processed again once the trigger runs (the previous test)
    system.drain()
    # When a person opens the DLQ again
    page.goto(f"{server.url}/_console/queues/orders-commands-dlq.fifo")
    # Then both are back, each marked as come back from that redrive
    expect(page.get_by_text("came back from redrive")).to_have_count(2)
    page.goto(f"{server.url}/_console/")
    assert depth_cells(page, "orders-commands.fifo") == ("0", "0")
    assert dead_letter_cell(page, "orders-commands-dlq.fifo").startswith("orders-commands-dlq.fifo: 2 messages")


def test_the_dashboard_draws_its_widgets(page: Page, server: LocalCloudServer, system: System, aws: Any) -> None:
    # Given the deployed dashboard and the minute of the traffic above published
    clock = server.cloud.clock
    clock.advance(60 - clock.now() % 60 + 0.5)
    body = json.loads(aws("cloudwatch").get_dashboard(DashboardName=system.outputs["DashboardName"])["DashboardBody"])
    charts = [w for w in body["widgets"] if w["type"] == "metric"]
    # When a person opens the dashboard
    page.goto(f"{server.url}/_console/")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    # Then every widget is drawn, each metric widget as a chart under its title
    expect(page.get_by_role("heading", name="Dashboard FifoMessaging")).to_be_visible()
    expect(page.locator("section.widget")).to_have_count(len(body["widgets"]))
    expect(page.locator("section.widget svg")).to_have_count(len(charts))
    expect(page.get_by_role("heading", name="orders: invocations / errors / throttles")).to_be_visible()
    # And the orders DLQ's depth and its alarm show the dead letters
    widget = page.locator("section.widget").filter(has_text="OrdersCommand: dead-letter queue depth")
    expect(widget.locator(".legend")).to_have_text(re.compile(r"orders-commands-dlq\.fifo: 2"))
    alarm = page.locator("tr").filter(has_text="orders-commands-dlq.fifo has messages")
    expect(alarm.locator("td").nth(1)).to_have_text("ALARM")
