"""The SQS event-source-mapping emulator: polls queues and invokes functions in-process as Lambda's poller does.

Semantics (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html):

- one poller per queue receives up to the mapping's ``BatchSize`` (gathering several receives within
  ``MaximumBatchingWindowInSeconds`` when the batch size exceeds 10) and hands the batch to the mapping's worker pool,
  which runs at most ``ScalingConfig.MaximumConcurrency`` batches at once;
- the event is the Lambda SQS event, record by record (:func:`sqs_record`);
- a successful invocation deletes the batch, except the ``batchItemFailures`` when the mapping reports them
  (an invalid item identifier fails the whole batch); an exception or a timeout fails the whole batch; failed
  messages stay in flight and reappear after the visibility timeout; the queue's redrive policy moves a message to
  the dead-letter queue once it was received ``maxReceiveCount`` times (moto applies it on receive);
- FIFO: moto (with :mod:`localcloud.motopatches`) never hands out a message group with messages in flight, so a
  group is in at most one batch at a time, in order, while other groups are processed in parallel.

Example::

    emulator = EventSourceMappingEmulator(sqs_client, functions, deployment)
    emulator.start()
    ...
    emulator.stop()
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from localcloud.awslambda.runtime import InvocationResult, LocalFunction
from localcloud.cloudformation.deployer import MappingSpec
from localcloud.motopatches.core import Receiving, unclaimed

log = logging.getLogger("localcloud.awslambda.esm")

DEFAULT_MAXIMUM_CONCURRENCY = 5
"""Concurrent batches per mapping when the mapping sets no ``MaximumConcurrency`` (AWS scales far higher)."""
DEFAULT_MAX_INVOCATION_RECORDS = 2000
"""Invocation records kept (the newest; each holds its log), so a long-running local cloud stays flat in memory."""


@dataclass(frozen=True)
class Invocation:
    """A record of one batch invocation, for tests and diagnostics."""

    function_name: str
    mapping_uuid: str
    message_ids: tuple[str, ...]
    group_ids: tuple[str, ...]
    started: float
    ended: float
    result: InvocationResult
    failed_ids: tuple[str, ...]


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    def b64(data: Any) -> str:
        raw = data if isinstance(data, bytes) else str(data).encode()
        return base64.b64encode(raw).decode()

    shaped: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [b64(v) for v in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = b64(value["BinaryValue"])
    return shaped


def sqs_record(message: dict[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the Lambda SQS event, from a ReceiveMessage result entry.

    Example::

        sqs_record({"MessageId": "1", "ReceiptHandle": "r", "Body": "{}", "MD5OfBody": "...", "Attributes": {}},
                   queue_arn="arn:aws:sqs:us-east-1:123456789012:q", region="us-east-1")["eventSource"]  # "aws:sqs"
    """
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


@dataclass
class _MappingRuntime:
    spec: MappingSpec
    function: LocalFunction
    concurrency: int
    pool: ThreadPoolExecutor
    in_flight: int = 0
    """Slots taken: batches being processed plus a receive in progress."""
    processing: int = 0


@dataclass
class _QueuePoller:
    queue_arn: str
    queue_url: str
    mappings: list[_MappingRuntime] = field(default_factory=list)
    thread: threading.Thread | None = None


