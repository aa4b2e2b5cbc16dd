"""The web console's pages (``/_console/``) built on the deployed example system: what a person reads on them.

The requests go through the endpoint's gateway (its ``/_console`` route) to the console, in-process; moto must never
see them.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from werkzeug.test import Client

from demo.run import System, order_data
from localcloud.console import CONSOLE
from tests.support.hostile import load_corpus
from tests.support.html_pages import links, table_rows, visible_text
from tests.support.operator import console_client

pytestmark = pytest.mark.e2e

HOSTILE_TYPE = "orders.<script>alert('type')</script>"


@pytest.fixture(scope="module")
def console(system: System) -> Client:
    """The console behind the gateway, as the server routes it."""
    return console_client(system)


def get(console: Client, path: str, status: int = 200) -> str:
    response = console.get(CONSOLE + path)
    text = response.get_data(as_text=True)
    assert response.status_code == status, f"{path}: {response.status_code} {visible_text(text)[:300]}"
    assert response.content_type.startswith("text/html") and "Traceback" not in text
    return text


def queue_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def attributes(system: System, url: str) -> dict[str, int]:
    found = system.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return {k: int(v) for k, v in found.items() if k.startswith("ApproximateNumberOfMessages")}


@pytest.fixture
def waiting_event(system: System, customer: str) -> Iterator[dict[str, str]]:
    """A CloudEvent with a hostile type waiting in the notifications DLQ (no consumer reads it); removed afterwards."""
    url = system.outputs["NotificationsDeadLetterQueueUrl"]
    body = json.dumps({"specversion": "1.0", "id": f"evt-{customer}", "source": "/tests", "type": HOSTILE_TYPE,
                       "kind": "event", "time": "2026-12-01T00:00:00Z", "partitionkey": customer, "data": {}})
    sent = system.sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=customer,
                                   MessageDeduplicationId=customer)
    yield {"url": url, "message_id": sent["MessageId"], "id": f"evt-{customer}"}
    for message in system.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        system.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_the_topology_lists_every_queue_with_the_depth_sqs_reports(
    system: System, console: Client, waiting_event: dict[str, str]
) -> None:
    # Given the deployed stacks, idle, with one message waiting in the notifications DLQ
    system.drain()
    # When the topology page is read
    page = get(console, "/")
    # Then every queue SQS lists is on it with the depth SQS reports: a service queue in its own row, a DLQ in the
    # row of the queue it serves
    rows = {row[0]: row for row in table_rows(page) if len(row) == 7}
    urls = system.sqs.list_queues()["QueueUrls"]
    assert len(urls) == 21  # 10 service queues (the order saga's, billing's credit and inventory's among them), their
    # 10 DLQs, and the outbox relay's DLQ (no queue redrives to it)
    for url in urls:
        name, depth = queue_name(url), attributes(system, url)
        if "-dlq" in name and name != "orders-outbox-relay-dlq":
            total = sum(depth.values())
            [cell] = [row[6] for row in rows.values() if row[6].startswith(f"{name}:")]
            assert cell.startswith(f"{name}: {total} message"), cell
        else:
            assert rows[name][2:5] == [str(depth["ApproximateNumberOfMessages"]),
                                       str(depth["ApproximateNumberOfMessagesNotVisible"]),
                                       str(depth["ApproximateNumberOfMessagesDelayed"])]
    assert rows["notifications.fifo"][6].startswith("notifications-dlq.fifo: 1 message")
    # And each topic lists its subscribers with their filter policies
    subscriptions = {row[0]: row[2] for row in table_rows(page) if len(row) == 3}
    assert subscriptions["billing.fifo"] == ('{"type": ["orders.OrderCreated", "orders.OrderCancelled"], '
                                             '"kind": ["event"]} (on the MessageBody)')
    assert subscriptions["notifications.fifo"].startswith('{"type": ["orders.OrderCreated"], "kind": ["event"]}')
    assert {"quotes-standard.fifo", "quotes-express.fifo", "quotes-economy.fifo"} <= set(subscriptions)


def test_a_queue_page_shows_its_messages_without_receiving_them(
    system: System, console: Client, waiting_event: dict[str, str], customer: str
) -> None:
    # Given a message waiting in a FIFO queue
    path = f"/queues/{queue_name(waiting_event['url'])}"
    # When its page is read, twice
    get(console, path)
    page = get(console, path)
    # Then it lists the message: id, group, type (escaped, never markup), its CloudEvent id linking to its journey
    [row] = [r for r in table_rows(page) if r[0] == waiting_event["message_id"]]
    assert row[1:4] == [customer, HOSTILE_TYPE, waiting_event["id"]]
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert (waiting_event["id"], f"{CONSOLE}/messages/{waiting_event['id']}") in links(page)
    # And looking neither received it nor held its group: the first receive gets it at once, received once
    [received] = system.sqs.receive_message(QueueUrl=waiting_event["url"], MessageSystemAttributeNames=["All"],
                                            VisibilityTimeout=0)["Messages"]
    assert received["MessageId"] == waiting_event["message_id"]
    assert received["Attributes"]["ApproximateReceiveCount"] == "1"


def test_a_dead_letter_page_shows_each_failure_of_the_hostile_corpus_escaped(
    system: System, console: Client, customer: str
) -> None:
    # Given the hostile corpus' commands, and one whose type is markup, sent to the orders queue and dead-lettered
    cases = [case for case in load_corpus() if case.target == "commands"]
    replies = system.outputs["ReplyQueueUrl"]
    for index, case in enumerate(cases):
        system.sqs.send_message(QueueUrl=system.orders_queue, MessageGroupId=customer,
                                MessageDeduplicationId=f"{customer}-{index}",
                                MessageBody=case.body(customer, replies_url=replies,
                                                      bucket=system.outputs["ClaimCheckBucketName"]))
    system.client.notify(system.orders_queue, HOSTILE_TYPE, {}, partitionkey=customer)
    system.drain()
    # When the orders DLQ's page is read
    page = get(console, f"/queues/{queue_name(system.outputs['OrdersCommandDeadLetterQueueUrl'])}")
    # Then each of them is listed in its group with its failure code and reason
    mine = [row for row in table_rows(page) if len(row) == 8 and row[1] == customer]
    codes = sorted(row[4].split(":", 1)[0] for row in mine)
    assert codes == sorted([case.code for case in cases] + ["unknown_type"])
    assert all(len(row[4].split(":", 1)[1].strip()) > 3 for row in mine), "a failure without its reason"
    # And what came from the messages is text, never markup
    assert "<script>alert" not in page
    assert any(HOSTILE_TYPE in row[4] for row in mine)
    # And the Redrive action is offered (it asks first), and each message's Retry and Delete
    assert 'method="get"' in page and ">Redrive</button>" in page
    assert all(row[7] == "Retry Delete" for row in mine)


def test_the_redrive_action_asks_first_then_moves_the_dead_letters_back_once_and_redirects(
    system: System, console: Client, customer: str
) -> None:
    # Given a poison command in the orders DLQ
    sent = system.client.notify(system.orders_queue, "orders.CreateOrder",
                                {"customer_id": customer, "lines": [{"sku": "x", "quantity": "lots",
                                                                     "unit_price": "1"}]}, partitionkey=customer)
    system.drain()
    dlq = system.outputs["OrdersCommandDeadLetterQueueUrl"]
    present = attributes(system, dlq)["ApproximateNumberOfMessages"]
    assert present >= 1
    path = f"{CONSOLE}/queues/{queue_name(dlq)}"
    # When a redrive is posted without the confirmation / Then it is sent to the confirmation page, nothing moved
    response = console.post(f"{path}/redrive", data={})
    assert response.status_code == 303 and response.headers["Location"] == f"{path}/confirm?action=redrive"
    assert attributes(system, dlq)["ApproximateNumberOfMessages"] == present
    confirmation = get(console, f"/queues/{queue_name(dlq)}/confirm?action=redrive")
    assert ">Confirm redrive</button>" in confirmation and 'name="confirm" value="yes"' in confirmation
    # When it is confirmed
    response = console.post(f"{path}/redrive", data={"confirm": "yes"})
    # Then the answer is a redirect to the queue page, which says it moved every message present, none failed
    assert response.status_code == 303 and response.headers["Location"].startswith(f"{path}?notice=")
    outcome = visible_text(console.get(response.headers["Location"]).get_data(as_text=True))
    assert f"moved {present} message(s) back to orders-commands.fifo" in outcome and "0 failed" in outcome
    # And, still invalid, the command came back to the DLQ once, marked by that run
    system.drain()
    page = get(console, f"/queues/{queue_name(dlq)}")
    [row] = [r for r in table_rows(page) if len(r) == 8 and r[3] == sent.id]
    assert row[4].startswith("invalid_payload") and "came back from redrive" in row[4]
    assert attributes(system, dlq)["ApproximateNumberOfMessages"] == present


def test_retry_and_delete_of_one_dead_letter_ask_first_and_answer_303(
    system: System, console: Client, customer: str
) -> None:
    # Given two poison commands in the orders DLQ
    sent = [system.client.notify(system.orders_queue, "orders.CreateOrder",
                                 {"customer_id": customer, "lines": [{"sku": f"x{n}", "quantity": "lots",
                                                                      "unit_price": "1"}]}, partitionkey=customer)
            for n in range(2)]
    system.drain()
    dlq = queue_name(system.outputs["OrdersCommandDeadLetterQueueUrl"])
    rows = {r[3]: r for r in table_rows(get(console, f"/queues/{dlq}")) if len(r) == 8}
    first, second = rows[sent[0].id][0], rows[sent[1].id][0]
    # When the first one's Delete link is followed / Then a confirmation page names it, nothing deleted yet
    confirmation = get(console, f"/queues/{dlq}/confirm?action=delete&id={first}")
    assert f"message {first}: 1 message(s)" in visible_text(confirmation)
    assert ">Confirm delete</button>" in confirmation and sent[0].id in rows
    # When the confirmation is posted / Then 303 back to the queue page, which says so, and the message is gone
    response = console.post(f"{CONSOLE}/queues/{dlq}/delete", data={"id": first, "confirm": "yes"})
    assert response.status_code == 303
    assert "Deleted 1 message(s); 0 not found; 0 failed." in visible_text(
        console.get(response.headers["Location"]).get_data(as_text=True))
    # When the second is retried, confirmed / Then 303, and it went back to the orders queue (and, invalid, back here)
    response = console.post(f"{CONSOLE}/queues/{dlq}/retry", data={"id": second, "confirm": "yes"})
    assert response.status_code == 303
    assert "Retried 1 message(s) back to orders-commands.fifo" in visible_text(
        console.get(response.headers["Location"]).get_data(as_text=True))
    system.drain()
    left = {r[3]: r for r in table_rows(get(console, f"/queues/{dlq}")) if len(r) == 8}
    assert sent[0].id not in left and sent[1].id in left and left[sent[1].id][0] != second
    # And the DLQ page counts its messages per failure code, each code with its own Retry all / Delete all
    page = get(console, f"/queues/{dlq}")
    [code_row] = [r for r in table_rows(page) if len(r) == 3 and r[0] == "invalid_payload"]
    assert int(code_row[1]) >= 1 and code_row[2] == "Retry all Delete all"
    asked = visible_text(get(console, f"/queues/{dlq}/confirm?action=delete&code=invalid_payload"))
    assert f"failure code invalid_payload: {code_row[1]} message(s)" in asked
    # And the journey page says where the retried one is now: back in the DLQ, redriven once
    journey = visible_text(get(console, f"/messages/{sent[1].id}"))
    assert f"Now: in the dead-letter queue {dlq}" in journey and "redriven 1 time(s)" in journey


def test_the_topology_and_queue_pages_show_each_triggers_state(system: System, console: Client) -> None:
    # Given the orders trigger disabled
    [mapping] = [m for m in system.cloud.deployment.mappings if m.event_source_arn.endswith(":orders-commands.fifo")]
    system.cloud.update_mapping(dataclasses.replace(mapping, enabled=False))
    try:
        # When the topology and the orders queue's page are read / Then they say the trigger is disabled
        rows = {row[0]: row for row in table_rows(get(console, "/")) if len(row) == 7}
        assert rows["orders-commands.fifo"][1] == f"{mapping.function_name} (disabled)"
        assert rows["billing.fifo"][1].endswith("(enabled)")
        assert f"Consumed by {mapping.function_name} (disabled)." in visible_text(
            get(console, "/queues/orders-commands.fifo"))
    finally:
        system.cloud.update_mapping(dataclasses.replace(mapping, enabled=True))


def test_unknown_names_are_404_pages_and_bad_posts_400_with_their_reason(system: System, console: Client) -> None:
    # Given the console of the deployed system
    dlq = queue_name(system.outputs["OrdersCommandDeadLetterQueueUrl"])
    # When unknown things are asked for, Then each is a 404 page saying what was not found
    assert "no deployed queue is called 'nope.fifo'" in visible_text(get(console, "/queues/nope.fifo", 404))
    assert "no queue holds 'no-such-id' and no log line of any function mentions it" in visible_text(
        get(console, "/messages/no-such-id", 404))
    assert "no page at /_console/elsewhere" in visible_text(get(console, "/elsewhere", 404))
    assert "no deployed dashboard" in visible_text(get(console, "/dashboard?name=Nope", 404))
    # When bad posts are sent, Then each is a 400 page with a one-line reason, and nothing was moved
    before = attributes(system, system.outputs["OrdersCommandDeadLetterQueueUrl"])
    refused = {
        "not a DLQ": ("/queues/orders-commands.fifo/redrive", {}, {}),
        "bad limit": (f"/queues/{dlq}/redrive", {"limit": "lots"}, {}),
        "unknown field": (f"/queues/{dlq}/redrive", {"queue": "x"}, {}),
        "cross-site": (f"/queues/{dlq}/redrive", {}, {"Origin": "http://evil.example"}),
        "no such action": ("/queues/orders-commands.fifo", {}, {}),
    }
    for what, (path, form, headers) in refused.items():
        response = console.post(CONSOLE + path, data=form, headers=headers)
        reasons = re.findall(r'<p class="bad">(.*?)</p>', response.get_data(as_text=True))
        assert response.status_code == 400 and len(reasons) == 1 and "\n" not in reasons[0], what
    assert console.post(f"{CONSOLE}/queues/nope.fifo/redrive").status_code == 404
    assert attributes(system, system.outputs["OrdersCommandDeadLetterQueueUrl"]) == before
    # And a malformed id is refused, the search form's empty query too
    assert "is not a message id" in visible_text(get(console, "/messages/" + quote('a"b', safe=""), 400))
    assert get(console, "/messages?id=", 400)


def test_the_journey_page_shows_every_hop_of_a_request_and_links_its_event(
    system: System, console: Client, customer: str
) -> None:
    # Given a CreateOrder request, processed and answered
    reply = system.client.request(system.orders_queue, "orders.CreateOrder", order_data(customer),
                                  partitionkey=customer, timeout=30)
    system.drain()
    # When its journey is looked up by its correlation id (the search form redirects there)
    found = console.get(f"{CONSOLE}/messages?id={reply.correlation_id}")
    assert found.status_code == 303
    page = get(console, found.headers["Location"].removeprefix(CONSOLE))
    # Then the hops read: orders processed the command, billing and notifications the event, the reply was stored
    hops = [(row[1], row[3], row[4]) for row in table_rows(page) if len(row) == 7 and row[0] != "time (UTC)"]
    assert hops[0] == ("orders", "orders.CreateOrder", "processed")
    assert {("billing", "orders.OrderCreated", "processed"), ("notifications", "orders.OrderCreated", "processed"),
            ("reply-router", "orders.CreateOrder.Reply", "reply stored")} <= set(hops)
    # And the event links to its own journey, where both subscribers applied it
    [event_link] = {href for text, href in links(page) if href.startswith(f"{CONSOLE}/messages/")
                    and text not in (reply.correlation_id, reply.envelope.id)}
    event_page = get(console, event_link.removeprefix(CONSOLE))
    assert {row[1] for row in table_rows(event_page) if len(row) == 7 and row[4] == "processed"} == {
        "billing", "notifications"}


def test_the_dashboard_draws_every_widget_of_the_deployed_body_with_the_local_metrics(
    system: System, console: Client, customer: str
) -> None:
    # Given a dead letter in the orders DLQ and the minute it arrived in published
    system.client.notify(system.orders_queue, "orders.Teleport", {}, partitionkey=customer)
    system.drain()
    clock = system.cloud.clock
    clock.advance(60 - clock.now() % 60 + 0.5)
    dlq = system.outputs["OrdersCommandDeadLetterQueueUrl"]
    depth = attributes(system, dlq)["ApproximateNumberOfMessages"]
    cloudwatch = system.cloud.client("cloudwatch")
    body = json.loads(cloudwatch.get_dashboard(DashboardName=system.outputs["DashboardName"])["DashboardBody"])
    # When the dashboard page is read
    page = get(console, "/dashboard")
    # Then every widget is drawn: each metric widget a chart under its title, the alarms with their states
    widgets = body["widgets"]
    assert page.count('<section class="widget"') == len(widgets)
    charts = [w for w in widgets if w["type"] == "metric"]
    assert page.count("<svg") == len(charts)
    text = visible_text(page)
    assert all(w["properties"]["title"] in text for w in charts)
    # And the orders DLQ depth widget shows the depth the minute published
    widget = text[text.index("OrdersCommand: dead-letter queue depth"):].split("Billing:", 1)[0]
    assert f"\N{BLACK SQUARE} {queue_name(dlq)}: {depth} " in widget, widget
    # And every alarm of the Monitoring stack is listed with the state CloudWatch has for it (the order saga's alarms
    # belong to its own stack, not to the dashboard)
    saga_alarms = {"order-saga sagas failed", "order-saga sagas past their deadline"}
    alarms = [a for a in cloudwatch.describe_alarms()["MetricAlarms"] if a["AlarmName"] not in saga_alarms]
    rows = {row[0]: row[1] for row in table_rows(page) if len(row) == 4}
    assert {a["AlarmName"]: a["StateValue"] for a in alarms} == {name: rows[name] for name in rows if name != "alarm"}
    assert rows[f"{queue_name(dlq)} has messages"] == "ALARM"


def test_the_journey_of_a_saga_command_links_to_the_saga_page(system: System, console: Client) -> None:
    # Given a placed order rejected at the stock step (its credit reserved, then released)
    customer = f"cust-saga-{re.sub('[^a-z0-9]', '', str(id(console)))[-6:]}"
    client, outputs = system.client, system.outputs
    client.send(outputs["BillingCommandQueueUrl"], "billing.SetCreditLimit", {"customer_id": customer, "limit": "50"})
    system.drain()
    lines = [{"sku": "no-such-sku", "quantity": 1, "unit_price": "1.00"}]
    saga = client.send(outputs["OrderSagasQueueUrl"], "orders.PlaceOrder", {"customer_id": customer, "lines": lines})
    system.drain()
    # When the journey of its credit command is read, then the page it links to
    journey = get(console, f"/messages/{quote(saga + ':credit:do', safe='')}")
    saga_path = f"{CONSOLE}/sagas/{saga}"
    page = visible_text(get(console, f"/sagas/{saga}"))
    # Then the journey links to the saga, whose page shows its state, steps and what it received
    assert saga_path in [href for _, href in links(journey)]
    assert "rejected" in page and "compensated" in page and "refused" in page and "out_of_stock" in page
    get(console, "/sagas/no-such-saga", status=404)
