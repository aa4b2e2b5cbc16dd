"""The journey of a message, read back from the functions' logs in CloudWatch Logs (what ``cli trace`` shows)."""

from __future__ import annotations

import pytest

from cli.trace import trace
from demo.run import System, order_data

pytestmark = pytest.mark.e2e


def test_the_journey_of_a_request_shows_its_processing_its_event_at_each_subscriber_and_its_reply(
    system: System, customer: str
) -> None:
    # Given a CreateOrder sent as a request, processed and answered
    reply = system.client.request(system.orders_queue, "orders.CreateOrder", order_data(customer),
                                  partitionkey=customer, timeout=30)
    system.drain()
    system.cloud.logs.flush()
    # When its journey is traced by its id
    journey = trace(system.cloud.client("logs"), reply.correlation_id)
    # Then it lists orders processing the command (its event published, its reply sent) ...
    (processed,) = [h for h in journey.hops if h.message_id == reply.correlation_id and h.what == "processed"]
    assert processed.function.startswith("orders") or processed.service == "orders"
    assert "published 1 event(s)" in processed.detail and reply.envelope.id in processed.detail
    # ... the OrderCreated event it emitted, applied by billing and by notifications ...
    deliveries = {h.service for h in journey.hops if h.type == "orders.OrderCreated" and h.what == "processed"}
    assert deliveries == {"billing", "notifications"}
    assert all(h.caused_by == reply.correlation_id for h in journey.hops if h.type == "orders.OrderCreated")
    # ... and the reply stored by the reply router; the command's processing is listed before its event's deliveries
    assert any(h.what == "reply stored" and h.service == "reply-router" for h in journey.hops)
    position = journey.hops.index(processed)
    assert all(journey.hops.index(h) > position for h in journey.hops if h.type == "orders.OrderCreated")


def test_the_journey_of_a_poison_command_ends_in_the_dead_letter_queue_with_its_reason(
    system: System, customer: str
) -> None:
    # Given a CreateOrder whose payload fails validation
    sent = system.client.notify(system.orders_queue, "orders.CreateOrder",
                                {"customer_id": customer, "lines": [{"sku": "book", "quantity": "lots",
                                                                     "unit_price": "1.00"}]},
                                partitionkey=customer)
    system.drain()
    system.cloud.logs.flush()
    # When it is traced
    journey = trace(system.cloud.client("logs"), sent.id)
    # Then the one hop says where it went and why
    (hop,) = journey.hops
    assert hop.what == "dead-lettered" and hop.detail.startswith("invalid_payload")
    assert "dead-lettered" in journey.render()


def test_an_unknown_id_has_no_journey() -> None:
    class NoLogs:
        def describe_log_groups(self, **_: object) -> dict[str, object]:
            return {"logGroups": [{"logGroupName": "/aws/lambda/orders"}]}

        def filter_log_events(self, **_: object) -> dict[str, object]:
            return {"events": []}

    journey = trace(NoLogs(), "nope")
    assert journey.hops == [] and journey.render() == "no log line mentions nope"
