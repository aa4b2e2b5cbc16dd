"""The order of a journey's hops when the clocks of the lines disagree with causality (no network)."""

from __future__ import annotations

import json
from typing import Any

from cli.trace import trace


class LogsOf:
    """A CloudWatch Logs fake holding given lines per log group; ``FilterLogEvents`` matches a quoted term."""

    def __init__(self, lines: dict[str, list[tuple[int, dict[str, Any]]]]) -> None:
        self.lines = lines

    def describe_log_groups(self, **_: object) -> dict[str, object]:
        return {"logGroups": [{"logGroupName": group} for group in self.lines]}

    def filter_log_events(self, *, logGroupName: str, filterPattern: str, **_: object) -> dict[str, object]:  # noqa: N803
        term = filterPattern.strip('"')
        events = [{"timestamp": at, "message": json.dumps(line)}
                  for at, line in self.lines[logGroupName] if term in json.dumps(line)]
        return {"events": events}


def _line(message_id: str, kind: str, type_: str, service: str, **extra: Any) -> dict[str, Any]:
    return {"message": "message processed", "cloudevent_id": message_id, "kind": kind, "cloudevent_type": type_,
            "service": service, "duplicate": False, **extra}


def test_an_event_applied_before_its_command_logged_is_listed_after_the_command() -> None:
    # Given a command whose "processed" line was written 4 ms after a subscriber applied the event it published
    # (the line is written once the command is done, and the event was already on its way)
    logs = LogsOf({
        "/aws/lambda/orders": [(1000, _line("c-1", "command", "orders.CreateOrder", "orders", event_ids=["e-1"]))],
        "/aws/lambda/billing": [(996, _line("e-1", "event", "orders.OrderCreated", "billing", event_ids=["e-2"]))],
        "/aws/lambda/ledger": [(995, _line("e-2", "event", "billing.InvoiceIssued", "ledger"))],
    })
    # When the command is traced
    journey = trace(logs, "c-1")
    # Then causes come first, each hop keeping its own time
    assert [(hop.message_id, hop.at_ms) for hop in journey.hops] == [("c-1", 1000), ("e-1", 996), ("e-2", 995)]
    assert [hop.caused_by for hop in journey.hops] == [None, "c-1", "e-1"]


def test_hops_without_a_causal_link_stay_in_time_order() -> None:
    # Given a command delivered twice (a failed attempt, then processed) and an event applied later by two subscribers
    logs = LogsOf({
        "/aws/lambda/orders": [
            (100, {"message": "processing failed; SQS will retry", "cloudevent_id": "c-1", "service": "orders",
                   "cloudevent_type": "orders.CreateOrder", "exception_name": "ClientError"}),
            (200, _line("c-1", "command", "orders.CreateOrder", "orders", event_ids=["e-1"])),
        ],
        "/aws/lambda/billing": [(260, _line("e-1", "event", "orders.OrderCreated", "billing"))],
        "/aws/lambda/notifications": [(230, _line("e-1", "event", "orders.OrderCreated", "notifications"))],
    })
    # When it is traced
    journey = trace(logs, "c-1")
    # Then the hops read in time order
    assert [(hop.service, hop.what, hop.at_ms) for hop in journey.hops] == [
        ("orders", "failed, SQS retries it", 100), ("orders", "processed", 200),
        ("notifications", "processed", 230), ("billing", "processed", 260)]
