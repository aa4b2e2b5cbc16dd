"""The bench's figures of the whole bill and both baselines, from counted units to the README's tables."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.report import render as render_table
from benchmarks.run import TARGETS, _met, style_figures
from benchmarks.styles import SIDES, STYLES, ConsumerRun, StyleFigures
from figures.bench import render
from figures.record import Record

pytestmark = pytest.mark.unit


def _figures(calls: int, wru: float, log_bytes: int) -> StyleFigures:
    # 10 messages: `calls` client/function calls each, `wru` write units, one invocation and `log_bytes` each
    units = {"dynamodb_wru": wru * 10, "sqs_poller_requests": 20.0, "lambda_requests": 10.0}
    return StyleFigures(10, {"dynamodb:PutItem": calls * 10}, 20, units, 1.0, {"orders": log_bytes * 10})


def _runs() -> dict[str, ConsumerRun]:
    shape = {"ours": (4, 2.0, 2000), "baseline": (10, 6.0, 500), "tuned": (5, 3.0, 400)}
    runs = {}
    for side in SIDES:
        run = ConsumerRun(side, messages_per_s=10.0)
        run.styles = {style: _figures(*shape[side]) for style in STYLES}
        runs[side] = run
    return runs


def _result() -> dict[str, Any]:
    result = style_figures(_runs())
    result |= {
        "codec_us": 50.0,
        "cold_start_ms": {"orders": {"ours": 500, "baseline": 550, "ours_import": 240, "baseline_import": 500}},
        "cold_start_ratio": 0.909,
        "overhead_messages_per_s": {"ours": 2000, "baseline": 4000},
        "overhead_ratio": 2.0,
        "scaleout": {"ours": {"G1xC1": 4.0, "G2xC2": 2.1}, "baseline": {"G1xC1": 5.0, "G2xC2": 2.6}},
        "scaleout_efficiency": 0.952,
        "scaleout_efficiency_baseline": 0.962,
        "plot": "bench/bench.png",
        "seconds": 200.0,
    }
    result["targets"] = {name: _met(name, result[name]) for name in TARGETS}
    result["target_values"] = {name: f"{sense} {value:g}" for name, (sense, value) in TARGETS.items()}
    return result


def test_each_ratio_is_ours_over_a_baseline_with_the_whole_bill() -> None:
    # Given three sides whose calls, write units and logs differ
    result = _result()
    # Then the ratios are ours over each baseline, calls and dollars, and the bill has its components
    assert result["calls_ratio"] == 0.4
    assert result["calls_ratio_tuned"] == 0.8
    ours = result["cost_components"]["notification"]["ours"]
    assert set(ours) == {"dynamodb_write", "sqs_receive_delete", "lambda_requests"}
    assert ours["sqs_receive_delete"] == pytest.approx(1.0)  # two poller requests per message, $0.50 a million
    cost = result["cost_per_million_usd"]["notification"]
    assert result["cost_ratio"] == round(cost["ours"] / cost["baseline"], 3)
    assert result["log_bytes_per_message"]["notification"] == {"ours": 2000, "baseline": 500, "tuned": 400}
    assert result["targets"]["calls_ratio"] and result["targets"]["calls_ratio_tuned"]


def test_the_readme_tables_show_both_baselines_the_bill_and_the_targets_as_recorded() -> None:
    # Given a record of such a run
    record = Record("make bench", "2026-12-08T02:00:00Z", "2 cores", _result())
    # When the README's block is rendered from it
    text = render({"bench": record})
    # Then it shows the calls and their ratios to both baselines, the bill and log bytes, and each target's verdict
    assert "| notification | 4.00 | 10.00 | 5.00 | 0.40 | 0.80 |" in text
    assert "| 2000 | 500 | 400 |" in text
    assert "| DynamoDB write units |" in text
    assert "| worst calls ratio, to tuned | | | | 0.8 | <= 0.8, met |" in text
    assert "| worst cost ratio, to docs | | | |" in text
    # And the bench's own table says the same
    table = render_table(record.result, TARGETS, function_log="log")
    assert "calls_ratio_tuned <= 0.8: 0.8 met" in table
