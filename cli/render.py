"""Output for people (aligned tables) and for scripts (JSON), and progress on stderr during long waits.

Example:
    >>> print(table(["queue", "visible"], [["Orders", 3], ["Billing", None]]), end="")
    QUEUE    VISIBLE
    Orders         3
    Billing      n/a
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, TextIO

MISSING = "n/a"


def cell(value: Any) -> str:
    """The text of one table cell: ``None`` -> ``n/a``, floats with one decimal, mappings as compact JSON."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, Mapping | list):
        return json.dumps(value, separators=(",", ":"), default=str, sort_keys=True)
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An aligned plain-text table; numeric columns are right-aligned. Ends with a newline."""
    texts = [[cell(v) for v in row] for row in rows]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows)
        and any(row[i] is not None for row in rows)
        for i in range(len(headers))
    ]
    widths = [max([len(h), *(len(r[i]) for r in texts)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line([h.upper() for h in headers]), *(line(r) for r in texts)]
    return "\n".join(out) + "\n"


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, datetimes and mappings as plain JSON values."""
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Pretty JSON of ``value`` with a trailing newline."""
    return json.dumps(to_jsonable(value), indent=2, sort_keys=False, default=str) + "\n"


class Output:
    """Where the CLI writes: results to ``out``, messages and progress to ``err``."""

    def __init__(self, *, as_json: bool, quiet: bool = False, out: TextIO | None = None, err: TextIO | None = None):
        self.as_json = as_json
        self.quiet = quiet
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr

    def write(self, text: str) -> None:
        self.out.write(text if text.endswith("\n") else text + "\n")

    def json(self, value: Any) -> None:
        self.out.write(dumps(value))

    def note(self, text: str) -> None:
        """A line for people on stderr (suppressed with ``--quiet`` and ``--json``)."""
        if not self.quiet and not self.as_json:
            self.err.write(text + "\n")

    @contextmanager
    def progress(self, label: str, *, total: float | None = None, interval: float = 0.5) -> Iterator[None]:
        """Show ``label`` with the elapsed time on stderr while the body runs.

        On a terminal the line is redrawn every ``interval`` seconds; otherwise one start line and one end line are
        written, so logs stay readable. Nothing is written with ``--quiet``.
        """
        if self.quiet:
            yield
            return
        started = time.monotonic()
        tty = bool(getattr(self.err, "isatty", lambda: False)())
        suffix = f" / {total:.1f}s" if total is not None else ""
        stop = threading.Event()

        def redraw() -> None:
            while not stop.wait(interval):
                self.err.write(f"\r{label} {time.monotonic() - started:.1f}s{suffix}")
                self.err.flush()

        ticker = threading.Thread(target=redraw, daemon=True) if tty else None
        if ticker:
            ticker.start()
        else:
            self.err.write(f"{label} (up to {total:.1f}s)\n" if total is not None else f"{label}\n")
        try:
            yield
        finally:
            stop.set()
            if ticker:
                ticker.join()
                self.err.write(f"\r{label} done in {time.monotonic() - started:.1f}s\n")
            else:
                self.err.write(f"done in {time.monotonic() - started:.1f}s\n")
            self.err.flush()
