"""The examples in the docstrings run: every module with a ``>>>`` example is a test, so the documentation cannot
drift from the code. Not run: literal ``::`` blocks and ``+SKIP`` examples (they need a deployed system), and the
examples of ``infra/`` (each needs a CDK construct tree; the infra tests build the real one).
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "functions": "",
    "chaos": "chaos.",
    "benchmarks": "benchmarks.",
    "cli": "cli.",
    "localcloud": "localcloud.",
    "figures": "figures.",
    "scaffold": "scaffold.",
    "contracts": "contracts.",
}


def modules_with_examples() -> list[str]:
    names = []
    for directory, prefix in PACKAGES.items():
        for path in sorted((ROOT / directory).rglob("*.py")):
            examples = [line for line in path.read_text(encoding="utf-8").splitlines() if ">>> " in line]
            if all("+SKIP" in line for line in examples):
                continue
            relative = path.relative_to(ROOT / directory).with_suffix("")
            parts = [p for p in relative.parts if p != "__init__"]
            names.append(prefix + ".".join(parts) if parts else prefix.rstrip("."))
    return names


@pytest.mark.parametrize("module_name", modules_with_examples())
def test_the_docstring_examples_of_a_module_run(module_name: str) -> None:
    # Given a module whose docstrings hold examples
    module = importlib.import_module(module_name)
    # When they run
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    # Then every example ran and gave its documented output
    assert result.attempted > 0, f"{module_name}: no example was found"
    assert result.failed == 0, f"{module_name}: {result.failed} of {result.attempted} examples failed"
