"""The Lambda triggers that run: one event-source-mapping emulator (poller and workers) per enabled SQS mapping.

Mappings come and go while the local cloud runs (a ``cdk deploy`` adds them, ``UpdateEventSourceMapping`` disables
and enables them, an update gives a function new code): :meth:`Triggers.sync` starts what should run and stops what
should not, mapping by mapping, without touching the others.

Example::

    triggers = Triggers(lambda: cloud.client("sqs"), region="us-east-1", environment=cloud.client_environment())
    triggers.start(deployment.mappings, functions, deployment.queues)
    triggers.sync(deployment.mappings, functions, deployment.queues)   # after any change
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from localcloud.awslambda import environ
from localcloud.awslambda.esm import (
    DEFAULT_MAX_INVOCATION_RECORDS,
    DEFAULT_MAXIMUM_CONCURRENCY,
    EventSourceMappingEmulator,
    Invocation,
)
from localcloud.awslambda.runtime import LocalFunction
from localcloud.cloudformation.deployment import MappingSpec
from localcloud.streams import StreamMappingEmulator, is_stream_mapping

log = logging.getLogger("localcloud.awslambda.triggers")


@dataclass
class _Running:
    spec: MappingSpec
    function: LocalFunction
    emulator: EventSourceMappingEmulator | StreamMappingEmulator


class Triggers:
    """Starts, stops and restarts the emulator of each event source mapping as the deployment changes."""

    def __init__(
        self,
        sqs_client: Callable[[], Any],
        *,
        region: str,
        environment: Mapping[str, str | None],
        default_concurrency: int = DEFAULT_MAXIMUM_CONCURRENCY,
        max_invocation_records: int = DEFAULT_MAX_INVOCATION_RECORDS,
        client: Callable[..., Any] | None = None,
    ) -> None:
        """``client``: ``client(service, **options)``, for the DynamoDB stream mappings (None: no stream mappings)."""
        self._sqs_client = sqs_client
        self._client = client
        self._region = region
        self._environment = dict(environment)
        self._default_concurrency = default_concurrency
        self._running: dict[str, _Running] = {}
        self._retired: deque[Invocation] = deque(maxlen=max_invocation_records)
        self._retired_count = 0
        self.max_invocation_records = max_invocation_records
        self._lock = threading.RLock()
        self.active = False

    def start(self, mappings: list[MappingSpec], functions: Mapping[str, LocalFunction],
              queues: Mapping[str, str]) -> None:
        """Run every enabled mapping, now and after each :meth:`sync`."""
        with self._lock:
            self.active = True
            self.sync(mappings, functions, queues)

    def stop(self) -> None:
        """Stop every trigger (running batches finish first); :meth:`start` runs them again."""
        with self._lock:
            self.active = False
            running = list(self._running)
            # Each stop waits for its poller's current receive: wait for all of them at once.
            with ThreadPoolExecutor(max_workers=max(1, len(running))) as pool:
                for emulator in [self._running[m].emulator for m in running]:
                    pool.submit(emulator.stop)
            for mapping_uuid in running:
                self._stop(mapping_uuid)

    def sync(self, mappings: list[MappingSpec], functions: Mapping[str, LocalFunction],
             queues: Mapping[str, str]) -> None:
        """Make the running triggers match ``mappings``: new or enabled ones start, removed or disabled ones stop,
        changed ones (or ones whose function was replaced) restart."""
        with self._lock:
            if not self.active:
                return
            wanted = {m.uuid: m for m in mappings if m.enabled}
            for mapping_uuid, running in list(self._running.items()):
                spec = wanted.get(mapping_uuid)
                if spec != running.spec or functions.get(running.spec.function_name) is not running.function:
                    self._stop(mapping_uuid)
            for mapping_uuid, spec in wanted.items():
                if mapping_uuid in self._running:
                    continue
                if is_stream_mapping(spec) and self._client is not None and spec.function_name in functions:
                    stream = StreamMappingEmulator(self._client, functions, spec, queues, region=self._region,
                                                   max_invocation_records=self.max_invocation_records)
                    with environ.overlay(self._environment):
                        stream.start()
                    self._running[mapping_uuid] = _Running(spec, functions[spec.function_name], stream)
                    continue
                if spec.function_name not in functions or spec.event_source_arn not in queues:
                    log.warning("mapping %s: function %s or queue %s is not deployed; not polling", spec.logical_id,
                                spec.function_name, spec.event_source_arn)
                    continue
                emulator = EventSourceMappingEmulator(
                    self._sqs_client, dict(functions), [spec], dict(queues), region=self._region,
                    default_concurrency=self._default_concurrency,
                    max_invocation_records=self.max_invocation_records,
                )
                with environ.overlay(self._environment):
                    emulator.start()
                self._running[mapping_uuid] = _Running(spec, functions[spec.function_name], emulator)

    def _stop(self, mapping_uuid: str) -> None:
        running = self._running.pop(mapping_uuid)
        running.emulator.stop()
        self._retired.extend(running.emulator.records())
        self._retired_count += running.emulator.invocation_count

    # ----------------------------------------------------------------------------------------------- inspection
    def is_polling(self, mapping_uuid: str) -> bool:
        """True while the mapping's poller runs."""
        with self._lock:
            return mapping_uuid in self._running

    @property
    def polled_queues(self) -> set[str]:
        """ARNs of the queues being polled."""
        with self._lock:
            return {r.spec.event_source_arn for r in self._running.values()}

    def busy(self) -> bool:
        """True while any batch is being processed."""
        with self._lock:
            emulators = [r.emulator for r in self._running.values()]
        return any(emulator.busy() for emulator in emulators)

    @property
    def invocations(self) -> list[Invocation]:
        """The newest batch invocations (at most ``max_invocation_records`` in all), oldest first."""
        with self._lock:
            records = list(self._retired)
            for running in self._running.values():
                records.extend(running.emulator.records())
        return sorted(records, key=lambda record: record.started)[-self.max_invocation_records:]

    @property
    def invocation_count(self) -> int:
        """Batch invocations run so far, including those whose records were dropped."""
        with self._lock:
            return self._retired_count + sum(r.emulator.invocation_count for r in self._running.values())

    def keep(self, max_invocation_records: int) -> None:
        """Keep at most ``max_invocation_records`` records from now on (the newest)."""
        with self._lock:
            self.max_invocation_records = max_invocation_records
            self._retired = deque(self._retired, maxlen=max_invocation_records)
            for running in self._running.values():
                running.emulator.keep(max_invocation_records)

    def __len__(self) -> int:
        with self._lock:
            return len(self._running)
