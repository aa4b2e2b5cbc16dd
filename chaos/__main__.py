"""``python -m chaos [--messages N] [--shards N] [--seed N] [--consumer ours|naive] [--saga ours|naive] [--sagas N]
[fault rates] [--sabotage S]``.

Runs the example system on the embedded local cloud under injected faults (:mod:`chaos.run`), prints a readable
report and, as its last line, one JSON object with the figures. Exit status 0 when every invariant holds, 1 when one
does not, 2 on a usage error. ``--sabotage drop-conditions`` / ``--sabotage drop-publishes`` break the product on
purpose (:class:`chaos.faults.Sabotage`): the run must then exit 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "functions") not in sys.path:
    sys.path.insert(0, str(ROOT / "functions"))

from chaos.faults import FaultRates, Sabotage  # noqa: E402
from chaos.producer import PRODUCERS, render_producer  # noqa: E402
from chaos.run import ChaosConfig, ChaosRun, Report, progress_line  # noqa: E402
from chaos.saga import SAGAS, render_sagas  # noqa: E402
from cli.arguments import positive_int  # noqa: E402
from figures.record import command_line, machine_note, name_argument, write_record  # noqa: E402

CHAOS_ASSEMBLY = ROOT / ".localcloud" / "chaos.out"
FUNCTION_LOG = ROOT / ".localcloud" / "chaos-functions.log"
"""Where the functions' own output (their structured logs) goes during a run."""

def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not a rate between 0 and 1")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults, rates = ChaosConfig(), FaultRates()
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=positive_int, default=defaults.messages, help="valid commands to send")
    parser.add_argument("--shards", type=positive_int, default=defaults.shards, help="partition keys (customers)")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--consumer", choices=("ours", "naive"), default=defaults.consumer)
    parser.add_argument("--producer", choices=PRODUCERS, default=defaults.producer,
                        help="HTTP producers through the outbox, or naive: save then publish")
    parser.add_argument("--producer-orders", type=int, default=defaults.producer_orders,
                        help="orders posted through the HTTP front door (0: none)")
    parser.add_argument("--saga", choices=SAGAS, default=defaults.saga,
                        help="the order saga's orchestrator: ours, or naive: state and sends as separate writes")
    parser.add_argument("--sagas", type=_count, default=defaults.sagas,
                        help="PlaceOrder sagas (refusals, a participant held past the deadline; 0: none)")
    parser.add_argument("--transient-rate", type=_rate, default=rates.transient, help="per AWS call")
    parser.add_argument("--ambiguous-rate", type=_rate, default=rates.ambiguous, help="per write that took effect")
    parser.add_argument("--crash-rate", type=_rate, default=rates.crash, help="per write that took effect")
    parser.add_argument("--timeout-rate", type=_rate, default=rates.timeout, help="per write, before it")
    parser.add_argument("--entry-rate", type=_rate, default=rates.entry,
                        help="per entry of a PublishBatch / SendMessageBatch (the entry fails, the others go through)")
    parser.add_argument("--poison-rate", type=_rate, default=defaults.poison_rate, help="per CreateOrder")
    parser.add_argument("--duplicate-rate", type=_rate, default=defaults.duplicate_rate, help="per message")
    parser.add_argument("--assembly", type=Path, default=None, help="synthesized cloud assembly (default: synth)")
    parser.add_argument(
        "--sabotage",
        action="append",
        default=[],
        choices=Sabotage.NAMES,
        help="break the product on purpose (repeatable): DynamoDB writes without their conditions, or 10%% of the "
        "SNS publishes acknowledged and dropped; the checker must fail the run",
    )
    parser.add_argument("--verbose", action="store_true", help="log every failed batch of the local cloud on stderr")
    parser.add_argument(
        "--record",
        nargs="?",
        const=True,
        default=None,
        type=name_argument,
        metavar="NAME",
        help="also keep the figures in docs/results/NAME.json (default chaos, chaos-naive for --consumer naive; "
        "then: make figures)",
    )
    return parser.parse_args(argv)


