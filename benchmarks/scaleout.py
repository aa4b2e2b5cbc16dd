"""Scale-out through the consumers themselves: the example system deployed on the local cloud, the Billing
consumer (the product's, or the documentation baseline's) given a fixed latency per message
(:mod:`benchmarks.latency`), and its event source mapping's ``MaximumConcurrency`` set to ``C``; a backlog of
:data:`MESSAGES` OrderCreated events spread over ``G`` message groups is then drained by the mapping's pollers.

A cell's time runs from enabling the mapping until the last message of the backlog has been processed (the
function's invocations say so). FIFO hands a group to one batch at a time, so a backlog of one group drains
serially whatever ``C``; the serial drain is the fastest cell of one group (:func:`serial_seconds`: with one
consumer, the emulator's poller receives the next batch only after the previous one's slot is released, while with
two it is already waiting, which makes ``C = 1`` slower than a serial drain need be, and a reference that flatters
every speed-up). The speed-up over the serial drain is bounded by ``min(G, C)``; a cell's efficiency is its speed-up
over that bound, and ``scaleout_efficiency`` the worst cell of the product's consumer. AWS accepts a
``MaximumConcurrency`` of 2 or more; ``C = 1`` is measured as the local reference row.

The handler's latency (:data:`LATENCY_S`, about what one message costs a consumer on AWS: a conditional write and a
round trip or two) keeps the figure about the groups' parallelism: the local cloud answers AWS calls one at a time
in one process, a few milliseconds each, so with a much shorter handler the cells of eight consumers would time the
emulator's serialized receives, deletes and writes instead.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.latency import LATENCY_VARIABLE, WRAPPED_VARIABLE
from benchmarks.styles import order_created, prepare
from localcloud import LocalCloud
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import event

SIZES = (1, 2, 4, 8)
MESSAGES = 80
LATENCY_S = 0.05
CELL_TIMEOUT_S = 120.0
CONSUMER = "billing.handler.lambda_handler"
"""The consumer scaled out: it applies each event with one write and emits nothing, so a cell times the consumer
and not a chain of services behind it."""

BASELINE_CONSUMERS = ("chaos.naive.billing.lambda_handler",)


@dataclass(frozen=True)
class Cell:
    groups: int
    consumers: int
    seconds: float


def prepare_scaleout(assembly: Path, target: Path, consumer: str, latency_s: float) -> Path:
    """``consumer``'s assembly (:func:`benchmarks.styles.prepare`) with the Billing function's handler wrapped in
    :mod:`benchmarks.latency` (its code directory, a copy of links beside the assembly, gains ``benchmarks``)."""
    prepared = prepare(assembly, target, consumer)
    for template_path in prepared.glob("*.template.json"):
        template = json.loads(template_path.read_text())
        changed = False
        for resource in template.get("Resources", {}).values():
            properties = resource.get("Properties", {})
            handler = properties.get("Handler", "")
            if resource.get("Type") != "AWS::Lambda::Function" or handler not in (CONSUMER, *BASELINE_CONSUMERS):
                continue
            metadata = resource.setdefault("Metadata", {})
            metadata["aws:asset:path"] = str(_code_with_benchmarks(Path(metadata["aws:asset:path"]), prepared))
            variables = properties.setdefault("Environment", {}).setdefault("Variables", {})
            variables[WRAPPED_VARIABLE] = handler
            variables[LATENCY_VARIABLE] = str(round(latency_s * 1000))
            properties["Handler"] = "benchmarks.latency.lambda_handler"
            changed = True
        if changed:
            template_path.write_text(json.dumps(template))
    return prepared


def _code_with_benchmarks(code: Path, prepared: Path) -> Path:
    """A code directory beside the assembly holding ``code``'s entries (symlinked) and the ``benchmarks`` package."""
    target = prepared / "scaleout-code"
    if not target.exists():
        target.mkdir()
        for entry in code.iterdir():
            (target / entry.name).symlink_to(entry.resolve())
        if not (target / "benchmarks").exists():
            (target / "benchmarks").symlink_to(Path(__file__).resolve().parent)
    return target


