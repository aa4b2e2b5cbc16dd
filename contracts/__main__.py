"""``python -m contracts [--check]``: ``make contracts`` and ``make contracts-check``."""

from __future__ import annotations

import sys

from contracts.generate import main

if __name__ == "__main__":
    sys.exit(main())
