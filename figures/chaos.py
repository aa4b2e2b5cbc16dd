"""The Delivery guarantee figures of the README, from the records of ``make chaos``: the product (``chaos``), the
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
FAULT_KINDS = ("transient", "ambiguous", "crash", "timeout")
DUPLICATE_KINDS = ("duplicate_in_window", "duplicate_after_window", "duplicate_redrive")
INVARIANTS = ("lost", "duplicate_effects", "reorders", "valid_in_dlq", "replies_missing", "replies_duplicated")


def faults(counts: Mapping[str, int], kinds: tuple[str, ...] = FAULT_KINDS) -> str:
    """Counts of the given kinds, ``a / b / c``."""
    return " / ".join(str(counts.get(kind, 0)) for kind in kinds)


def _args(command: str) -> str:
    """``make chaos ARGS="--consumer naive"`` -> ``ARGS="--consumer naive"``."""
    return command.removeprefix("make chaos").strip() or "no ARGS"


def _row(*cells: object) -> str:
    """A Markdown table row; an empty cell is ``| |``."""
    return "|" + "|".join(f" {c} " if str(c) else " " for c in cells) + "|"


def _exit(result: Mapping[str, Any]) -> int:
    return 0 if result["ok"] else 1


def render(records: Mapping[str, Record]) -> str:
    """The table of both consumers under the same faults, with the invariants the checker counts."""
    ours, naive = records["chaos"], records["chaos-naive"]
    o, n = ours.result, naive.result
    header = f"`{ours.command}` ({o['messages']} commands, {o['shards']} shards, seed {o['seed']})"
    lines = [
        _row(header, "product", f"Powertools-docs consumer (`{_args(naive.command)}`)"),
        "|---|---|---|",
        _row("faults (transient / ambiguous / crash / timeout)", faults(o["faults"]), faults(n["faults"])),
        _row(
            "duplicates (in window / after window / redrive), poison",
            f"{faults(o['faults'], DUPLICATE_KINDS)}, {o['faults'].get('poison', 0)}",
            f"{faults(n['faults'], DUPLICATE_KINDS)}, {n['faults'].get('poison', 0)}",
        ),
        _row("lost", o["lost"], n["lost"]),
        _row("duplicate effects", o["duplicate_effects"], n["duplicate_effects"]),
        _row("reorders within a shard", o["reorders"], n["reorders"]),
        _row("valid messages in a DLQ", o["valid_in_dlq"], n["valid_in_dlq"]),
        _row(
            "replies missing / duplicated",
            f"{o['replies_missing']} / {o['replies_duplicated']}",
            f"{n['replies_missing']} / {n['replies_duplicated']}",
        ),
        _row(
            "poison in a DLQ",
            f"{o['poison_in_dlq']} of {o['poison_injected']}",
            f"{n['poison_in_dlq']} of {n['poison_injected']}",
        ),
        _row(
            "exit status, invocations, wall time here",
            f"{_exit(o)}, {o['invocations']}, {o['seconds']} s",
            f"{_exit(n)}, {n['invocations']}, {n['seconds']} s",
        ),
        "",
        f"Recorded: product {ours.date} ({ours.machine}); Powertools-docs consumer {naive.date} ({naive.machine}).",
    ]
    return "\n".join(lines)


def render_long(records: Mapping[str, Record]) -> str:
    """One sentence on the long run: its size, its faults, and whether every invariant held."""
    record = records["chaos-long"]
    r = record.result
    violated = [f"{name.replace('_', ' ')} {r[name]}" for name in INVARIANTS if r[name]]
    if r["poison_in_dlq"] != r["poison_injected"]:
        violated.append(f"poison in a DLQ {r['poison_in_dlq']} of {r['poison_injected']}")
    verdict = "every invariant holds" if not violated else "invariants violated: " + ", ".join(violated)
    fault_text = ", ".join(f"{kind} {r['faults'].get(kind, 0)}" for kind in FAULT_KINDS)
    return (
        f"A long run, `{record.command}` ({record.date}): {r['messages']} commands over {r['shards']} shards, "
        f"{r['invocations']} invocations, faults {fault_text.replace(', ', ' / ')}, duplicates "
        f"{faults(r['faults'], DUPLICATE_KINDS)}, {r['faults'].get('poison', 0)} poison messages: {verdict} "
        f"(exit {_exit(r)}, {r['seconds']:g} s here)."
    )
