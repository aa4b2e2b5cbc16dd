"""``make bench``: the product side by side with the baseline a team would write from the Powertools documentation
(:mod:`chaos.naive` consumers, :class:`benchmarks.styles.BaselineRequester`), in one run.

Prints a table, a progress line on stderr while it runs, and as its last line one JSON object:
``calls_per_message`` and ``calls_ratio`` (:mod:`benchmarks.styles`, counted from botocore),
``cost_per_million_usd`` and ``cost_ratio`` (:mod:`benchmarks.pricing`), ``cold_start_ms`` and ``cold_start_ratio``
(:mod:`benchmarks.coldstart`), ``overhead_ratio`` (:mod:`benchmarks.overhead`), ``scaleout`` and
``scaleout_efficiency`` (:mod:`benchmarks.scaleout`), ``local_messages_per_s``, and ``plot`` (a PNG under
``bench/``). Each ratio is ours / baseline for the worst style or
handler (``overhead_ratio``: baseline throughput / ours); ``targets`` says which the run met.

Figures from the local cloud measure this code plus moto on this machine, not AWS latency; the AWS call counts are
exact and are what a bill is made of.
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
    "cost_ratio": ("<=", 0.6),
    "cold_start_ratio": ("<=", 1.0),
    "overhead_ratio": ("<=", 1.25),
    "scaleout_efficiency": (">=", 0.8),
}
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


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from benchmarks import coldstart, overhead, scaleout  # noqa: PLC0415 - heavy imports after argument errors
    from benchmarks.plot import write_png  # noqa: PLC0415
    from benchmarks.styles import STYLES, run_consumer  # noqa: PLC0415
    from localcloud import synthesize  # noqa: PLC0415

    logging.getLogger("localcloud").setLevel(logging.ERROR)
    figures: dict[str, Any] = {"codec_us": round(codec_microseconds(), 1)}

    progress("synthesizing the CDK app")
    synthesize(BENCH_ASSEMBLY, app_dir=ROOT)
    FUNCTION_LOG.parent.mkdir(parents=True, exist_ok=True)
    runs = {}
    with FUNCTION_LOG.open("w", encoding="utf-8") as log, redirect_stdout(log):
        for consumer in ("ours", "baseline"):
            progress(f"messaging styles through the local cloud: {consumer}")
            runs[consumer] = run_consumer(BENCH_ASSEMBLY, consumer, messages=args.messages, shards=args.shards)
    ours, base = runs["ours"], runs["baseline"]
    figures["calls_per_message"] = {
        style: {"ours": ours.styles[style].as_json(), "baseline": base.styles[style].as_json()} for style in STYLES
    }
    figures["calls_ratio"] = round(
        max(ours.styles[s].calls_per_message / base.styles[s].calls_per_message for s in STYLES), 3
    )
    figures["cost_per_million_usd"] = {
        style: {
            "ours": round(ours.styles[style].cost_per_million_usd, 3),
            "baseline": round(base.styles[style].cost_per_million_usd, 3),
        }
        for style in STYLES
    }
    figures["cost_ratio"] = round(
        max(ours.styles[s].cost_per_million_usd / base.styles[s].cost_per_million_usd for s in STYLES), 3
    )
    figures["local_messages_per_s"] = {"ours": round(ours.messages_per_s, 1), "baseline": round(base.messages_per_s, 1)}

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

    progress("scale-out over message groups")
    cells = scaleout.measure()
    figures["scaleout"] = {f"G{c.groups}xC{c.consumers}": round(c.seconds, 3) for c in cells}
    figures["scaleout_efficiency"] = round(scaleout.efficiency(cells), 3)

    calls = {
        s: {"ours": ours.styles[s].calls_per_message, "baseline": base.styles[s].calls_per_message} for s in STYLES
    }
    figures["plot"] = str(write_png(PLOT, cells, calls).relative_to(ROOT))
    figures["targets"] = {name: _met(name, figures[name]) for name in TARGETS}
    figures["cells"] = cells
    return figures


def render(figures: dict[str, Any]) -> str:
    lines = [
        f"codec: encode+decode of a CreateOrder {figures['codec_us']} us",
        "",
        "AWS calls per message (client + functions; the Lambda pollers' calls apart), and cost per million:",
        f"  {'style':<24}{'ours':>7}{'baseline':>10}{'ratio':>7}{'$/M ours':>11}{'$/M base':>11}",
    ]
    for style, pair in figures["calls_per_message"].items():
        o, b = pair["ours"]["per_message"], pair["baseline"]["per_message"]
        cost = figures["cost_per_million_usd"][style]
        lines.append(f"  {style:<24}{o:>7.2f}{b:>10.2f}{o / b:>7.2f}{cost['ours']:>11.3f}{cost['baseline']:>11.3f}")
    for style, pair in figures["calls_per_message"].items():
        lines.append(f"  {style}: ours " + ", ".join(f"{k} {v}" for k, v in pair["ours"]["by_operation"].items()))
        lines.append(
            f"  {' ' * len(style)}  baseline "
            + ", ".join(f"{k} {v}" for k, v in pair["baseline"]["by_operation"].items())
        )
    lines += [
        "",
        "cold start, fresh interpreter: import + first message (import alone), median ms:",
        f"  {'handler':<16}{'ours':>14}{'baseline':>16}{'ratio':>7}",
    ]
    for handler, c in figures["cold_start_ms"].items():
        lines.append(
            f"  {handler:<16}{c['ours']:>7} ({c['ours_import']:>4}){c['baseline']:>9} ({c['baseline_import']:>4})"
            f"{c['ours'] / c['baseline']:>7.2f}"
        )
    rates = figures["overhead_messages_per_s"]
    lines += [
        "",
        f"framework overhead on in-memory fakes (orders): ours {rates['ours']} msg/s, baseline "
        f"{rates['baseline']} msg/s, ratio {figures['overhead_ratio']}",
        f"end to end through the local cloud: ours {figures['local_messages_per_s']['ours']} msg/s, baseline "
        f"{figures['local_messages_per_s']['baseline']} msg/s",
        "",
        "scale-out: seconds to drain the backlog (rows: message groups, columns: consumers)",
        "  " + " " * 6 + "".join(f"{f'C={c}':>8}" for c in (1, 2, 4, 8)),
    ]
    for groups in (1, 2, 4, 8):
        lines.append(
            f"  G={groups:<4}" + "".join(f"{figures['scaleout'][f'G{groups}xC{c}']:>8.2f}" for c in (1, 2, 4, 8))
        )
    lines += [
        f"  efficiency (worst speed-up / min(G, C)): {figures['scaleout_efficiency']}",
        "",
        "targets: "
        + ", ".join(
            f"{n} {TARGETS[n][0]} {TARGETS[n][1]}: {figures[n]} {'met' if ok else 'MISSED'}"
            for n, ok in figures["targets"].items()
        ),
        f"plot: {figures['plot']}; function logs: {FUNCTION_LOG.relative_to(ROOT)}",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--messages", type=positive_int, default=40, help="messages per style through the local cloud")
    parser.add_argument("--shards", type=positive_int, default=8, help="partition keys they are spread over")
    parser.add_argument("--cold-runs", type=positive_int, default=10, help="cold starts per handler and design")
    parser.add_argument("--overhead-batches", type=positive_int, default=60, help="batches of 10 timed on fakes")
    parser.add_argument(
        "--record", action="store_true", help="also keep the figures in docs/results/bench.json (then: make figures)"
    )
    args = parser.parse_args(argv)
    machine = machine_note()
    started = time.monotonic()
    with progress_line() as progress:
        figures = run(args, progress)
    figures.pop("cells")
    figures["seconds"] = round(time.monotonic() - started, 1)
    print(render(figures))
    if args.record:
        path = write_record("bench", command_line("make bench", argv), figures, machine=machine)
        print(f"recorded in {path.relative_to(ROOT)}: make figures puts it in the README", file=sys.stderr)
    print(json.dumps(figures, sort_keys=True))
    return 0
