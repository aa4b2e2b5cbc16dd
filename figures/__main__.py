"""``make figures`` (``python -m figures [--check]``): rewrite the README's figure blocks from ``docs/results/``.

A record older than the last commit that changed the code it measures is refused (exit 2) unless it says why
(:mod:`figures.staleness`, judged against the git history). ``--check`` only compares the README with the records.
"""

from __future__ import annotations

import argparse
import sys

from figures.readme import BLOCKS, README, FiguresError, records_of, rewrite
from figures.record import RecordError
from figures.staleness import HistoryUnavailableError, last_code_change, problem


def stale_records() -> list[str]:
    """Why each record the README uses is refused (empty: every one is newer than its code, or says why not)."""
    try:
        change = last_code_change()
    except HistoryUnavailableError as exc:
        sys.stderr.write(f"warning: {exc}\n")
        return []
    problems = []
    for name in BLOCKS:
        for record_name, record in records_of(name).items():
            found = problem(record, record_name, change)
            if found is not None:
                problems.append(found)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m figures", description=(__doc__ or "").split("\n\n")[0].split(": ", 1)[-1]
    )
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the README differs")
    args = parser.parse_args(argv)
    try:
        current = README.read_text(encoding="utf-8")
        wanted = rewrite(current)
    except (FiguresError, RecordError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    if args.check:  # the README against the records only: a clean checkout passes whatever changed since
        if wanted != current:
            sys.stderr.write("README.md figures differ from docs/results/: run make figures\n")
            return 1
        return 0
    try:
        problems = stale_records()
    except (RecordError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    if problems:
        for found in problems:
            sys.stderr.write(f"error: {found}\n")
        return 2
    if wanted != current:
        README.write_text(wanted, encoding="utf-8")
        sys.stdout.write("README.md: figure blocks rewritten from docs/results/\n")
    else:
        sys.stdout.write("README.md: figure blocks already match docs/results/\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
