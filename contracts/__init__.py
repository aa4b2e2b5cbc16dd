"""Generated message contracts: ``contracts/asyncapi.yaml`` (AsyncAPI 3.0.0) and ``contracts/schemas/<type>.json``
(JSON Schema 2020-12), from the catalogue, the models and the synthesized topology, and the compatibility gate that
guards them (``make contracts``, ``make contracts-check``; see :mod:`contracts.generate`).

The runtime and the catalogue live in ``functions/`` (the Lambda code asset): the checkout and that directory are put
on ``sys.path``, as the CLI does, so ``python -m contracts`` runs from the checkout without installing anything.
"""

from __future__ import annotations

import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
for _directory in (_CHECKOUT, _CHECKOUT / "functions"):
    if _directory.is_dir() and str(_directory) not in sys.path:
        sys.path.append(str(_directory))
