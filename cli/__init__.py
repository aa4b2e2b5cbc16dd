"""Command-line interface over the messaging client: send, request, publish, scatter-gather, inspect and redrive.

Run it as ``fifo-messaging --help`` (the console script ``make setup`` installs into ``.venv/bin``, usable from any
directory) or ``python -m cli --help`` from the checkout. The runtime library lives in ``functions/`` (the Lambda code
asset) and the stage rules in ``infra/``: both directories of the checkout are put on ``sys.path``, so ``import
messaging`` works wherever the command runs, without installing the runtime as a package.
"""

from __future__ import annotations

import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
for _directory in (_CHECKOUT, _CHECKOUT / "functions"):
    if _directory.is_dir() and str(_directory) not in sys.path:
        sys.path.append(str(_directory))
