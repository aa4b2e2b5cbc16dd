"""The saga figures of docs/sagas.md, from the records of ``make chaos``: the product's orchestrator (``chaos``)
beside the naive one (``chaos-saga-naive``, ``make chaos ARGS="--saga naive --record"``), under the same faults.

Example:
    >>> shares({"approve": 19, "credit": 8, "stock": 8, "held": 5})
    '19 within credit and stock, 8 over credit, 8 out of stock, 5 held back'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from figures.chaos import NOT_MEASURED, _exit, _figure, _recorded, _row
from figures.record import Record

RECORDS = ("chaos", "chaos-saga-naive")
NAIVE_COMMAND = 'make chaos ARGS="--saga naive --record"'
SAGA_FIGURES = ("sagas_unfinished", "compensations_missing", "compensations_duplicated", "steps_applied_twice",
                "saga_answers_wrong", "reference_data_wrong")
SHARE_LABELS = {"approve": "within credit and stock", "credit": "over credit", "stock": "out of stock",
                "held": "held back"}


def shares(counts: Mapping[str, int]) -> str:
    """How the sagas were planned, in words."""
    return ", ".join(f"{n} {SHARE_LABELS.get(share, share)}" for share, n in counts.items())


def _outcomes(result: Mapping[str, Any]) -> str:
    outcomes = result.get("saga_outcomes")
    if not isinstance(outcomes, Mapping):
        return NOT_MEASURED
    return ", ".join(f"{label} {n}" for label, n in outcomes.items())


def render(records: Mapping[str, Record]) -> str:
    """One column per orchestrator: the sagas' plan and answers, each saga invariant, exit status and time."""
    ours = records["chaos"]
    naive = records.get("chaos-saga-naive")
    columns = [ours] + ([naive] if naive is not None else [])
    results = [record.result for record in columns]
    if "sagas" not in ours.result:
        return f"No saga figures are recorded: `{ours.command}` ran without sagas."
    header = ["`make chaos` saga phase", "product orchestrator"]
    if naive is not None:
        header.append(f"naive orchestrator (`{naive.command.removeprefix('make chaos').strip()}`)")
    lines = [_row(*header), "|" + "---|" * len(header)]
    lines.append(_row("sagas started", *(f"{r.get('sagas', NOT_MEASURED)} ({shares(r.get('saga_shares', {}))})"
                                       for r in results)))
    lines.append(_row("answers", *(_outcomes(r) for r in results)))
    lines += [_row(name.replace("_", " "), *(_figure(r, name) for r in results)) for name in SAGA_FIGURES]
    lines.append(_row("exit status of the whole run, saga phase's share of its time",
                      *(f"{_exit(r)}, {r.get('saga_seconds', NOT_MEASURED)} s of {r['seconds']} s" for r in results)))
    lines.append("")
    recorded = [_recorded("product", ours)] + ([_recorded("naive orchestrator", naive)] if naive else [])
    tail = "" if naive is not None else f" No naive orchestrator run is recorded; `{NAIVE_COMMAND}` records one."
    lines.append(f"Recorded: {'; '.join(recorded)}.{tail}")
    return "\n".join(lines)
