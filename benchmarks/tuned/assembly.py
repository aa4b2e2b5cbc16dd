"""The example system's assembly with the tuned consumers in place of the product's.

Example::

    prepare_tuned(Path("cdk.out"), Path("/tmp/tuned"), function_timeout=30)
"""

from __future__ import annotations

import json
from pathlib import Path

from chaos.run import NAIVE_HANDLERS, ROOT, prepare_assembly

TUNED_HANDLERS = {
    naive: naive.replace("chaos.naive.", "benchmarks.tuned.", 1) for naive in NAIVE_HANDLERS.values()
}
"""Documentation handler -> tuned handler (same module names under :mod:`benchmarks.tuned`)."""


def prepare_tuned(assembly: Path, target: Path, *, function_timeout: int) -> Path:
    """Copy ``assembly`` into ``target`` as :func:`chaos.run.prepare_assembly` does for the documentation
    baseline (its handlers, code directory and idempotency tables), then point each function at its tuned handler
    (the code directory gains the ``benchmarks`` package)."""
    prepared = prepare_assembly(assembly, target, consumer="naive", function_timeout=function_timeout)
    code = prepared / "naive-code"
    (code / "benchmarks").symlink_to(ROOT / "benchmarks")
    for template_path in prepared.glob("*.template.json"):
        template = json.loads(template_path.read_text())
        for resource in template.get("Resources", {}).values():
            if resource.get("Type") != "AWS::Lambda::Function":
                continue
            properties = resource["Properties"]
            tuned = TUNED_HANDLERS.get(properties.get("Handler", ""))
            if tuned is not None:
                properties["Handler"] = tuned
        template_path.write_text(json.dumps(template))
    return prepared