def render(report: Report) -> str:
    summary = report.summary()
    lines = [
        f"chaos run: {summary['messages']} commands over {summary['shards']} shards, seed {summary['seed']}, "
        f"consumer {summary['consumer']}, {summary['invocations']} invocations in {summary['seconds']} s",
        "faults injected: " + ", ".join(f"{kind} {count}" for kind, count in summary["faults"].items()),
        "duplicates delivered: "
        + ", ".join(f"{queue} {count}" for queue, count in summary["duplicates_delivered"].items()),
        "",
        f"  {'invariant':<24} {'found':>7}  verdict",
    ]
    for invariant in report.verdict:
        verdict = "ok" if invariant.holds else "VIOLATED"
        must = f" (must be {invariant.expected})" if invariant.expected else ""
        lines.append(f"  {invariant.name:<24} {invariant.found:>7}  {verdict}{must}")
    for invariant in report.verdict:
        for example in invariant.examples:
            lines.append(f"    {invariant.name}: {example}")
    if report.producer is not None:
        lines.append(render_producer(report.producer))
    if report.sagas is not None:
        lines.append(render_sagas(report.sagas))
    lines.append("")
    lines.append("every invariant holds" if summary["ok"] else "INVARIANTS VIOLATED")
    return "\n".join(lines)


def record_name(args: argparse.Namespace) -> str:
    """The record a ``--record`` run writes: its NAME, else ``chaos`` (``chaos-naive`` for the naive consumer)."""
    if isinstance(args.record, str):
        return args.record
    if args.consumer == "ours" and args.saga != "ours":
        return f"chaos-saga-{args.saga}"
    return "chaos" if args.consumer == "ours" else f"chaos-{args.consumer}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    machine = machine_note()
    config = ChaosConfig(
        messages=args.messages,
        shards=args.shards,
        seed=args.seed,
        consumer=args.consumer,
        rates=FaultRates(
            transient=args.transient_rate,
            ambiguous=args.ambiguous_rate,
            crash=args.crash_rate,
            timeout=args.timeout_rate,
            entry=args.entry_rate,
        ),
        poison_rate=args.poison_rate,
        duplicate_rate=args.duplicate_rate,
        sabotage=Sabotage.named(args.sabotage),
        producer=args.producer,
        producer_orders=args.producer_orders,
        saga=args.saga,
        sagas=args.sagas,
    )
    from localcloud import LocalCloudError, synthesize  # noqa: PLC0415 - after argument errors, which are cheap

    # Failed batches are the point of the run; the report counts them. --verbose shows each one.
    logging.getLogger("localcloud").setLevel(logging.WARNING if args.verbose else logging.ERROR)

    with progress_line() as progress:
        try:
            assembly = args.assembly
            if assembly is None:
                progress("synthesizing the CDK app")
                assembly = synthesize(CHAOS_ASSEMBLY, app_dir=ROOT)
            elif not (assembly / "manifest.json").is_file():
                print(f"error: {assembly} is not a cloud assembly (no manifest.json)", file=sys.stderr)
                return 2
            FUNCTION_LOG.parent.mkdir(parents=True, exist_ok=True)
            with FUNCTION_LOG.open("w", encoding="utf-8") as log, redirect_stdout(log):
                report = ChaosRun(config, assembly, progress).run()
        except (LocalCloudError, TimeoutError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    print(render(report))
    print(f"function logs: {FUNCTION_LOG.relative_to(ROOT)}")
    if args.record is not None:
        command = command_line("make chaos", argv)
        path = write_record(record_name(args), command, report.summary(), machine=machine)
        print(f"recorded in {path.relative_to(ROOT)}: make figures puts it in the docs", file=sys.stderr)
    print(json.dumps(report.summary(), sort_keys=True))
    return 0 if report.summary()["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
