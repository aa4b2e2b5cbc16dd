"""The poller of one DynamoDB stream event source mapping (see the package docstring)."""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from localcloud import motopatches
from localcloud.awslambda.esm import DEFAULT_MAX_INVOCATION_RECORDS, Invocation
from localcloud.awslambda.runtime import InvocationResult, LocalFunction
from localcloud.cloudformation.deployment import MappingSpec

log = logging.getLogger("localcloud.streams")

IDLE_POLL_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 1.0


def is_stream_mapping(spec: MappingSpec) -> bool:
    """True for a mapping on a DynamoDB stream (not an SQS queue)."""
    return spec.event_source_arn.startswith("arn:aws:dynamodb:") and "/stream/" in spec.event_source_arn


def _table_name(stream_arn: str) -> str:
    return stream_arn.split(":table/", 1)[-1].split("/", 1)[0]


def _jsonable(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A record as the Lambda event carries it: ``eventSourceARN`` and the region set, the creation time in epoch
    seconds."""
    event: dict[str, Any] = json.loads(json.dumps(record, default=_default))
    event["eventSourceARN"] = stream_arn
    event["awsRegion"] = region
    return event


def matches_filters(record: dict[str, Any], patterns: tuple[str, ...]) -> bool:
    """True if ``record`` matches one of the ``FilterCriteria`` patterns (top-level keys with lists of exact
    values, and nested objects of them: the subset of the filter syntax the local cloud applies).

    Example::

        matches_filters({"eventName": "INSERT"}, ('{"eventName": ["INSERT"]}',))   # True
    """

    def match(value: Any, pattern: Any) -> bool:
        if isinstance(pattern, dict):
            return isinstance(value, dict) and all(match(value.get(k), p) for k, p in pattern.items())
        if isinstance(pattern, list):
            return value in pattern
        return bool(value == pattern)

    return any(match(record, json.loads(pattern)) for pattern in patterns)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(_utc(value).timestamp())
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class StreamMappingEmulator:
    """Runs one stream mapping: reads the stream in order, invokes the function one batch at a time, retries."""

    def __init__(
        self,
        client: Callable[..., Any],
        functions: Mapping[str, LocalFunction],
        spec: MappingSpec,
        queues: Mapping[str, str],
        *,
        region: str,
        account_id: str = "123456789012",
        max_invocation_records: int = DEFAULT_MAX_INVOCATION_RECORDS,
    ) -> None:
        self.spec = spec
        self.function = functions[spec.function_name]
        self._client = client
        self._queues = dict(queues)
        self._region = region
        self._account_id = account_id
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._checkpoint: str | None = None  # the last sequence number handled (delivered, or given up on)
        self._started_latest = spec.starting_position == "LATEST"
        self._processing = False
        self.invocations: deque[Invocation] = deque(maxlen=max_invocation_records)
        self.invocation_count = 0

    # ----------------------------------------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self.function.load()
        self._stop.clear()
        if self._started_latest and self._checkpoint is None:
            self._checkpoint = self._last_sequence_number()
        self._thread = threading.Thread(target=self._run, name=f"stream:{self.spec.function_name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def keep(self, max_invocation_records: int) -> None:
        with self._lock:
            self.invocations = deque(self.invocations, maxlen=max_invocation_records)

    def records(self) -> list[Invocation]:
        with self._lock:
            return list(self.invocations)

    def busy(self) -> bool:
        """True while a batch runs or records wait in the stream (the local cloud is not idle then)."""
        with self._lock:
            if self._processing:
                return True
        last = self._last_sequence_number()
        return last is not None and (self._checkpoint is None or int(last) > int(self._checkpoint))

    # ------------------------------------------------------------------------------------------------- reading
    def _shard(self) -> Any:
        """The table's current shard in moto (in-process, where the server runs moto too), or None."""
        from moto.dynamodb.models import dynamodb_backends  # noqa: PLC0415

        with motopatches.MOTO_LOCK:
            tables = dynamodb_backends[self._account_id][self._region].tables
            table = tables.get(_table_name(self.spec.event_source_arn))
            return None if table is None else table.stream_shard

    def _last_sequence_number(self) -> str | None:
        shard = self._shard()
        if shard is None or not shard.items:
            return None
        return str(shard.starting_sequence_number + len(shard.items) - 1)

    def _read(self, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` records after the checkpoint, read at once under moto's lock from the table's current
        shard (an iterator taken through the API before a cancelled transaction would read that transaction's
        phantom records from the discarded shard, see the package docstring)."""
        with motopatches.MOTO_LOCK:
            shard = self._shard()
            if shard is None or not shard.items:
                return []
            first = shard.starting_sequence_number
            start = 0 if self._checkpoint is None else int(self._checkpoint) + 1 - first
            return [copy.deepcopy(record.to_json()) for record in shard.items[max(start, 0): max(start, 0) + limit]]

    # ------------------------------------------------------------------------------------------------- running
    def _run(self) -> None:
        attempts = 0
        while not self._stop.is_set():
            try:
                records = self._read(self.spec.batch_size) if self._backlog() else []
            except Exception:
                log.exception("stream mapping %s: reading %s failed", self.spec.logical_id, self.spec.event_source_arn)
                records = []
            if records and self.spec.filter_patterns:
                kept = [r for r in records if matches_filters(r, self.spec.filter_patterns)]
                if not kept:  # nothing of this read passes the filters: Lambda moves past it without invoking
                    self._checkpoint = records[-1]["dynamodb"]["SequenceNumber"]
                    continue
                records = kept
            if not records:
                attempts = 0
                self._stop.wait(IDLE_POLL_SECONDS)
                continue
            event = {"Records": [_jsonable(r, self.spec.event_source_arn, self._region) for r in records]}
            with self._lock:
                self._processing = True
            try:
                resume = self._invoke(event, records)
                if resume is None:
                    self._checkpoint = records[-1]["dynamodb"]["SequenceNumber"]
                    attempts = 0
                    continue
                attempts += 1
                if self._give_up(records, resume, attempts):
                    attempts = 0
                    continue
                index = next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] == resume)
                if index > 0:  # the records before the reported one are done
                    self._checkpoint = records[index - 1]["dynamodb"]["SequenceNumber"]
            finally:
                with self._lock:
                    self._processing = False
            self._stop.wait(min(MAX_BACKOFF_SECONDS, 0.02 * 2 ** min(attempts, 6)))

    def _backlog(self) -> bool:
        last = self._last_sequence_number()
        return last is not None and (self._checkpoint is None or int(last) > int(self._checkpoint))

    def _invoke(self, event: dict[str, Any], records: list[dict[str, Any]]) -> str | None:
        """Invoke the function; the sequence number to retry from, or None when the batch is done."""
        started = time.monotonic()
        last = records[-1]["dynamodb"].get("ApproximateCreationDateTime")
        age = (datetime.now(UTC) - _utc(last)).total_seconds() if isinstance(last, datetime) else 0.0
        age_ms = max(0.0, age * 1000)
        result = self.function.invoke(event, iterator_age_ms=age_ms)
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        resume = self._resume_point(result, sequence_numbers)
        if not result.ok:
            log.warning("%s failed a stream batch of %d: %s", self.spec.function_name, len(records), result.error)
        record = Invocation(
            function_name=self.spec.function_name,
            mapping_uuid=self.spec.uuid,
            message_ids=tuple(sequence_numbers),
            group_ids=tuple(json.dumps(r["dynamodb"].get("Keys", {}), sort_keys=True) for r in records),
            started=started,
            ended=time.monotonic(),
            result=result,
            failed_ids=tuple(sequence_numbers[sequence_numbers.index(resume):]) if resume is not None else (),
        )
        with self._lock:
            self.invocations.append(record)
            self.invocation_count += 1
        return resume

    def _resume_point(self, result: InvocationResult, sequence_numbers: list[str]) -> str | None:
        """Where Lambda resumes: the first record after a failed invocation; with partial batch responses, the
        lowest reported sequence number (an empty, null or unknown one fails the whole batch)."""
        first = sequence_numbers[0]
        if not result.ok:
            return first
        response = result.response
        if not self.spec.report_batch_item_failures:
            return None
        if not isinstance(response, dict) or not response.get("batchItemFailures"):
            return None if isinstance(response, dict) or response is None else first
        failures = response["batchItemFailures"]
        if not isinstance(failures, list):
            return first
        reported = []
        for item in failures:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not identifier or identifier not in sequence_numbers:
                return first
            reported.append(sequence_numbers.index(identifier))
        return sequence_numbers[min(reported)]

    def _give_up(self, records: list[dict[str, Any]], resume: str, attempts: int) -> bool:
        """Past the retry or age limit: send Lambda's failure record to the on-failure destination and skip the
        batch (from the resume point). False while retries remain."""
        spec = self.spec
        created = records[0]["dynamodb"].get("ApproximateCreationDateTime")
        age = (datetime.now(UTC) - _utc(created)).total_seconds() if isinstance(created, datetime) else 0.0
        exhausted = 0 <= spec.maximum_retry_attempts < attempts
        too_old = 0 <= spec.maximum_record_age_seconds < age
        if not exhausted and not too_old:
            return False
        failed = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) >= int(resume)]
        condition = "RetryAttemptsExhausted" if exhausted else "RecordAgeExceeded"
        document = {
            "requestContext": {"requestId": records[0].get("eventID", ""), "functionArn": self.function.spec.arn,
                               "condition": condition, "approximateInvokeCount": attempts},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": "shardId-local",
                "startSequenceNumber": failed[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": failed[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": str(failed[0]["dynamodb"].get("ApproximateCreationDateTime")),
                "approximateArrivalOfLastRecord": str(failed[-1]["dynamodb"].get("ApproximateCreationDateTime")),
                "batchSize": len(failed),
                "streamArn": spec.event_source_arn,
            },
        }
        url = self._queues.get(spec.on_failure_destination)
        if url:
            self._client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(document))
        log.warning("stream mapping %s gave up on %d record(s) (%s)", spec.logical_id, len(failed), condition)
        self._checkpoint = failed[-1]["dynamodb"]["SequenceNumber"]
        return True