def _wait_processed(cloud: LocalCloud, function_name: str, since: float, messages: int) -> float:
    """Monotonic time at which ``messages`` messages had been processed by ``function_name`` since ``since``
    (from the mapping's invocation records: the batch's messages less its reported failures)."""
    deadline = since + CELL_TIMEOUT_S
    while time.monotonic() < deadline:
        records = [r for r in cloud.invocations if r.function_name == function_name and r.started >= since]
        if sum(len(r.message_ids) - len(r.failed_ids) for r in records) >= messages:
            return max(r.ended for r in records)
        time.sleep(0.01)
    raise TimeoutError(f"{function_name} did not process {messages} messages within {CELL_TIMEOUT_S:.0f} s")


def _backlog(sqs: Any, queue_url: str, groups: int, messages: int, cell: str) -> None:
    codec = CloudEventJsonCodec()
    for start in range(0, messages, 10):
        entries = []
        for n in range(start, min(messages, start + 10)):
            group = f"scaleout-{cell}-g{n % groups}"
            data = order_created(group, n)
            message = event("orders.OrderCreated", data, source="/bench/scaleout", partitionkey=group)
            entries.append(
                {
                    "Id": str(n - start),
                    "MessageBody": codec.encode(message),
                    "MessageGroupId": group,
                    "MessageDeduplicationId": message.id,
                }
            )
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)


def grid(sizes: tuple[int, ...] = SIZES) -> list[tuple[int, int]]:
    """Every ``(G, C)`` of ``sizes`` x ``sizes``."""
    return [(groups, consumers) for groups in sizes for consumers in sizes]


def diagonal(sizes: tuple[int, ...] = SIZES) -> list[tuple[int, int]]:
    """The one-group cells of one and two consumers (the serial drain), then ``(G, G)`` for each of ``sizes``: every
    cell at its bound, in a third of the grid's time."""
    return [(1, 1), (1, 2), *((groups, groups) for groups in sizes if groups > 1)]


def measure_side(
    assembly: Path,
    consumer: str,
    *,
    cells: list[tuple[int, int]] | None = None,
    messages: int = MESSAGES,
    latency_s: float = LATENCY_S,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Cell]:
    """The cells ``(G, C)`` (default: :func:`grid`) for ``consumer`` (``ours`` or ``baseline``), in order."""
    measured = []
    with tempfile.TemporaryDirectory(prefix="scaleout-") as scratch:
        prepared = prepare_scaleout(assembly, Path(scratch) / "assembly", consumer, latency_s)
        with LocalCloud() as cloud:
            cloud.deploy(prepared)
            queue_url = cloud.outputs["BillingQueueUrl"]
            queue_arn = cloud.outputs["BillingQueueArn"]
            mapping = next(m for m in cloud.deployment.mappings if m.event_source_arn == queue_arn)
            cloud.start_pollers()
            sqs = cloud.client("sqs")
            for groups, consumers in cells or grid():
                progress(f"scale-out, {consumer}: {groups} groups x {consumers} consumers")
                cloud.update_mapping(dataclasses.replace(mapping, enabled=False))
                _backlog(sqs, queue_url, groups, messages, f"{groups}x{consumers}")
                started = time.monotonic()
                cloud.update_mapping(dataclasses.replace(mapping, enabled=True, maximum_concurrency=consumers))
                ended = _wait_processed(cloud, mapping.function_name, started, messages)
                measured.append(Cell(groups, consumers, ended - started))
            cloud.stop_pollers()
    return measured


def serial_seconds(cells: list[Cell]) -> float:
    """The serial drain: one message group (so one batch at a time, whatever ``C``), its fastest cell."""
    single_group = [c.seconds for c in cells if c.groups == 1]
    if not single_group:
        raise ValueError("no cell of one message group to measure the serial drain by")
    return min(single_group)


def cell_efficiency(cell: Cell, serial: float) -> float:
    """A cell's speed-up over the serial drain, divided by its bound min(G, C)."""
    return (serial / cell.seconds) / min(cell.groups, cell.consumers)


def efficiency(cells: list[Cell]) -> float:
    """The worst cell's speed-up over the serial drain, divided by its bound min(G, C)."""
    serial = serial_seconds(cells)
    return min(cell_efficiency(c, serial) for c in cells)
