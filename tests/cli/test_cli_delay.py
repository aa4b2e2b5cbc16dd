"""``notify|send ... --delay SECONDS``: the message is scheduled (EventBridge Scheduler) instead of sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from test_cli_app import CANCEL, ORDER, FakeMessaging, run

from messaging.errors import InvalidRequest

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("command", ["notify", "send"])
def test_delay_schedules_the_message_that_many_seconds_ahead(command: str) -> None:
    # Given the CLI with a fake messaging client
    fake = FakeMessaging()
    before = datetime.now(UTC).timestamp()
    # When the message is given --delay 20
    result = run(["--json", command, "orders-command", "orders.CreateOrder", "-k", "c-1", "-d", ORDER, "--delay", "20"],
                 fake)
    # Then the client was asked to deliver it 20 s from now, and the JSON says when
    after = datetime.now(UTC).timestamp()
    assert result.code == 0, result.err
    deliver_at = fake.calls[0][2]["deliver_at"]
    assert before + 20 <= deliver_at.timestamp() <= after + 20
    assert json.loads(result.out)["deliver_at"] == deliver_at.isoformat(timespec="seconds")


@pytest.mark.parametrize("delay", ["0", "-5", "soon"])
def test_a_bad_delay_is_a_one_line_error_and_sends_nothing(delay: str) -> None:
    fake = FakeMessaging()
    with pytest.raises(SystemExit) as raised:
        run(["notify", "orders-command", "orders.CancelOrder", "-k", "c-1", "-d", CANCEL, "--delay", delay], fake)
    assert raised.value.code == 2 and fake.calls == []


def test_a_delay_the_client_refuses_exits_2() -> None:
    # Given a client that refuses the time (too far ahead, or no schedule group in the stacks)
    fake = FakeMessaging()
    fake.error = InvalidRequest("deliver_at must be at most 365 days ahead")
    # When the message is sent with it
    result = run(["notify", "orders-command", "orders.CancelOrder", "-k", "c-1", "-d", CANCEL, "--delay", "99999999"],
                 fake)
    # Then one line on stderr and exit status 2
    assert result.code == 2 and result.err == "error: deliver_at must be at most 365 days ahead\n"


def test_without_delay_nothing_is_scheduled() -> None:
    fake = FakeMessaging()
    result = run(["notify", "orders-command", "orders.CancelOrder", "-k", "c-1", "-d", CANCEL], fake)
    assert result.code == 0 and "deliver_at" not in fake.calls[0][2]
