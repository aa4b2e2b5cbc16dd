from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from cli.render import Output, dumps, table

pytestmark = pytest.mark.unit


def test_table_aligns_columns_and_right_aligns_numbers() -> None:
    # Given rows with text, numbers and an unknown value
    rows = [["OrdersCommand", 12, None], ["Billing", 3, 4.25]]
    # When rendered
    text = table(["queue", "visible", "age s"], rows)
    # Then headers are upper case, numbers are right-aligned and unknown values read n/a
    assert text.splitlines() == [
        "QUEUE          VISIBLE  AGE S",
        "OrdersCommand       12    n/a",
        "Billing              3    4.2",
    ]


def test_json_rendering_handles_dataclasses_and_datetimes() -> None:
    # Given a dataclass with a datetime
    @dataclass(frozen=True)
    class Row:
        name: str
        at: datetime

    # When dumped / Then it is plain JSON
    assert json.loads(dumps([Row("a", datetime(2026, 1, 2, tzinfo=UTC))])) == [
        {"name": "a", "at": "2026-01-02T00:00:00+00:00"}
    ]


def test_progress_writes_start_and_end_lines_to_stderr_when_not_a_terminal() -> None:
    # Given an output whose stderr is not a terminal
    out, err = io.StringIO(), io.StringIO()
    output = Output(as_json=False, out=out, err=err)
    # When a long wait runs
    with output.progress("waiting for the reply", total=5.0):
        pass
    # Then progress went to stderr only, one line at the start and one at the end
    assert out.getvalue() == ""
    assert err.getvalue().startswith("waiting for the reply (up to 5.0s)\ndone in ")


def test_quiet_suppresses_progress_and_notes() -> None:
    # Given a quiet output
    err = io.StringIO()
    output = Output(as_json=False, quiet=True, out=io.StringIO(), err=err)
    # When notes and progress are written / Then nothing appears
    output.note("hello")
    with output.progress("waiting"):
        pass
    assert err.getvalue() == ""
