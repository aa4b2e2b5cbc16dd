"""The figures of docs/performance.md, from the record of ``make bench`` (its last-line JSON).

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
    """How the docs name a style of the bench (an unknown one by its key)."""
    return STYLE_LABELS.get(style, style.replace("_", " "))


LEGACY_TARGETS = {
    "calls_ratio": "<= 0.5",
    "cost_ratio": "<= 0.6",
    "cold_start_ratio": "<= 1.0",
    "overhead_ratio": "<= 1.25",
    "scaleout_efficiency": ">= 0.8",
}
"""The targets of the bench before the whole bill, for records that did not keep theirs."""


def _target(result: Mapping[str, Any], name: str) -> str:
    """The target as the run recorded it, with its verdict (``<= 0.5, missed``)."""
    met = result.get("targets", {}).get(name)
    verdict = "" if met is None else ("met" if met else "missed")
    value = result.get("target_values", LEGACY_TARGETS).get(name, "")
    return ", ".join(part for part in (value, verdict) if part)


def _row(*cells: object) -> str:
    """A Markdown table row; an empty cell is ``| |``."""
    return "|" + "|".join(f" {c} " if str(c) else " " for c in cells) + "|"


def render(records: Mapping[str, Record]) -> str:
    """The run line and the tables: calls per style, the whole bill per style, the bill's components for the
    style that sets the cost ratio, each figure against its target (a record from before the whole bill and the
    tuned baseline: calls and cost per style, then the figures)."""
    record = records["bench"]
    if "cost_components" in record.result:
        return render_whole_bill(record)
    return _render_legacy(record)


def _render_legacy(record: Record) -> str:
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


SIDES = ("ours", "baseline", "tuned")
COMPONENT_LABELS = {
    "sns": "SNS publishes and deliveries",
    "sqs_send": "SQS sends (and SNS deliveries into queues)",
    "sqs_receive_delete": "SQS receives and deletes (Lambda's pollers)",
    "lambda_requests": "Lambda requests",
    "lambda_duration": "Lambda GB-seconds (billed duration here)",
    "dynamodb_write": "DynamoDB write units",
    "dynamodb_read": "DynamoDB read units",
    "logs": "CloudWatch Logs ingestion",
    "s3": "S3 requests (claim checks)",
}


def _ratio(ours: float, base: float) -> str:
    return f"{ours / base:.2f}" if base else ""


def render_whole_bill(record: Record) -> str:
    """The tables of a record with the whole bill and both baselines."""
    r = record.result
    lines = [
        f"Latest run (`{record.command}`, {duration(r['seconds'])}, {record.date}; {record.machine}; AWS calls are "
        "exact counts from botocore, times are this machine's; docs = the Powertools-docs baseline, tuned = the "
        "tuned baseline):",
        "",
        _row("style", "AWS calls per message, ours", "docs", "tuned", "ratio to docs", "ratio to tuned"),
        "|---|---|---|---|---|---|",
    ]
    for style, sides in r["calls_per_message"].items():
        calls = [sides[s]["per_message"] for s in SIDES]
        ratios = (_ratio(calls[0], calls[1]), _ratio(calls[0], calls[2]))
        lines.append(_row(style_label(style), *(f"{c:.2f}" for c in calls), *ratios))
    lines += [
        "",
        _row(
            "style", "$ per million messages, ours", "docs", "tuned", "ratio to docs", "ratio to tuned",
            "log bytes per message, ours", "docs", "tuned",
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for style, cost in r["cost_per_million_usd"].items():
        logs = r["log_bytes_per_message"][style]
        lines.append(
            _row(
                style_label(style), *(f"{cost[s]:.2f}" for s in SIDES), _ratio(cost["ours"], cost["baseline"]),
                _ratio(cost["ours"], cost["tuned"]), *(logs[s] for s in SIDES),
            )
        )
    worst = max(r["cost_per_million_usd"], key=lambda s: r["cost_per_million_usd"][s]["ours"]
                / r["cost_per_million_usd"][s]["tuned"])
    components = r["cost_components"][worst]
    lines += [
        "",
        _row(f"the bill of a {style_label(worst)}, $ per million", "ours", "docs", "tuned"),
        "|---|---|---|---|",
    ]
    for component in dict.fromkeys(k for s in SIDES for k in components[s]):
        dollars = (f"{components[s].get(component, 0.0):.2f}" for s in SIDES)
        lines.append(_row(COMPONENT_LABELS.get(component, component), *dollars))
    cold = r["cold_start_ms"]
    head = cold[HEADLINE_HANDLER]
    worst_cold = max(cold, key=lambda handler: cold[handler]["ours"] / cold[handler]["baseline"])
    rates, local = r["overhead_messages_per_s"], r["local_messages_per_s"]
    lines += [
        "",
        _row("figure", "ours", "docs", "tuned", "ratio", "target"),
        "|---|---|---|---|---|---|",
        _row("worst calls ratio, to docs", "", "", "", f"{r['calls_ratio']:g}", _target(r, "calls_ratio")),
        _row("worst calls ratio, to tuned", "", "", "", f"{r['calls_ratio_tuned']:g}", _target(r, "calls_ratio_tuned")),
        _row("worst cost ratio, to docs", "", "", "", f"{r['cost_ratio']:g}", _target(r, "cost_ratio")),
        _row("worst cost ratio, to tuned", "", "", "", f"{r['cost_ratio_tuned']:g}", _target(r, "cost_ratio_tuned")),
        _row(
            f"cold start, import + first message ({HEADLINE_HANDLER})", f"{head['ours']} ms", f"{head['baseline']} ms",
            "", f"{head['ours'] / head['baseline']:.2f} (worst handler: {worst_cold.replace('_', ' ')} "
            f"{r['cold_start_ratio']:g})",
            _target(r, "cold_start_ratio"),
        ),
        _row(
            f"import alone ({HEADLINE_HANDLER})", f"{head['ours_import']} ms", f"{head['baseline_import']} ms", "",
            f"{head['ours_import'] / head['baseline_import']:.2f}", "",
        ),
        _row(
            f"framework CPU on in-memory fakes ({HEADLINE_HANDLER})", f"{rates['ours']} msg/s",
            f"{rates['baseline']} msg/s", "", f"{r['overhead_ratio']:g}", _target(r, "overhead_ratio"),
        ),
        _row("end to end through the local cloud", *(f"{local[s]} msg/s" for s in SIDES), "", ""),
        _row(
            "scale-out efficiency through the Billing consumer (ours: G, C in 1, 2, 4, 8; docs: C = G)",
            f"{r['scaleout_efficiency']:g}", f"{r['scaleout_efficiency_baseline']:g}", "", "",
            _target(r, "scaleout_efficiency"),
        ),
    ]
    return "\n".join(lines)
