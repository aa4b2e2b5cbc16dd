"""Figures older than their code: ``make figures`` refuses a record made before the last commit that changed the code
it measures, unless the record says why (its ``older_than_code``), and its page then says so beside the figure.

The judge is the git history, and only ``make figures`` asks it: the pages' blocks are a pure function of the
records (the unit test compares the two), so a clean checkout never fails a test because code changed after a record
was made. To record figures that pass: commit the code, run the command with ``--record``, commit the record.

Example:
    >>> record = Record("make chaos", "2026-12-01T09:00:00Z", "2 cores", {})
    >>> change = CodeChange("abc1234", "2026-12-01T10:00:00+00:00", "Consumer: ...")
    >>> problem(record, "chaos", change)
    'docs/results/chaos.json was recorded 2026-12-01T09:00:00Z, before abc1234 (2026-12-01T10:00:00+00:00) changed \
the code it measures: record it again (make chaos ARGS="--record chaos"), or say why it still holds in its \
older_than_code'
    >>> problem(Record("make chaos", "2026-12-01T11:00:00Z", "2 cores", {}), "chaos", change) is None
    True
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from figures.record import ROOT, Record

MEASURED = ("functions", "chaos", "localcloud", "benchmarks")
"""The code the recorded figures measure: the runtime and handlers, the harnesses, the local cloud."""


class HistoryUnavailableError(Exception):
    """No git history to judge a record's age by (not a git checkout, or no git)."""


@dataclass(frozen=True, slots=True)
class CodeChange:
    """The last commit that changed the measured code: its short hash, commit time (ISO 8601) and subject."""

    commit: str
    committed: str
    subject: str


def last_code_change(root: Path = ROOT, paths: tuple[str, ...] = MEASURED) -> CodeChange | None:
    """The last commit that touched ``paths`` (None when none did); :class:`HistoryUnavailableError` without git."""
    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        raise HistoryUnavailableError(f"{root} is not a git checkout: the age of the records cannot be judged")
    try:
        output = subprocess.run(  # noqa: S603 - a fixed git command on the project's own paths
            [git, "log", "-1", "--format=%h%x00%cI%x00%s", "--", *paths],
            cwd=root, capture_output=True, text=True, check=True, timeout=30,
        ).stdout.strip()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        raise HistoryUnavailableError(f"git log failed: {exc}") from exc
    if not output:
        return None
    commit, committed, subject = output.split("\0", 2)
    return CodeChange(commit, committed, subject)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def problem(record: Record, name: str, change: CodeChange | None) -> str | None:
    """Why ``make figures`` refuses ``record`` (None when it is newer than ``change`` or says why it is not)."""
    if change is None or record.older_than_code or _moment(record.recorded) >= _moment(change.committed):
        return None
    return (
        f"docs/results/{name}.json was recorded {record.recorded}, before {change.commit} ({change.committed}) "
        f"changed the code it measures: record it again ({again(record, name)}), or say why it still holds in its "
        "older_than_code"
    )


def again(record: Record, name: str) -> str:
    """The command that records ``name`` again: the record's own command with ``--record NAME``.

    >>> again(Record('make chaos ARGS="--consumer naive"', "", "", {}), "chaos-naive")
    'make chaos ARGS="--consumer naive --record chaos-naive"'
    """
    program, _, args = record.command.partition(" ARGS=")
    args = args.strip('"')
    return f'{program} ARGS="{args + " " if args else ""}--record {name}"'
