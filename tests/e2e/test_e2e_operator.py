"""The operator's day through the local cloud, with the CLI: where a message is (waiting behind a stopped trigger,
dead-lettered with its code, by CloudEvent id or SQS message id), and dead letters handled one by one (retry, delete,
edit-retry, counts per code), each redriven message's hops saying it came back."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from cli import queues
from demo.run import System, order_data
from tests.support.operator import cli

pytestmark = pytest.mark.e2e


def body_of(message: dict[str, Any]) -> dict[str, Any]:
    """A dead letter's body as JSON, or {} for one that is not JSON (other tests of the package poison the queue)."""
    try:
        body = json.loads(message["Body"])
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return {}
    return body if isinstance(body, dict) else {}


@pytest.fixture
def orders_trigger_stopped(system: System) -> Iterator[None]:
    [mapping] = [m for m in system.cloud.deployment.mappings if m.event_source_arn.endswith(":orders-commands.fifo")]
    system.cloud.update_mapping(dataclasses.replace(mapping, enabled=False))
    try:
        yield
    finally:
        system.cloud.update_mapping(dataclasses.replace(mapping, enabled=True))
        system.drain()


def test_a_command_behind_a_stopped_trigger_is_waiting_in_the_orders_queue_by_either_id(
    system: System, customer: str, orders_trigger_stopped: None
) -> None:
    # Given two commands of one customer sent while the orders trigger is stopped
    first = system.client.send(system.orders_queue, "orders.CreateOrder", order_data(customer), partitionkey=customer)
    second = system.client.send(system.orders_queue, "orders.CreateOrder", order_data(customer, sku="pen"),
                                partitionkey=customer)
    # When the second is traced by its CloudEvent id
    code, out, _ = cli(system, "trace", second)
    # Then it is waiting in the orders queue, in its customer's group, behind the first
    assert code == 0
    [now] = [line for line in out.splitlines() if line.startswith("now: ")]
    assert now.startswith("now: waiting in orders-commands.fifo since ")
    assert f"group {customer}, behind 1 message(s) of its group ({first})" in now
    # When it is traced by its SQS message id / Then the same answer
    [sqs_id] = [m["MessageId"] for m in queues.peek(system.sqs, system.orders_queue)
                if body_of(m).get("id") == second]
    code, out, _ = cli(system, "trace", sqs_id, "--json")
    assert code == 0
    location = json.loads(out)["location"]
    assert (location["state"], location["cloudevent_id"], location["ahead"]) == ("waiting", second, [first])


def test_dead_letters_found_counted_retried_deleted_and_corrected_one_by_one(system: System, customer: str) -> None:
    # Given three messages in the orders DLQ: a valid command SQS moved there after an outage (no failure code),
    # and two commands whose payload failed validation
    dlq = system.outputs["OrdersCommandDeadLetterQueueUrl"]
    valid = system.client.notify(system.orders_queue, "orders.CreateOrder", order_data(customer), partitionkey=customer)
    system.drain()
    outage = {"specversion": "1.0", "id": f"outage-{customer}", "source": "/web", "type": "orders.CreateOrder",
              "kind": "command", "time": "2026-12-01T10:00:00Z", "partitionkey": customer,
              "datacontenttype": "application/json", "data": order_data(customer, sku="lamp")}
    system.sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(outage), MessageGroupId=customer,
                            MessageDeduplicationId=f"outage-{customer}")
    bad = [system.client.notify(system.orders_queue, "orders.CreateOrder",
                                {"customer_id": customer, "lines": [{"sku": f"s{n}", "quantity": "lots",
                                                                     "unit_price": "1.00"}]},
                                partitionkey=customer).id for n in range(2)]
    system.drain()
    system.cloud.logs.flush()
    assert valid.id
    # When a poison command is traced / Then it is in the DLQ with its code
    code, out, _ = cli(system, "trace", bad[0])
    assert code == 0
    assert f"now: in the dead-letter queue {queues.queue_name_of(dlq)}" in out and "failure invalid_payload" in out
    # When the DLQ is counted by code / Then the codes are counted (the outage's message has none)
    code, out, _ = cli(system, "dlq", "list", "orders-command", "--group-by", "code", "--json")
    by_code = json.loads(out)["by_code"]
    assert code == 0 and by_code["invalid_payload"] >= 2 and by_code["(no code: maxReceiveCount)"] >= 1
    # When the outage's command is retried and the first poison command deleted
    assert cli(system, "dlq", "retry", "orders-command", f"outage-{customer}")[0] == 0
    assert cli(system, "dlq", "delete", "orders-command", bad[0], "--yes")[0] == 0
    system.drain()
    system.cloud.logs.flush()
    # Then the retried command was processed (its order exists) and its hop says it was redriven
    skus = sorted(skus_of(system, customer))
    assert skus == ["book", "lamp"]
    code, out, _ = cli(system, "trace", f"outage-{customer}")
    assert "processed (redriven 1 time(s))" in out and "now: done" in out
    # And the deleted one is gone while the third stays
    left = {body_of(m).get("id") for m in queues.peek(system.sqs, dlq, limit=100)}
    assert bad[0] not in left and bad[1] in left and f"outage-{customer}" not in left
    # When the third is corrected and retried, keeping its source and id
    [third] = [body_of(m) for m in queues.peek(system.sqs, dlq) if body_of(m).get("id") == bad[1]]
    fixed = {**third, "data": order_data(customer, sku="s1")}
    code, _, err = cli(system, "dlq", "edit-retry", "orders-command", bad[1], "--body", json.dumps(fixed))
    assert code == 0, err
    system.drain()
    # Then it was applied
    assert "s1" in skus_of(system, customer)
    # And a correction that changes the id is a usage error that leaves nothing changed
    code, _, err = cli(system, "dlq", "edit-retry", "orders-command", bad[1], "--body", json.dumps({**fixed,
                                                                                                    "id": "x"}))
    assert code == 1 and "is not in OrdersCommand's DLQ" in err  # already corrected: gone from the DLQ


def skus_of(system: System, customer: str) -> list[str]:
    return [json.loads(order["lines"]["S"])[0]["sku"] for order in system.orders(customer)]
