"""AWS API calls counted from botocore, by who made them, with the units a bill is made of.

Every call goes through ``BaseClient._make_api_call``; :func:`counting` wraps it for the whole process and files each
call under a role: ``function`` (a Lambda handler: the local cloud runs each invocation on a thread named
``lambda:<function>``), ``client`` (the producer or requester, only inside :meth:`CallCounter.as_client`), or
``poller`` (the local cloud's event-source mappings, threads ``poller:<queue>`` and ``esm:<function>``: the
``ReceiveMessage`` and ``DeleteMessageBatch`` the Lambda service makes on AWS, billed to the account). Each call also
records the units AWS bills it by (:func:`benchmarks.units.billed_units`); a DynamoDB write is sized from the items
it touches, read from the table before and after the call without a counted call (:class:`MotoItems`). Inside
:func:`counting`, each SNS delivery to a subscribed queue is counted too (under the role of the publisher), and
:meth:`CallCounter.record_invocation` adds what a Lambda invocation bills: the request, its GB-seconds and the bytes
of its log.

Example:
    >>> counter = CallCounter()
    >>> with counter.as_client():
    ...     counter.record("sqs", "SendMessage", {"MessageBody": "m"}, {})
    >>> counter.unit_totals()
    {'sqs_requests': 1.0}
"""

from __future__ import annotations

import functools
import math
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.client

from benchmarks.units import ItemLookup, ItemSizes, billed_units, item_size, sizes_of, sns_delivery_units, write_targets

__all__ = ["CallCounter", "MotoItems", "billed_units", "counting"]

FUNCTION_THREAD_PREFIX = "lambda:"
POLLER_THREAD_PREFIXES = ("poller:", "esm:")
"""The local cloud's event-source mappings: a queue's poller thread receives, its mapping's workers delete."""
LOG_EVENT_OVERHEAD_BYTES = 26
"""CloudWatch Logs counts each event as its UTF-8 message plus 26 bytes."""
KIB = 1024


ROLES = ("client", "function", "poller")


