"""``make figures`` (``python -m figures [--check]``): rewrite the docs pages' figure blocks from ``docs/results/``.

A record older than the last commit that changed the code it measures is refused (exit 2) unless it says why
(:mod:`figures.staleness`, judged against the git history). ``--check`` only compares the pages with the records.
"""

from __future__ import annotations

import argparse
import sys

from figures.readme import BLOCKS, FiguresError, records_of, rewrite_all
from figures.record import ROOT, RecordError
from figures.staleness import HistoryUnavailableError, last_code_change, problem


def stale_records() -> list[str]:
    """Why each record the pages use is refused (empty: every one is newer than its code, or says why not)."""
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
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a page differs")
    args = parser.parse_args(argv)
    try:
        texts = rewrite_all()
    except (FiguresError, RecordError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    differing = [page for page, (current, wanted) in texts.items() if wanted != current]
    if args.check:  # the pages against the records only: a clean checkout passes whatever changed since
        for page in differing:
            sys.stderr.write(f"{page} figures differ from docs/results/: run make figures\n")
        return 1 if differing else 0
    try:
        problems = stale_records()
    except (RecordError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    if problems:
        for found in problems:
            sys.stderr.write(f"error: {found}\n")
        return 2
    for page in differing:
        (ROOT / page).write_text(texts[page][1], encoding="utf-8")
        sys.stdout.write(f"{page}: figure blocks rewritten from docs/results/\n")
    if not differing:
        sys.stdout.write("figure blocks already match docs/results/\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
