"""The ``fifo-messaging`` console script ``make setup`` installs: it runs from any directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

COMMAND = Path(sys.executable).parent / "fifo-messaging"


@pytest.fixture
def command() -> str:
    if not COMMAND.exists():
        pytest.fail(f"{COMMAND} is missing: make setup installs it (uv pip install --editable .)")
    return str(COMMAND)


def test_the_command_runs_from_another_directory_and_names_itself(command: str, tmp_path: Path) -> None:
    # When --help runs outside the checkout
    done = subprocess.run([command, "--help"], cwd=tmp_path, capture_output=True, text=True, check=False)
    # Then it works and its usage names the command
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: fifo-messaging")
    assert "trace" in done.stdout and "exit codes: 0 ok, 1 a failure reply" in done.stdout


def test_a_bad_argument_is_one_line_on_stderr_and_exit_2(command: str, tmp_path: Path) -> None:
    # When a partition key is not a valid message group id
    done = subprocess.run(
        [command, "request", "orders-command", "orders.CreateOrder", "-k", "not valid"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    # Then one line explains it, exit 2, nothing on stdout
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: argument -k/--partition-key: 'not valid'")
