"""The fidelity table of docs/local-cloud-fidelity.md, from the record of ``make conformance``: per area, the
conformance cases (recorded against AWS) the local cloud and bare moto pass.

Example:
    >>> cell([91, 91])
    '91 / 91'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from figures.record import Record

RECORDS = ("conformance",)
AREAS = ("dedup", "group visibility", "FIFO API", "DLQ", "SNS to SQS", "errors")


def cell(counts: Sequence[int]) -> str:
    """``passed / total``."""
    return f"{counts[0]} / {counts[1]}"


def render(records: Mapping[str, Record]) -> str:
    """The table, the share of cases passed by each, and the local cloud's failing cases (if any)."""
    record = records["conformance"]
    r = record.result
    lines = [f"| area (`{record.command}`) | local cloud | bare moto {r['moto_version']} |", "|---|---|---|"]
    lines += [f"| {area} | {cell(r['areas'][area]['localcloud'])} | {cell(r['areas'][area]['moto'])} |"
              for area in AREAS]
    lines.append(f"| all | {cell(r['totals']['localcloud'])} ({r['localcloud_share']:.0%}) | "
                 f"{cell(r['totals']['moto'])} ({r['moto_share']:.0%}) |")
    failing = ", ".join(f"`{case}`" for case in r["localcloud_failing"]) or "none"
    lines += ["", f"Recorded {record.date} ({record.machine}); cases the local cloud fails: {failing}."]
    return "\n".join(lines)
