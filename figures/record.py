"""A run's figures, kept: the JSON object a run prints as its last line, with the command that made it, when, and on
what machine, in ``docs/results/<name>.json``.

Example:
    >>> record = Record("make chaos", "2026-12-01T08:00:00Z", "2 cores", {"ok": True})
    >>> Record.from_json(record.to_json()) == record
    True
    >>> command_line("make chaos", ["--consumer", "naive", "--record"])
    'make chaos ARGS="--consumer naive"'
    >>> command_line("make chaos", ["--record", "chaos-long", "--seed", "11"])
    'make chaos ARGS="--seed 11"'
    >>> Record.from_json({"command": "make bench"})
    Traceback (most recent call last):
    ...
    figures.record.RecordError: a record needs ... (missing: recorded, machine, result)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "docs" / "results"
"""Where the records live, one file per name: ``bench.json``, ``chaos.json``, ``chaos-naive.json``, ..."""
_FIELDS = ("command", "recorded", "machine", "result")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class RecordError(Exception):
    """A record file is missing or is not a record."""


@dataclass(frozen=True, slots=True)
class Record:
    """``command`` (as typed), ``recorded`` (UTC, ISO 8601), ``machine`` (a note), ``result`` (the run's JSON line);
    ``note`` says anything else a reader needs; ``older_than_code`` says why the figures still hold although the
    code they measure changed after the run (:mod:`figures.staleness`; its page shows it beside them)."""

    command: str
    recorded: str
    machine: str
    result: dict[str, Any]
    note: str | None = None
    older_than_code: str | None = None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "command": self.command,
            "recorded": self.recorded,
            "machine": self.machine,
        }
        if self.note is not None:
            document["note"] = self.note
        if self.older_than_code is not None:
            document["older_than_code"] = self.older_than_code
        document["result"] = self.result
        return document

    @classmethod
    def from_json(cls, document: Any) -> Record:
        if not isinstance(document, dict):
            raise RecordError("a record is a JSON object")
        missing = [name for name in _FIELDS if name not in document]
        if missing:
            raise RecordError(f"a record needs {', '.join(_FIELDS[:-1])} and result (missing: {', '.join(missing)})")
        if not isinstance(document["result"], dict):
            raise RecordError("a record's result is the run's JSON object")
        return cls(
            command=str(document["command"]),
            recorded=str(document["recorded"]),
            machine=str(document["machine"]),
            result=document["result"],
            note=None if document.get("note") is None else str(document["note"]),
            older_than_code=None if document.get("older_than_code") is None else str(document["older_than_code"]),
        )

    @property
    def date(self) -> str:
        """The day of the run (``2026-12-01``)."""
        return self.recorded[:10]


def name_argument(text: str) -> str:
    """An argparse type: a record's name, which is also its file name (``chaos-long``)."""
    if not _NAME.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a record name (lower-case letters, digits, hyphens)")
    return text


def machine_note() -> str:
    """What the figures of a run depend on: cores, system, Python, and how busy the machine was (load average)."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    busy = f", load average {load:.1f} at the start" if load is not None else ""
    return (
        f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python {platform.python_version()}{busy}"
    )


def command_line(program: str, argv: list[str]) -> str:
    """The command as a reader would type it again: ``make bench`` plus its ``ARGS``, without ``--record [NAME]``."""
    args: list[str] = []
    skip_value = False
    for arg in argv:
        if skip_value and not arg.startswith("-"):
            skip_value = False
            continue
        skip_value = arg == "--record"
        if arg != "--record" and not arg.startswith("--record="):
            args.append(arg)
    return f'{program} ARGS="{shlex.join(args)}"' if args else program


def write_record(
    name: str,
    command: str,
    result: dict[str, Any],
    *,
    machine: str,
    when: datetime | None = None,
    directory: Path = RESULTS_DIR,
) -> Path:
    """Write ``directory/<name>.json`` (replacing an earlier record of that name); returns its path."""
    moment = (when or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    record = Record(command, moment.isoformat().replace("+00:00", "Z"), machine, result)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    staging = path.with_suffix(".json.tmp")
    staging.write_text(json.dumps(record.to_json(), indent=2, sort_keys=False) + "\n", encoding="utf-8")
    staging.replace(path)
    return path


def read_record(name: str, directory: Path = RESULTS_DIR) -> Record:
    """The record ``directory/<name>.json``; :class:`RecordError` when it is missing or malformed."""
    path = directory / f"{name}.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RecordError(f"no record {path}: {exc.strerror} (record one with --record)") from exc
    except ValueError as exc:
        raise RecordError(f"{path} is not JSON: {exc}") from exc
    try:
        return Record.from_json(document)
    except RecordError as exc:
        raise RecordError(f"{path}: {exc}") from exc
