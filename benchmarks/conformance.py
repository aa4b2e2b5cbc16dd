"""``make conformance`` (``python -m benchmarks.conformance [--record [NAME]]``): the conformance suite
(``tests/conformance``, cases recorded against AWS) run against the local cloud and against a bare moto server.

Each backend runs in its own pytest process (the local cloud's moto fixes are process-wide, so the bare moto run
must never load them): the local cloud's endpoint server with its clock, and moto's own ``ThreadedMotoServer`` from
the same virtualenv. Prints, per area, passed / total for each, the local cloud's failing cases, and as its last
line one JSON object. Exit status 0 when the local cloud passes more cases than bare moto in every area and at
least 95% of all, 1 otherwise, 2 when a run could not be made.

Example::

    python -m benchmarks.conformance --record     # docs/results/conformance.json; make figures puts it in the docs
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from figures.record import command_line, machine_note, name_argument, write_record

ROOT = Path(__file__).resolve().parent.parent
SUITE = "tests/conformance"
AREAS = ("dedup", "group visibility", "FIFO API", "DLQ", "SNS to SQS", "errors")
BACKENDS = ("localcloud", "moto")
TARGET_SHARE = 0.95


class ConformanceError(Exception):
    """A backend's run produced no results (pytest could not run the suite)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One case on one backend."""

    case: str
    area: str
    passed: bool


def run_backend(backend: str, root: Path = ROOT) -> list[Outcome]:
    """Run the suite against ``backend`` in a pytest process of its own; the outcome of every case."""
    with tempfile.TemporaryDirectory(prefix="conformance-") as scratch:
        report = Path(scratch) / "report.jsonl"
        env = {**os.environ, "CONFORMANCE_BACKEND": backend, "CONFORMANCE_REPORT": str(report)}
        completed = subprocess.run(  # noqa: S603 - our own interpreter running pytest on our suite
            [sys.executable, "-m", "pytest", SUITE, "-q", "--tb=no", "--no-header", "-p", "no:cacheprovider"],
            cwd=root, env=env, capture_output=True, text=True, check=False)
        lines = report.read_text(encoding="utf-8").splitlines() if report.exists() else []
    if completed.returncode not in (0, 1) or not lines:
        tail = (completed.stdout + completed.stderr).strip().splitlines()[-5:]
        raise ConformanceError(f"the {backend} run failed (pytest exit {completed.returncode}): {' / '.join(tail)}")
    outcomes = [json.loads(line) for line in lines]
    return [Outcome(o["module"].rsplit("/", 1)[-1] + "::" + o["case"], o["area"], o["outcome"] == "passed")
            for o in outcomes]


def summary(results: Mapping[str, Sequence[Outcome]]) -> dict[str, Any]:
    """The run's figures: per area and in all, passed and total per backend; the verdict."""
    areas: dict[str, dict[str, list[int]]] = {}
    for area in AREAS:
        areas[area] = {}
        for backend in BACKENDS:
            cases = [o for o in results[backend] if o.area == area]
            areas[area][backend] = [sum(o.passed for o in cases), len(cases)]
    totals = {backend: [sum(o.passed for o in results[backend]), len(results[backend])] for backend in BACKENDS}
    share = totals["localcloud"][0] / totals["localcloud"][1] if totals["localcloud"][1] else 0.0
    ahead = all(areas[a]["localcloud"][0] > areas[a]["moto"][0] for a in AREAS)
    return {
        "areas": areas,
        "totals": totals,
        "localcloud_share": round(share, 4),
        "moto_share": round(totals["moto"][0] / totals["moto"][1], 4) if totals["moto"][1] else 0.0,
        "ahead_in_every_area": ahead,
        "localcloud_failing": sorted(o.case for o in results["localcloud"] if not o.passed),
        "moto_version": version("moto"),
        "ok": ahead and share >= TARGET_SHARE,
    }


def render(result: Mapping[str, Any]) -> str:
    """The per-area table, as printed."""
    width = max(len(a) for a in AREAS) + 2
    lines = [f"{'area':<{width}}{'local cloud':>14}{'bare moto ' + result['moto_version']:>20}"]
    for area in AREAS:
        local, moto = result["areas"][area]["localcloud"], result["areas"][area]["moto"]
        lines.append(f"{area:<{width}}{f'{local[0]}/{local[1]}':>14}{f'{moto[0]}/{moto[1]}':>20}")
    local, moto = result["totals"]["localcloud"], result["totals"]["moto"]
    lines.append(f"{'all':<{width}}{f'{local[0]}/{local[1]}':>14}{f'{moto[0]}/{moto[1]}':>20}")
    lines.append(f"local cloud {result['localcloud_share']:.1%} (target {TARGET_SHARE:.0%}), ahead of bare moto in "
                 f"every area: {'yes' if result['ahead_in_every_area'] else 'no'}")
    for case in result["localcloud_failing"]:
        lines.append(f"  local cloud fails: {case}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.conformance", description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", nargs="?", const="conformance", type=name_argument, metavar="NAME",
                        help="keep the run in docs/results/NAME.json (default conformance)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    machine = machine_note()
    try:
        results = {}
        for backend in BACKENDS:
            print(f"running {SUITE} against {'the local cloud' if backend == 'localcloud' else 'bare moto'}",
                  file=sys.stderr)
            results[backend] = run_backend(backend)
    except ConformanceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    result = summary(results)
    print(render(result))
    if args.record is not None:
        path = write_record(args.record, command_line("make conformance", argv), result, machine=machine)
        print(f"recorded in {path.relative_to(ROOT)}: make figures puts it in the docs", file=sys.stderr)
    print(json.dumps(result, sort_keys=True))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
