"""cfn-lint on the synthesized templates of the example system (the same check ``make synth`` runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from infra.services import SERVICES

pytestmark = pytest.mark.infra

REPO = Path(__file__).resolve().parents[2]


def test_synthesized_templates_pass_cfn_lint(example_assembly: Path) -> None:
    # Given the example system's templates
    templates = sorted(str(path) for path in example_assembly.glob("*.template.json"))
    assert len(templates) == 8 + len(SERVICES)  # the example stacks and one per service added with make service
    # When cfn-lint checks them with the project's configuration (ignored rules listed there with their reason)
    cfn_lint = str(Path(sys.executable).parent / "cfn-lint")
    linted = subprocess.run(
        [cfn_lint, "--config-file", str(REPO / ".cfnlintrc.yaml"), "--", *templates],
        capture_output=True,
        text=True,
        check=False,
    )
    # Then there is no finding
    assert linted.returncode == 0, linted.stdout + linted.stderr
