"""Command-line interface over the messaging client: send, request, publish, scatter-gather, inspect and redrive.

Run it as ``python -m cli --help``. The runtime library lives in ``functions/`` (the Lambda code asset); when the CLI
runs from a checkout, that directory is put on ``sys.path`` so ``import messaging`` works without installing anything.
"""

from __future__ import annotations

import sys
from pathlib import Path

_FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"
if _FUNCTIONS.is_dir() and str(_FUNCTIONS) not in sys.path:
    sys.path.append(str(_FUNCTIONS))
