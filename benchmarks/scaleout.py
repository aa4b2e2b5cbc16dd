"""Scale-out over message groups: time to drain a backlog of one SQS FIFO queue (the local cloud's SQS) spread over
``G`` message groups by ``C`` competing consumers whose handler takes a fixed ``latency`` per message.

FIFO hands a group to one consumer at a time, so the speed-up over one consumer is bounded by ``min(G, C)``; the
efficiency of a cell is its speed-up divided by that bound, and ``scaleout_efficiency`` is the worst cell.
Each cell drains :data:`MESSAGES` messages with a handler of :data:`LATENCY_S` per message, about what one message
costs a consumer on AWS (a conditional write, a publish, a send). The local cloud serves SQS calls one at a time, a few
milliseconds each: with a much shorter handler, the cells of eight consumers would time the emulator's serialized
receives and deletes instead of the groups' parallelism.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from localcloud import LocalCloud

SIZES = (1, 2, 4, 8)
MESSAGES = 80
LATENCY_S = 0.05


@dataclass(frozen=True)
class Cell:
    groups: int
    consumers: int
    seconds: float


def _drain(sqs: Any, queue_url: str, consumers: int, total: int, latency: float) -> float:
    """Seconds until ``total`` messages are deleted by ``consumers`` threads; an idle consumer long-polls (as the
    Lambda SQS poller does), so it costs nothing while the groups it could take are all in flight."""
    deleted = [0]
    finished = [0.0]
    lock = threading.Lock()

    def consume() -> None:
        while True:
            with lock:
                if deleted[0] >= total:
                    return
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60, WaitTimeSeconds=1
            ).get("Messages", [])
            if not messages:
                continue
            for _ in messages:
                time.sleep(latency)  # the handler's work
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
            )
            with lock:
                deleted[0] += len(messages)
                if deleted[0] >= total:
                    finished[0] = time.perf_counter()

    started = time.perf_counter()
    threads = [threading.Thread(target=consume, name=f"bench-consumer-{n}") for n in range(consumers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return finished[0] - started


def measure(messages: int = MESSAGES, latency: float = LATENCY_S) -> list[Cell]:
    cells = []
    with LocalCloud() as cloud:
        sqs = cloud.client("sqs")
        for groups in SIZES:
            for consumers in SIZES:
                url = sqs.create_queue(
                    QueueName=f"scaleout-{groups}-{consumers}.fifo",
                    Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
                )["QueueUrl"]
                for start in range(0, messages, 10):
                    sqs.send_message_batch(
                        QueueUrl=url,
                        Entries=[
                            {
                                "Id": str(n),
                                "MessageBody": f"m-{start + n}",
                                "MessageGroupId": f"g-{(start + n) % groups}",
                            }
                            for n in range(min(10, messages - start))
                        ],
                    )
                cells.append(Cell(groups, consumers, _drain(sqs, url, consumers, messages, latency)))
    return cells


def efficiency(cells: list[Cell]) -> float:
    """The worst speed-up over one consumer, divided by its bound min(G, C)."""
    single = {c.groups: c.seconds for c in cells if c.consumers == 1}
    return min((single[c.groups] / c.seconds) / min(c.groups, c.consumers) for c in cells)
