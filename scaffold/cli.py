"""The command line of the generator: ``python -m scaffold NAME [--root DIR]`` (``make service NAME=...``).

Exit status 0 with the files written listed on stdout; 2 for a bad NAME or usage (one line on stderr, nothing
written); 1 when the project cannot take the service (a registry edited beyond recognition, a file that cannot be
written; one line on stderr, nothing left written).

Example:
    >>> main(["Inventory"], err=sys.stdout)
    make service: service name 'Inventory' must be a lowercase identifier: ...
    2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from scaffold.generator import ROOT, plan, write
from scaffold.names import InvalidServiceName, ScaffoldError, check_new_service

PROG = "make service"
#: What the generator reads and edits: without them the root is no checkout of this project.
PROJECT_MARKERS = ("infra/system.py", "infra/services.py", "functions/catalogue.py")


class UsageError(Exception):
    """The command line itself is wrong (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Generate a new service: code, CDK stack, tests, registrations.")
    parser.add_argument("name", nargs="?", default="", help="the service name, a lowercase identifier (inventory)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project to add it to (default: this checkout)")
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the generator; returns the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        args = _parser().parse_args(argv)
        root = args.root.resolve()
        missing = [path for path in PROJECT_MARKERS if not (root / path).exists()]
        if missing:
            raise UsageError(f"{root} is not the project: it has no {', '.join(missing)}")
        changes = plan(check_new_service(args.name, root), root)
        write(changes)
    except (UsageError, InvalidServiceName) as error:
        print(f"{PROG}: {error}", file=err)
        return 2
    except ScaffoldError as error:
        print(f"{PROG}: {error}", file=err)
        return 1
    for change in changes:
        print(f"{'wrote  ' if change.created else 'updated'} {change.path.relative_to(root)}", file=out)
    print(f"next: edit the models, service and handler of functions/{args.name}/, then make test", file=out)
    return 0