class MotoItems:
    """:class:`~benchmarks.units.ItemLookup` on the in-process moto backend: the stored size of an item, read from
    the table's model (no API call, so nothing is counted or billed)."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id, self.region = account_id, region

    def stored_size(self, table: str, key_or_item: Mapping[str, Any]) -> int:
        from moto.dynamodb.models import dynamodb_backends  # noqa: PLC0415

        from localcloud.motopatches import MOTO_LOCK  # noqa: PLC0415 - only the bench reads moto's backend

        with MOTO_LOCK:
            try:
                backend = dynamodb_backends[self.account_id][self.region]
                model = backend.get_table(table)
                names = [n for n in (model.hash_key_attr, model.range_key_attr) if n]
                key = {n: key_or_item[n] for n in names if n in key_or_item}
                item = backend.get_item(table, key)
            except Exception:  # no such table or key: nothing stored to bill
                return 0
            return 0 if item is None else item_size(item.to_json()["Attributes"])


@dataclass
class CallCounter:
    """Calls by ``(role, "service:Operation")`` and billed units by ``(role, unit)`` since the last :meth:`reset`;
    ``items`` sizes DynamoDB writes from what the tables hold (else from the request), ``log_bytes`` counts log bytes
    by function and ``invocations`` invocations by function."""

    items: ItemLookup | None = None
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    units: defaultdict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    log_bytes: Counter[str] = field(default_factory=Counter)
    invocations: Counter[str] = field(default_factory=Counter)
    _client: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.units.clear()
            self.log_bytes.clear()
            self.invocations.clear()

    @contextmanager
    def as_client(self) -> Iterator[None]:
        """Count this thread's calls as the client's (the producer or requester)."""
        self._client.on = True
        try:
            yield
        finally:
            self._client.on = False

    def role(self) -> str | None:
        name = threading.current_thread().name
        if name.startswith(FUNCTION_THREAD_PREFIX):
            return "function"
        if name.startswith(POLLER_THREAD_PREFIXES):
            return "poller"
        return "client" if getattr(self._client, "on", False) else None

    def sizes_before(self, service: str, operation: str, params: Mapping[str, Any]) -> tuple[int, ...] | None:
        """The stored sizes of the items a DynamoDB write is about to touch (None: not a sized write)."""
        if self.items is None or service != "dynamodb" or self.role() is None:
            return None
        targets = write_targets(operation, params)
        return sizes_of(self.items, targets) if targets else None

    def record(  # noqa: PLR0917 - one call's parts
        self,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        response: Mapping[str, Any],
        before: tuple[int, ...] | None = None,
        failed: bool = False,
    ) -> None:
        """Count one call; ``before`` from :meth:`sizes_before`, ``failed`` when AWS refused it (still billed)."""
        role = self.role()
        if role is None:
            return
        sizes = None
        if before is not None and self.items is not None:
            sizes = ItemSizes(before, sizes_of(self.items, write_targets(operation, params)))
        units = billed_units(service, operation, params, response, sizes=sizes, failed=failed)
        if role == "poller" and "sqs_requests" in units:
            units["sqs_poller_requests"] = units.pop("sqs_requests")
        with self._lock:
            self.calls[(role, f"{service}:{operation}")] += 1
            for unit, amount in units.items():
                self.units[(role, unit)] += amount

    def record_units(self, role: str, units: Mapping[str, float]) -> None:
        """Add billed units that are not an API call of this process (an SNS delivery, say) under ``role``."""
        with self._lock:
            for unit, amount in units.items():
                self.units[(role, unit)] += amount

    def record_delivery(self, message: str) -> None:
        """One SNS delivery to a subscribed queue, billed to whoever published (this thread's role)."""
        role = self.role()
        if role is not None:
            self.record_units(role, sns_delivery_units(message))

    def record_invocation(
        self,
        function: str,
        *,
        memory_mb: int,
        architecture: str,
        duration_seconds: float,
        log_messages: Iterable[str],
    ) -> None:
        """One Lambda invocation: a request, its billed duration (rounded up to the millisecond) at ``memory_mb``,
        and its log as CloudWatch Logs ingests it."""
        billed_ms = max(1, math.ceil(duration_seconds * 1000))
        log_bytes = sum(len(m.encode("utf-8", "replace")) + LOG_EVENT_OVERHEAD_BYTES for m in log_messages)
        self.record_units(
            "function",
            {
                "lambda_requests": 1.0,
                f"lambda_gb_seconds_{architecture}": billed_ms / 1000 * memory_mb / KIB,
                "logs_ingested_bytes": float(log_bytes),
            },
        )
        with self._lock:
            self.log_bytes[function] += log_bytes
            self.invocations[function] += 1

    def by_operation(self, roles: tuple[str, ...] = ("client", "function")) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for (role, operation), count in self.calls.items():
            if role in roles:
                totals[operation] += count
        return dict(totals)

    def unit_totals(self, roles: tuple[str, ...] = ("client", "function")) -> dict[str, float]:
        totals: defaultdict[str, float] = defaultdict(float)
        for (role, unit), amount in self.units.items():
            if role in roles:
                totals[unit] += amount
        return dict(totals)


def _delivery_counter(counter: CallCounter, original: Any) -> Any:
    """Wraps moto's ``Subscription.publish``: a delivery whose filter policy matches is counted."""

    @functools.wraps(original)
    def publish(self: Any, message: str, *args: Any, **kwargs: Any) -> Any:
        attributes = kwargs.get("message_attributes", args[2] if len(args) > 2 else None)
        matcher = getattr(self, "_filter_policy_matcher", None)
        if self.protocol == "sqs" and (matcher is None or matcher.matches(attributes, message)):
            counter.record_delivery(message)
        return original(self, message, *args, **kwargs)

    return publish


@contextmanager
def counting(counter: CallCounter) -> Iterator[CallCounter]:
    """Count every AWS API call made in this process into ``counter`` while the block runs (and, with moto in this
    process, every SNS delivery to a queue)."""
    from moto.sns import models as sns_models  # noqa: PLC0415 - the in-process SNS that delivers

    client_class: Any = botocore.client.BaseClient
    original = client_class._make_api_call
    original_delivery = sns_models.Subscription.publish

    def counted(self: Any, operation_name: str, api_params: Any) -> Any:
        service = self.meta.service_model.service_name
        before = counter.sizes_before(service, operation_name, api_params)
        response: Any = {}
        failed = True
        try:
            response = original(self, operation_name, api_params)
            failed = False
            return response
        finally:  # a refused call (a lost condition, a throttle) is billed too
            counter.record(service, operation_name, api_params, response, before, failed)

    client_class._make_api_call = counted
    sns_models.Subscription.publish = _delivery_counter(counter, original_delivery)  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        client_class._make_api_call = original
        sns_models.Subscription.publish = original_delivery  # type: ignore[method-assign]
