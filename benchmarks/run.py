"""``make bench``: the product side by side with two baselines in one run: the one a team would write from the
Powertools documentation (:mod:`chaos.naive` consumers, :class:`benchmarks.requesters.BaselineRequester`) and a
tuned one (:mod:`benchmarks.tuned`: idempotency only where a handler is not naturally idempotent, the product's
polling policy; :class:`benchmarks.requesters.TunedRequester`).

Prints a table, a progress line on stderr while it runs, and as its last line one JSON object:
``calls_per_message`` with ``calls_ratio`` (against the documentation baseline) and ``calls_ratio_tuned``
(:mod:`benchmarks.styles`, counted from botocore); ``cost_per_million_usd`` and ``cost_components`` (the whole bill,
:mod:`benchmarks.pricing`) with ``cost_ratio`` and ``cost_ratio_tuned``; ``log_bytes_per_message``;
``cold_start_ms`` and ``cold_start_ratio`` (:mod:`benchmarks.coldstart`); ``overhead_ratio``
(:mod:`benchmarks.overhead`); ``scaleout`` per side, ``scaleout_efficiency`` (the product's consumer) and
``scaleout_efficiency_baseline`` (:mod:`benchmarks.scaleout`); ``local_messages_per_s``; and ``plot`` (a PNG under
``bench/``). Each ratio is ours / a baseline's for the worst style or handler (``overhead_ratio``: baseline
throughput / ours); ``targets`` says which the run met.

Figures from the local cloud measure this code plus moto on this machine, not AWS latency; the AWS call counts are
exact and, with the invocations and log bytes, are what a bill is made of.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
if str(FUNCTIONS) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS))

from benchmarks.report import render  # noqa: E402
from chaos.run import progress_line  # noqa: E402
from cli.arguments import positive_int  # noqa: E402
from figures.record import command_line, machine_note, write_record  # noqa: E402
from messaging.codec import CloudEventJsonCodec  # noqa: E402
from messaging.envelope import command  # noqa: E402

BENCH_ASSEMBLY = ROOT / ".localcloud" / "bench.out"
FUNCTION_LOG = ROOT / ".localcloud" / "bench-functions.log"
PLOT = ROOT / "bench" / "bench.png"
TARGETS = {
    "calls_ratio": ("<=", 0.5),
    "calls_ratio_tuned": ("<=", 0.8),
    "cost_ratio": ("<=", 0.5),
    "cost_ratio_tuned": ("<=", 0.8),
    "cold_start_ratio": ("<=", 1.0),
    "overhead_ratio": ("<=", 1.5),
    "scaleout_efficiency": (">=", 0.8),
}
BASELINES = {"baseline": "", "tuned": "_tuned"}
"""Each baseline and the suffix of its ratios."""
Progress = Callable[[str], None]


def codec_microseconds(iterations: int = 5000) -> float:
    """Encode + decode of a CreateOrder, in microseconds."""
    codec = CloudEventJsonCodec()
    message = command(
        "orders.CreateOrder",
        {"customer_id": "c-1", "lines": [{"sku": "book", "quantity": 1, "unit_price": "12.50"}]},
        source="/bench",
        partitionkey="c-1",
        replyto="https://sqs.eu-west-1.amazonaws.com/123456789012/replies.fifo",
    )
    started = time.perf_counter()
    for _ in range(iterations):
        codec.decode(codec.encode(message))
    return 1e6 * (time.perf_counter() - started) / iterations


def _met(name: str, value: float) -> bool:
    sense, target = TARGETS[name]
    return value <= target if sense == "<=" else value >= target


def worst_ratio(per_style: dict[str, dict[str, float]], baseline: str) -> float:
    """The largest ours / ``baseline`` over the styles."""
    return round(max(pair["ours"] / pair[baseline] for pair in per_style.values()), 3)


def style_figures(runs: dict[str, Any]) -> dict[str, Any]:
    """The per-style figures of the three sides, their ratios, and the bill's components."""
    from benchmarks.styles import SIDES, STYLES  # noqa: PLC0415

    figures: dict[str, Any] = {
        "calls_per_message": {s: {side: runs[side].styles[s].as_json() for side in SIDES} for s in STYLES},
        "cost_per_million_usd": {
            s: {side: round(runs[side].styles[s].cost_per_million_usd, 3) for side in SIDES} for s in STYLES
        },
        "cost_components": {
            s: {side: {k: round(v, 3) for k, v in runs[side].styles[s].cost_components.items()} for side in SIDES}
            for s in STYLES
        },
        "log_bytes_per_message": {
            s: {side: round(runs[side].styles[s].log_bytes_per_message) for side in SIDES} for s in STYLES
        },
        "local_messages_per_s": {side: round(runs[side].messages_per_s, 1) for side in SIDES},
    }
    calls = {s: {side: runs[side].styles[s].calls_per_message for side in SIDES} for s in STYLES}
    for baseline, suffix in BASELINES.items():
        figures[f"calls_ratio{suffix}"] = worst_ratio(calls, baseline)
        figures[f"cost_ratio{suffix}"] = worst_ratio(figures["cost_per_million_usd"], baseline)
    return figures


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from benchmarks import coldstart, overhead, scaleout  # noqa: PLC0415 - heavy imports after argument errors
    from benchmarks.plot import write_png  # noqa: PLC0415
    from benchmarks.styles import SIDES, run_consumer  # noqa: PLC0415
    from localcloud import synthesize  # noqa: PLC0415

    logging.getLogger("localcloud").setLevel(logging.ERROR)
    figures: dict[str, Any] = {"codec_us": round(codec_microseconds(), 1)}

    progress("synthesizing the CDK app")
    synthesize(BENCH_ASSEMBLY, app_dir=ROOT)
    FUNCTION_LOG.parent.mkdir(parents=True, exist_ok=True)
    runs = {}
    with FUNCTION_LOG.open("w", encoding="utf-8") as log, redirect_stdout(log):
        for side in SIDES:
            progress(f"messaging styles through the local cloud: {side}")
            runs[side] = run_consumer(BENCH_ASSEMBLY, side, messages=args.messages, shards=args.shards)
    figures.update(style_figures(runs))

    cold = coldstart.measure(args.cold_runs, progress=progress)
    figures["cold_start_ms"] = {
        c.handler: {
            "ours": round(c.ours_ms),
            "baseline": round(c.baseline_ms),
            "ours_import": round(c.ours_import_ms),
            "baseline_import": round(c.baseline_import_ms),
        }
        for c in cold
    }
    figures["cold_start_ratio"] = round(max(c.ratio for c in cold), 3)

    progress("framework overhead on in-memory fakes")
    ours_rate, baseline_rate = overhead.overhead(args.overhead_batches)
    figures["overhead_messages_per_s"] = {"ours": round(ours_rate), "baseline": round(baseline_rate)}
    figures["overhead_ratio"] = round(baseline_rate / ours_rate, 3)

    cells = {
        side: scaleout.measure_side(
            BENCH_ASSEMBLY,
            side,
            cells=scaleout.grid() if side == "ours" else scaleout.diagonal(),
            messages=args.scaleout_messages,
            progress=progress,
        )
        for side in ("ours", "baseline")
    }
    figures["scaleout"] = {
        side: {f"G{c.groups}xC{c.consumers}": round(c.seconds, 3) for c in side_cells}
        for side, side_cells in cells.items()
    }
    figures["scaleout_efficiency"] = round(scaleout.efficiency(cells["ours"]), 3)
    figures["scaleout_efficiency_baseline"] = round(scaleout.efficiency(cells["baseline"]), 3)

    calls = {s: {side: pair[side]["per_message"] for side in SIDES} for s, pair in figures["calls_per_message"].items()}
    figures["plot"] = str(write_png(PLOT, cells["ours"], calls).relative_to(ROOT))
    figures["targets"] = {name: _met(name, figures[name]) for name in TARGETS}
    figures["target_values"] = {name: f"{sense} {value:g}" for name, (sense, value) in TARGETS.items()}
    return figures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--messages", type=positive_int, default=40, help="messages per style through the local cloud")
    parser.add_argument("--shards", type=positive_int, default=8, help="partition keys they are spread over")
    parser.add_argument("--cold-runs", type=positive_int, default=10, help="cold starts per handler and design")
    parser.add_argument("--overhead-batches", type=positive_int, default=60, help="batches of 10 timed on fakes")
    parser.add_argument(
        "--scaleout-messages", type=positive_int, default=80, help="backlog of each scale-out cell (G x C)"
    )
    parser.add_argument(
        "--record", action="store_true", help="also keep the figures in docs/results/bench.json (then: make figures)"
    )
    args = parser.parse_args(argv)
    machine = machine_note()
    started = time.monotonic()
    with progress_line() as progress:
        figures = run(args, progress)
    figures["seconds"] = round(time.monotonic() - started, 1)
    print(render(figures, TARGETS, function_log=str(FUNCTION_LOG.relative_to(ROOT))))
    if args.record:
        path = write_record("bench", command_line("make bench", argv), figures, machine=machine)
        print(f"recorded in {path.relative_to(ROOT)}: make figures puts it in the docs", file=sys.stderr)
    print(json.dumps(figures, sort_keys=True))
    return 0
