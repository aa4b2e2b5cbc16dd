"""The figures of docs/delivery-guarantee.md, from the records of ``make chaos``: the product (``chaos``), the
Powertools-docs consumer (``chaos-naive``) side by side, and a long run of the product (``chaos-long``).

Example:
    >>> faults({"transient": 3, "ambiguous": 1, "crash": 2, "timeout": 0})
    '3 / 1 / 2 / 0'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from figures.record import Record

RECORDS = ("chaos", "chaos-naive")
LONG_RECORDS = ("chaos-long",)
LONG_COMMAND = 'make chaos ARGS="--messages 5000 --shards 200 --seed 11 --record chaos-long"'
FAULT_KINDS = ("transient", "ambiguous", "crash", "timeout")
DUPLICATE_KINDS = ("duplicate_in_window", "duplicate_after_window", "duplicate_redrive")
DELIVERY_QUEUES = ("OrdersCommand", "Billing", "Notifications", "Reply")
LEGACY_INVARIANTS = ("lost", "duplicate_effects", "reorders", "valid_in_dlq", "replies_missing", "replies_duplicated")
"""The invariants of records made before the JSON line named its invariants."""
LABELS = {
    "duplicate_effects": "duplicate effects",
    "reorders": "reorders within a shard",
    "unidentifiable": "effects the reorder check cannot place",
    "valid_in_dlq": "valid messages in a DLQ",
    "poison_in_dlq": "poison in a DLQ",
    "replies_missing": "replies missing",
    "replies_duplicated": "replies duplicated",
    "replies_wrong": "replies other than expected",
    "failure_replies_missing": "failure replies missing (poison)",
    "failure_replies_wrong": "failure replies wrong (poison)",
}
NOT_MEASURED = "n/a"


def faults(counts: Mapping[str, int], kinds: tuple[str, ...] = FAULT_KINDS) -> str:
    """Counts of the given kinds, ``a / b / c``."""
    return " / ".join(str(counts.get(kind, 0)) for kind in kinds)


def invariants(result: Mapping[str, Any]) -> dict[str, int]:
    """Invariant name -> the figure it must have (a record without ``invariants``: the legacy ones, 0 each, and the
    poison count)."""
    named = result.get("invariants")
    if isinstance(named, Mapping):
        return {str(name): int(value) for name, value in named.items()}
    legacy = dict.fromkeys(LEGACY_INVARIANTS, 0)
    legacy["poison_in_dlq"] = int(result.get("poison_injected", 0))
    return legacy


def violated(result: Mapping[str, Any]) -> list[str]:
    """The invariants whose figure is not the one it must have."""
    return [name for name, must in invariants(result).items() if result.get(name) != must]


def _args(command: str) -> str:
    """``make chaos ARGS="--consumer naive"`` -> ``ARGS="--consumer naive"``."""
    return command.removeprefix("make chaos").strip() or "no ARGS"


def _row(*cells: object) -> str:
    """A Markdown table row; an empty cell is ``| |``."""
    return "|" + "|".join(f" {c} " if str(c) else " " for c in cells) + "|"


def _exit(result: Mapping[str, Any]) -> int:
    return 0 if result["ok"] else 1


def _figure(result: Mapping[str, Any], name: str) -> str:
    """One invariant's cell: its figure (``x of y`` where it must equal an expectation); ``n/a`` if not measured."""
    if name not in result:
        return NOT_MEASURED
    must = invariants(result).get(name, 0)
    return f"{result[name]} of {must}" if must else str(result[name])


def _delivered(result: Mapping[str, Any]) -> str:
    counts = result.get("duplicates_delivered")
    return faults(counts, DELIVERY_QUEUES) if isinstance(counts, Mapping) else NOT_MEASURED


def _recorded(role: str, record: Record) -> str:
    text = f"{role} {record.date} ({record.machine})"
    if record.older_than_code:
        text += f", older than the code it measures: {record.older_than_code}"
    return text


def render(records: Mapping[str, Record]) -> str:
    """The table of both consumers under the same faults, one row per invariant the checker counts."""
    ours, naive = records["chaos"], records["chaos-naive"]
    o, n = ours.result, naive.result
    header = f"`{ours.command}` ({o['messages']} commands, {o['shards']} shards, seed {o['seed']})"
    lines = [
        _row(header, "product", f"Powertools-docs consumer (`{_args(naive.command)}`)"),
        "|---|---|---|",
        _row("faults (transient / ambiguous / crash / timeout)", faults(o["faults"]), faults(n["faults"])),
        _row(
            "duplicates sent (in window / after window / redrive), poison",
            f"{faults(o['faults'], DUPLICATE_KINDS)}, {o['faults'].get('poison', 0)}",
            f"{faults(n['faults'], DUPLICATE_KINDS)}, {n['faults'].get('poison', 0)}",
        ),
        _row("duplicates delivered (orders / billing / notifications / replies)", _delivered(o), _delivered(n)),
    ]
    names = list(invariants(o)) + [name for name in invariants(n) if name not in invariants(o)]
    lines += [_row(LABELS.get(name, name.replace("_", " ")), _figure(o, name), _figure(n, name)) for name in names]
    lines += [
        _row(
            "exit status, invocations, wall time here",
            f"{_exit(o)}, {o['invocations']}, {o['seconds']} s",
            f"{_exit(n)}, {n['invocations']}, {n['seconds']} s",
        ),
        "",
        f"Recorded: {_recorded('product', ours)}; {_recorded('Powertools-docs consumer', naive)}."
        + (f" {NOT_MEASURED}: not measured by that run." if any(NOT_MEASURED in line for line in lines) else ""),
    ]
    return "\n".join(lines)


def render_long(records: Mapping[str, Record]) -> str:
    """One sentence on the long run: its size, its faults, and whether every invariant held (or that none is
    recorded)."""
    record = records.get("chaos-long")
    if record is None:
        return f"No long run is recorded on this code; `{LONG_COMMAND}` records one (about 15 minutes)."
    r = record.result
    broken = [
        f"{name.replace('_', ' ')} {_figure(r, name)}" for name in violated(r)
    ]
    verdict = "every invariant holds" if not broken else "invariants violated: " + ", ".join(broken)
    fault_text = ", ".join(f"{kind} {r['faults'].get(kind, 0)}" for kind in FAULT_KINDS)
    older = f"; older than the code it measures: {record.older_than_code}" if record.older_than_code else ""
    return (
        f"A long run, `{record.command}` ({record.date}{older}): {r['messages']} commands over {r['shards']} shards, "
        f"{r['invocations']} invocations, faults {fault_text.replace(', ', ' / ')}, duplicates "
        f"{faults(r['faults'], DUPLICATE_KINDS)}, {r['faults'].get('poison', 0)} poison messages: {verdict} "
        f"(exit {_exit(r)}, {r['seconds']:g} s here)."
    )
