"""``make figures`` (``python -m figures [--check]``): rewrite the README's figure blocks from ``docs/results/``."""

from __future__ import annotations

import argparse
import sys

from figures.readme import README, FiguresError, rewrite
from figures.record import RecordError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m figures", description=(__doc__ or "").split(": ", 1)[-1])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the README differs")
    args = parser.parse_args(argv)
    try:
        current = README.read_text(encoding="utf-8")
        wanted = rewrite(current)
    except (FiguresError, RecordError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    if args.check:
        if wanted != current:
            sys.stderr.write("README.md figures differ from docs/results/: run make figures\n")
            return 1
        return 0
    if wanted != current:
        README.write_text(wanted, encoding="utf-8")
        sys.stdout.write("README.md: figure blocks rewritten from docs/results/\n")
    else:
        sys.stdout.write("README.md: figure blocks already match docs/results/\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