class EventSourceMappingEmulator:
    """Runs every enabled SQS mapping of a deployment: one poller thread per queue, one worker pool per mapping."""

    def __init__(
        self,
        sqs_client: Callable[[], Any],
        functions: dict[str, LocalFunction],
        mappings: list[MappingSpec],
        queues: dict[str, str],
        *,
        region: str,
        default_concurrency: int = DEFAULT_MAXIMUM_CONCURRENCY,
        poll_wait_seconds: int = 1,
        max_invocation_records: int = DEFAULT_MAX_INVOCATION_RECORDS,
    ) -> None:
        self._sqs_client = sqs_client
        self._region = region
        self._poll_wait = poll_wait_seconds
        self._stop = threading.Event()
        self._state = threading.Condition()
        self.invocations: deque[Invocation] = deque(maxlen=max_invocation_records)
        """The newest batch invocations (at most ``max_invocation_records``), oldest first."""
        self.invocation_count = 0
        """Batch invocations since the start, including those no longer recorded."""
        self.pollers: dict[str, _QueuePoller] = {}
        for spec in mappings:
            if not spec.enabled:
                continue
            if spec.function_name not in functions:
                raise KeyError(f"mapping {spec.logical_id}: no function {spec.function_name}")
            if spec.event_source_arn not in queues:
                raise KeyError(f"mapping {spec.logical_id}: no queue {spec.event_source_arn}")
            concurrency = spec.maximum_concurrency or default_concurrency
            runtime = _MappingRuntime(
                spec=spec,
                function=functions[spec.function_name],
                concurrency=concurrency,
                pool=ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"esm:{spec.function_name}"),
            )
            poller = self.pollers.setdefault(
                spec.event_source_arn, _QueuePoller(spec.event_source_arn, queues[spec.event_source_arn])
            )
            poller.mappings.append(runtime)

    def keep(self, max_invocation_records: int) -> None:
        """Keep at most ``max_invocation_records`` records from now on (the newest)."""
        with self._state:
            self.invocations = deque(self.invocations, maxlen=max_invocation_records)

    def records(self) -> list[Invocation]:
        """A copy of :attr:`invocations`, taken under the lock the workers append under."""
        with self._state:
            return list(self.invocations)

    # ------------------------------------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Load every handler (cold start) and start the pollers."""
        for poller in self.pollers.values():
            for mapping in poller.mappings:
                mapping.function.load()
        self._stop.clear()
        for poller in self.pollers.values():
            if poller.thread is None or not poller.thread.is_alive():
                poller.thread = threading.Thread(
                    target=self._poll, args=(poller,), name=f"poller:{poller.queue_arn.rsplit(':', 1)[-1]}",
                    daemon=True,
                )
                poller.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling and wait for running batches."""
        self._stop.set()
        with self._state:
            self._state.notify_all()
        for poller in self.pollers.values():
            if poller.thread is not None:
                poller.thread.join(timeout)
                poller.thread = None
        for poller in self.pollers.values():
            for mapping in poller.mappings:
                mapping.pool.shutdown(wait=True, cancel_futures=False)
                mapping.pool = ThreadPoolExecutor(
                    max_workers=mapping.concurrency, thread_name_prefix=f"esm:{mapping.spec.function_name}"
                )

    @property
    def running(self) -> bool:
        return any(p.thread is not None and p.thread.is_alive() for p in self.pollers.values())

    def busy(self) -> bool:
        """True while any batch is being processed, or received and not yet handed to its function."""
        if unclaimed():
            return True
        with self._state:
            return any(m.processing for p in self.pollers.values() for m in p.mappings)

    # ---------------------------------------------------------------------------------------------------- polling
    def _free_mapping(self, poller: _QueuePoller, start: int) -> _MappingRuntime | None:
        count = len(poller.mappings)
        for offset in range(count):
            mapping = poller.mappings[(start + offset) % count]
            if mapping.in_flight < mapping.concurrency:
                return mapping
        return None

    def _poll(self, poller: _QueuePoller) -> None:
        client = self._sqs_client()
        turn = 0
        while not self._stop.is_set():
            with self._state:
                mapping = self._free_mapping(poller, turn)
                if mapping is None:
                    self._state.wait(0.5)
                    continue
                mapping.in_flight += 1  # reserve the slot before receiving
            turn += 1
            with Receiving() as receiving:
                try:
                    messages = self._receive_batch(client, poller, mapping.spec)
                except Exception:
                    log.exception("receive from %s failed", poller.queue_arn)
                    messages = []
                    self._stop.wait(0.2)
            if not messages:
                receiving.claim()
                self._release(mapping)
                continue
            with self._state:
                mapping.processing += 1
            receiving.claim()
            mapping.pool.submit(self._run_batch, client, poller, mapping, messages)

    def _receive_batch(self, client: Any, poller: _QueuePoller, spec: MappingSpec) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        window_end = time.monotonic() + spec.maximum_batching_window_seconds
        while len(messages) < spec.batch_size and not self._stop.is_set():
            wait = self._poll_wait if not messages else 0
            response = client.receive_message(
                QueueUrl=poller.queue_url,
                MaxNumberOfMessages=min(10, spec.batch_size - len(messages)),
                WaitTimeSeconds=wait,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            received = response.get("Messages", [])
            messages.extend(received)
            if not messages:
                return messages
            if len(messages) >= spec.batch_size or time.monotonic() >= window_end:
                break
            if not received:
                self._stop.wait(0.05)
        return messages

    def _release(self, mapping: _MappingRuntime) -> None:
        with self._state:
            mapping.in_flight -= 1
            self._state.notify_all()

    def _run_batch(
        self, client: Any, poller: _QueuePoller, mapping: _MappingRuntime, messages: list[dict[str, Any]]
    ) -> None:
        try:
            self._process(client, poller, mapping, messages)
        except Exception:
            log.exception("batch for %s failed unexpectedly", mapping.spec.function_name)
        finally:
            with self._state:
                mapping.processing -= 1
            self._release(mapping)

    def _process(
        self, client: Any, poller: _QueuePoller, mapping: _MappingRuntime, messages: list[dict[str, Any]]
    ) -> None:
        event = {"Records": [sqs_record(m, queue_arn=poller.queue_arn, region=self._region) for m in messages]}
        started = time.monotonic()
        result = mapping.function.invoke(event)
        ids = [m["MessageId"] for m in messages]
        failed = self._failed_ids(mapping.spec, result, ids)
        if not result.ok:
            log.warning("%s failed a batch of %d: %s", mapping.spec.function_name, len(ids), result.error)
        to_delete = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(to_delete), 10):
            chunk = to_delete[start : start + 10]
            response = client.delete_message_batch(
                QueueUrl=poller.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
            for failure in response.get("Failed", []):
                # e.g. the batch outlived the visibility timeout: SQS delivers the message again
                log.warning("%s: message %s not deleted: %s %s", mapping.spec.function_name,
                            chunk[int(failure["Id"])]["MessageId"], failure.get("Code"), failure.get("Message"))
        record = Invocation(
            function_name=mapping.spec.function_name,
            mapping_uuid=mapping.spec.uuid,
            message_ids=tuple(ids),
            group_ids=tuple(m.get("Attributes", {}).get("MessageGroupId", "") for m in messages),
            started=started,
            ended=time.monotonic(),
            result=result,
            failed_ids=tuple(i for i in ids if i in failed),
        )
        with self._state:
            self.invocations.append(record)
            self.invocation_count += 1

    @staticmethod
    def _failed_ids(  # noqa: PLR0911 - one exit per documented response shape
        spec: MappingSpec, result: InvocationResult, ids: list[str]
    ) -> set[str]:
        """Which messages of the batch failed (and so must not be deleted)."""
        if not result.ok:
            return set(ids)
        if not spec.report_batch_item_failures:
            return set()
        response = result.response
        if response is None:
            return set()
        if not isinstance(response, dict):
            return set(ids)
        failures = response.get("batchItemFailures")
        if failures is None:
            return set()
        if not isinstance(failures, list):
            return set(ids)
        failed: set[str] = set()
        for item in failures:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not identifier or identifier not in ids:
                # An empty, null or unknown identifier fails the whole batch.
                return set(ids)
            failed.add(identifier)
        return failed
