"""The outbox relay's dead-letter queue through the DLQ tools, on the deployed example: the CLI finds it by its
output (``OrdersOutboxRelayDeadLetterQueueUrl``) as it finds every other DLQ, lists and counts its messages with the
relay's failure reason and deletes them; the console shows it as the DLQ of the relay's event source, with Delete
only, since no queue is behind it to retry into."""

from __future__ import annotations

import json

import pytest

from demo.run import System
from localcloud.console import CONSOLE
from messaging.envelope import Envelope
from messaging.producer import OutboxProducer
from tests.support.html_pages import table_rows, visible_text
from tests.support.operator import cli, console_client

pytestmark = pytest.mark.e2e

RELAY = "orders-outbox-relay"


def undeliverable(system: System, customer: str) -> Envelope:
    """An event staged through the outbox for a topic that does not exist: the relay dead-letters it for good."""
    missing_topic = system.outputs["OrderEventsTopicArn"].rsplit(":", 1)[0] + f":no-such-topic-{customer}.fifo"
    producer = OutboxProducer(system.outputs["OrdersOutboxTableName"], source="/tests/relay-dlq",
                              client=system.cloud.client("dynamodb"))
    with producer.transaction() as tx:
        staged = tx.publish(missing_topic, "orders.Noted", {"customer_id": customer}, partitionkey=customer)
    system.drain()
    return staged


def relay_dlq_name(system: System) -> str:
    return str(system.outputs["OrdersOutboxRelayDeadLetterQueueUrl"]).rsplit("/", 1)[-1]


def test_the_cli_lists_counts_and_deletes_the_relays_dead_letters(system: System, customer: str) -> None:
    # Given an outbox message the relay could not deliver (its topic does not exist)
    staged = undeliverable(system, customer)
    # When the operator lists the relay's DLQ by its name, as any other DLQ
    code, out, err = cli(system, "dlq", "list", RELAY, "--json")
    # Then the message is there with the relay's failure code and reason
    assert code == 0, err
    listing = json.loads(out)
    assert listing["dead_letter_url"] == system.outputs["OrdersOutboxRelayDeadLetterQueueUrl"]
    [mine] = [m for m in listing["messages"] if m["id"] == staged.id]
    assert mine["failure_code"] == "delivery_rejected" and mine["failure_reason"]
    assert mine["type"] == "orders.Noted"
    # And it is counted per code, and status shows the DLQ's depth in a row of its own
    code, out, _ = cli(system, "dlq", "list", RELAY, "--group-by", "code", "--json")
    assert code == 0 and json.loads(out)["by_code"]["delivery_rejected"] >= 1
    code, out, _ = cli(system, "status", "--no-age", "--json")
    [row] = [r for r in json.loads(out) if r["name"] == "OrdersOutboxRelay"]
    assert code == 0 and row["dead_letters"] >= 1 and row["url"] is None
    # And a redrive or a retry is refused with a one-line error: no queue is behind the relay's DLQ
    for action in (["redrive", RELAY], ["retry", RELAY, staged.id]):
        code, out, err = cli(system, "dlq", *action)
        assert code == 2 and len(err.strip().splitlines()) == 1, (action, err)
        assert err.startswith(f"error: OrdersOutboxRelay has no queue to {action[0]} to"), err
    # When it is deleted by its CloudEvent id
    code, out, err = cli(system, "dlq", "delete", RELAY, staged.id, "--yes")
    # Then it is gone
    assert code == 0, err
    code, out, _ = cli(system, "dlq", "list", RELAY, "--json")
    assert staged.id not in [m["id"] for m in json.loads(out)["messages"]]


def test_the_console_shows_the_relays_dead_letters_with_delete_only(system: System, customer: str) -> None:
    # Given an outbox message the relay could not deliver, and the console
    staged = undeliverable(system, customer)
    console = console_client(system)
    name = relay_dlq_name(system)
    # When the relay DLQ's page is read
    page = console.get(f"{CONSOLE}/queues/{name}").get_data(as_text=True)
    # Then it says whose dead letters these are and shows the message with its failure and a Delete link only
    text = visible_text(page)
    assert f"Dead-letter queue of the event source of function {RELAY}" in text
    [row] = [r for r in table_rows(page) if len(r) == 8 and r[3] == staged.id]
    assert row[4].startswith("delivery_rejected") and row[7] == "Delete"
    # And a retry or a redrive is refused with a reason, a delete asks first
    for action in ("retry", "redrive"):
        refused = console.get(f"{CONSOLE}/queues/{name}/confirm?action={action}&id={row[0]}")
        assert refused.status_code == 400 and "no queue is" in refused.get_data(as_text=True)
    asked = console.get(f"{CONSOLE}/queues/{name}/confirm?action=delete&id={row[0]}").get_data(as_text=True)
    assert ">Confirm delete</button>" in asked
    # When the delete is confirmed
    response = console.post(f"{CONSOLE}/queues/{name}/delete", data={"id": row[0], "confirm": "yes"})
    # Then it answers 303 with the outcome and the message is gone
    assert response.status_code == 303 and "Deleted+1+message" in response.headers["Location"]
    after = console.get(f"{CONSOLE}/queues/{name}").get_data(as_text=True)
    assert staged.id not in [r[3] for r in table_rows(after) if len(r) == 8]
