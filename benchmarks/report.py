"""The table ``make bench`` prints before its JSON line.

Example:
    >>> table(["style", "ours"], [["notification", 5.0]])
    ['  style         ours', '  notification  5.00']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SIDES = ("ours", "baseline", "tuned")


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Left-aligned first column, right-aligned others, two spaces of indent."""
    cells = [[str(h) for h in header]] + [[f"{c:.2f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(row[n]) for row in cells) for n in range(len(header))]
    return [
        "  " + row[0].ljust(widths[0]) + "".join(c.rjust(w + 2) for c, w in zip(row[1:], widths[1:], strict=True))
        for row in cells
    ]


def _calls(figures: Mapping[str, Any]) -> list[str]:
    rows = []
    for style, sides in figures["calls_per_message"].items():
        cost = figures["cost_per_million_usd"][style]
        logs = figures["log_bytes_per_message"][style]
        rows.append(
            [style]
            + [float(sides[s]["per_message"]) for s in SIDES]
            + [float(cost[s]) for s in SIDES]
            + [logs[s] for s in SIDES]
        )
    lines = [
        "AWS calls per message (client + functions; the Lambda pollers' apart), the whole bill per million messages,",
        "and log bytes per message (START/END/REPORT included):",
        *table(
            ["style", "calls ours", "docs", "tuned", "$/M ours", "docs", "tuned", "log B ours", "docs", "tuned"], rows
        ),
        "",
        "the bill by component, $ per million messages (ours / docs baseline / tuned baseline):",
    ]
    for style, sides in figures["cost_components"].items():
        components = list(dict.fromkeys(k for s in SIDES for k in sides[s]))
        lines.append(
            f"  {style}: "
            + ", ".join(f"{k} {'/'.join(f'{sides[s].get(k, 0.0):.2f}' for s in SIDES)}" for k in components)
        )
    lines += ["", "calls by operation, per message:"]
    for style, sides in figures["calls_per_message"].items():
        for side in SIDES:
            operations = ", ".join(f"{k} {v}" for k, v in sides[side]["by_operation"].items())
            pollers = sides[side]["poller_per_message"]
            lines.append(f"  {style if side == 'ours' else '':<22} {side:<9}{operations}; pollers {pollers}")
    return lines


def _scaleout(figures: Mapping[str, Any]) -> list[str]:
    lines = ["", "scale-out through the Billing consumer: seconds to drain a backlog (G message groups x C consumers)"]
    for side, cells in figures["scaleout"].items():
        groups = sorted({int(k[1:].split("x")[0]) for k in cells})
        consumers = sorted({int(k.split("xC")[1]) for k in cells})
        rows = [[f"G={g}"] + [cells.get(f"G{g}xC{c}", "-") for c in consumers] for g in groups]
        lines += [f"  {side}:", *table([""] + [f"C={c}" for c in consumers], rows)]
    lines.append(
        f"  efficiency (worst speed-up over the serial drain / min(G, C)): ours {figures['scaleout_efficiency']}, "
        f"docs baseline {figures['scaleout_efficiency_baseline']}"
    )
    return lines


def render(figures: Mapping[str, Any], targets: Mapping[str, tuple[str, float]], *, function_log: str) -> str:
    """The whole table of a run's ``figures`` against ``targets``."""
    lines = [f"codec: encode+decode of a CreateOrder {figures['codec_us']} us", "", *_calls(figures), ""]
    lines += ["cold start, fresh interpreter: import + first message (import alone), median ms:"]
    lines += table(
        ["handler", "ours", "(import)", "docs", "(import)", "ratio"],
        [
            [h, c["ours"], c["ours_import"], c["baseline"], c["baseline_import"], c["ours"] / c["baseline"]]
            for h, c in figures["cold_start_ms"].items()
        ],
    )
    rates, local = figures["overhead_messages_per_s"], figures["local_messages_per_s"]
    lines += [
        "",
        f"framework overhead on in-memory fakes (orders): ours {rates['ours']} msg/s, docs baseline "
        f"{rates['baseline']} msg/s, ratio {figures['overhead_ratio']}",
        "end to end through the local cloud: " + ", ".join(f"{side} {local[side]} msg/s" for side in local),
        *_scaleout(figures),
        "",
        "targets: "
        + ", ".join(
            f"{n} {targets[n][0]} {targets[n][1]}: {figures[n]} {'met' if ok else 'MISSED'}"
            for n, ok in figures["targets"].items()
        ),
        f"plot: {figures['plot']}; function logs: {function_log}",
    ]
    return "\n".join(lines)
