"""Errors of the command line that are the caller's: they exit with status 2 (a usage error) and one line on stderr,
``error: ...``, like argparse's own."""

from __future__ import annotations


class UsageError(Exception):
    """An argument the command cannot act on (a refused confirmation, a body that cannot replace a dead letter)."""
