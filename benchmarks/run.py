"""Benchmarks: codec speed, cold import time of each handler, and the example system on the embedded local cloud
(throughput, request latency, AWS calls per command by operation).

Figures from the local cloud measure this code plus moto on this machine, not AWS latency; the AWS call counts are
exact and are what a bill is made of (SQS/SNS requests, DynamoDB reads and writes).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
if str(FUNCTIONS) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS))

import botocore.client  # noqa: E402

from messaging.codec import CloudEventJsonCodec  # noqa: E402
from messaging.envelope import command  # noqa: E402

HANDLERS = ("orders.handler", "billing.handler", "notifications.handler", "quotes.handler", "reply_router.handler")
BENCH_ASSEMBLY = ROOT / ".localcloud" / "bench.out"


def codec_speed(iterations: int) -> None:
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
    elapsed = time.perf_counter() - started
    print(f"codec: encode+decode of a CreateOrder: {1e6 * elapsed / iterations:.1f} us ({iterations} iterations)")


def cold_imports(repeats: int) -> None:
    print("cold import of each handler module (fresh interpreter, median of", repeats, "runs):")
    probe = (
        "import time, importlib, sys; t = time.perf_counter(); importlib.import_module(sys.argv[1]); "
        "print(time.perf_counter() - t)"
    )
    for module in HANDLERS:
        runs = [
            float(
                subprocess.run(  # noqa: S603 - the project's own interpreter and modules
                    [sys.executable, "-c", probe, module],
                    cwd=FUNCTIONS,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for _ in range(repeats)
        ]
        print(f"  {module:<22} {1000 * statistics.median(runs):7.1f} ms")


@contextmanager
def counting_aws_calls() -> Iterator[Counter[str]]:
    """Count every AWS API call made in this process, by service and operation."""
    counts: Counter[str] = Counter()
    client_class: Any = botocore.client.BaseClient
    original = client_class._make_api_call

    def counted(self: Any, operation_name: str, api_params: Any) -> Any:
        counts[f"{self.meta.service_model.service_name}:{operation_name}"] += 1
        return original(self, operation_name, api_params)

    client_class._make_api_call = counted
    try:
        yield counts
    finally:
        client_class._make_api_call = original


def local_cloud(orders: int, shards: int, requests: int) -> None:
    from demo.run import System, order_data  # noqa: PLC0415 - heavy imports only for this part
    from localcloud import LocalCloud, synthesize  # noqa: PLC0415
    from messaging.channels import QueueSender  # noqa: PLC0415

    synthesize(BENCH_ASSEMBLY, app_dir=ROOT)
    log = (ROOT / ".localcloud" / "bench-functions.log").open("w")
    stdout, sys.stdout = sys.stdout, log
    try:
        with LocalCloud() as cloud:
            cloud.deploy(BENCH_ASSEMBLY)
            cloud.start_pollers()
            system = System(cloud)
            envelopes = [
                command(
                    "orders.CreateOrder",
                    order_data(f"bench-{n % shards}"),
                    source="/bench",
                    partitionkey=f"bench-{n % shards}",
                    replyto=system.outputs["ReplyQueueUrl"],
                )
                for n in range(orders)
            ]
            for envelope in envelopes:  # sent without the client: register the requests for their replies
                system.client.expect_reply(envelope.id)
            sender = QueueSender(system.orders_queue, client=system.sqs)
            with counting_aws_calls() as calls:
                started = time.perf_counter()
                result = sender.send_batch(envelopes)
                system.drain()
                elapsed = time.perf_counter() - started
            latencies = []
            for n in range(requests):
                begun = time.perf_counter()
                system.client.request(
                    system.orders_queue,
                    "orders.CreateOrder",
                    order_data(f"lat-{n}"),
                    partitionkey=f"lat-{n}",
                    timeout=30,
                )
                latencies.append(time.perf_counter() - begun)
    finally:
        sys.stdout = stdout
        log.close()
    print(f"local cloud: {len(result.succeeded)} CreateOrder on {shards} shards, with events fanned out to billing and")
    print(f"  notifications and replies routed: {elapsed:.2f} s, {orders / elapsed:.0f} commands/s end to end")
    latencies.sort()
    p95 = latencies[max(0, int(0.95 * len(latencies)) - 1)]
    print(
        f"  blocking request latency over {requests} requests: p50 {1000 * statistics.median(latencies):.0f} ms, "
        f"p95 {1000 * p95:.0f} ms"
    )
    per_order = sum(calls.values()) / orders
    print(f"  AWS calls per CreateOrder (its events, subscribers and reply included), {per_order:.1f} in all:")
    for operation, count in sorted(calls.items(), key=lambda item: -item[1]):
        print(f"    {operation:<40} {count / orders:6.2f}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--orders", type=int, default=200, help="CreateOrder commands through the local cloud")
    parser.add_argument("--shards", type=int, default=20, help="customers (message groups) they are spread over")
    parser.add_argument("--requests", type=int, default=20, help="blocking requests for the latency figures")
    parser.add_argument("--skip-local-cloud", action="store_true", help="only the in-process figures")
    args = parser.parse_args(argv)
    if min(args.orders, args.shards, args.requests) < 1:
        parser.error("--orders, --shards and --requests must be positive")
    codec_speed(5000)
    cold_imports(3)
    if not args.skip_local_cloud:
        local_cloud(args.orders, args.shards, args.requests)
    return 0
