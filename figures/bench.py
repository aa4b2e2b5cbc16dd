"""The Performance figures of the README, from the record of ``make bench`` (its last-line JSON).

Example:
    >>> duration(195.4)
    '3 min 15 s'
    >>> style_label("pubsub_per_subscriber")
    'publish/subscribe (per subscriber)'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from figures.record import Record

RECORDS = ("bench",)
STYLE_LABELS = {
    "notification": "notification",
    "async_request": "request, async reply",
    "blocking_request": "request, blocking",
    "pubsub_per_subscriber": "publish/subscribe (per subscriber)",
    "scatter_gather": "scatter-gather (3 responders)",
}
HEADLINE_HANDLER = "orders"
"""The handler whose cold start the table shows in full; the worst handler's ratio is named beside it."""


def duration(seconds: float) -> str:
    """``195.4`` -> ``3 min 15 s``."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def style_label(style: str) -> str:
    """How the README names a style of the bench (an unknown one by its key)."""
    return STYLE_LABELS.get(style, style.replace("_", " "))


def _targets() -> Mapping[str, tuple[str, float]]:
    from benchmarks.run import TARGETS  # noqa: PLC0415 - the bench's own targets, loaded only to render them

    return TARGETS


def _target(result: Mapping[str, Any], name: str) -> str:
    sense, value = _targets()[name]
    met = result.get("targets", {}).get(name)
    verdict = "" if met is None else (", met" if met else ", missed")
    return f"{sense} {value}{verdict}"


def _row(*cells: object) -> str:
    """A Markdown table row; an empty cell is ``| |``."""
    return "|" + "|".join(f" {c} " if str(c) else " " for c in cells) + "|"


def render(records: Mapping[str, Record]) -> str:
    """The run line and the two tables (calls and cost per style; each figure against its target)."""
    record = records["bench"]
    r = record.result
    lines = [
        f"Latest run (`{record.command}`, {duration(r['seconds'])}, {record.date}; {record.machine}; AWS calls are "
        "exact counts from botocore, times are this machine's"
        + (f"; older than the code it measures: {record.older_than_code}" if record.older_than_code else "")
        + "):",
        "",
        _row("style", "AWS calls per message, ours", "baseline", "ratio", "$ per million messages, ours", "baseline"),
        "|---|---|---|---|---|---|",
    ]
    for style, pair in r["calls_per_message"].items():
        ours, base = pair["ours"]["per_message"], pair["baseline"]["per_message"]
        cost = r["cost_per_million_usd"][style]
        lines.append(
            _row(
                style_label(style), f"{ours:.2f}", f"{base:.2f}", f"{ours / base:.2f}",
                f"{cost['ours']:.2f}", f"{cost['baseline']:.2f}",
            )
        )
    cold = r["cold_start_ms"]
    head = cold[HEADLINE_HANDLER]
    worst = max(cold, key=lambda handler: cold[handler]["ours"] / cold[handler]["baseline"])
    rates, local = r["overhead_messages_per_s"], r["local_messages_per_s"]
    lines += [
        "",
        _row("figure", "ours", "baseline", "ratio", "target"),
        "|---|---|---|---|---|",
        _row("worst calls ratio", "", "", f"{r['calls_ratio']:g}", _target(r, "calls_ratio")),
        _row("worst cost ratio", "", "", f"{r['cost_ratio']:g}", _target(r, "cost_ratio")),
        _row(
            f"cold start, import + first message ({HEADLINE_HANDLER})", f"{head['ours']} ms", f"{head['baseline']} ms",
            f"{head['ours'] / head['baseline']:.2f} (worst handler: {worst.replace('_', ' ')} "
            f"{r['cold_start_ratio']:g})",
            _target(r, "cold_start_ratio"),
        ),
        _row(
            f"import alone ({HEADLINE_HANDLER})", f"{head['ours_import']} ms", f"{head['baseline_import']} ms",
            f"{head['ours_import'] / head['baseline_import']:.2f}", "",
        ),
        _row(
            f"framework CPU on in-memory fakes ({HEADLINE_HANDLER})", f"{rates['ours']} msg/s",
            f"{rates['baseline']} msg/s", f"{r['overhead_ratio']:g}", _target(r, "overhead_ratio"),
        ),
        _row("end to end through the local cloud", f"{local['ours']} msg/s", f"{local['baseline']} msg/s", "", ""),
        _row(
            "scale-out efficiency (G, C in 1, 2, 4, 8)", f"{r['scaleout_efficiency']:g}", "", "",
            _target(r, "scaleout_efficiency"),
        ),
    ]
    return "\n".join(lines)
