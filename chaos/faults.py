"""Fault injection into the AWS calls the functions make, through botocore's event hooks.

While a :class:`FaultInjector` is installed, every botocore client created in the process gets three hooks. They act
only on calls made from a function invocation (the local cloud runs each invocation in a thread named
``lambda:<function>``), never on the harness's own calls or on the pollers':

- ``before-call``: a **transient** error instead of the call (throttling, ``ProvisionedThroughputExceeded``,
  ``TransactionConflict``, 5xx: what a client sees once its SDK retries are exhausted), or a **timeout**: the call
  waits past the function timeout, the local cloud gives up on the invocation (its batch fails and comes back after
  the visibility timeout), and the abandoned run goes on afterwards and makes its calls late, as a timed-out Lambda
  run may still finish;
- ``before-parameter-build`` / ``after-call``: a **failed entry** of a batch call (``PublishBatch``,
  ``SendMessageBatch``): the entry is taken out of the request and reported in the response's ``Failed`` list
  (``InternalError``, not the sender's fault) while the other entries go through, as AWS reports each entry of a batch
  on its own; a later entry of the same message group in that call is not stopped by it (what the delivery per
  batch must survive without reordering a group, :mod:`messaging.delivery`);
- ``after-call`` (the call took effect): a **crash**, :class:`FunctionCrash`, a ``BaseException`` the consumer does
  not catch, so no code of ours runs after it (the function died after its side effect, before the acknowledgement),
  or an **ambiguous** 5xx: the write happened but the caller is told it failed;
- ``before-parameter-build`` / ``after-call``: every call that took effect is handed to the :class:`CallRecorder`
  (the history the checker reads), before any fault is raised.

Sabotage (:class:`Sabotage`, ``make chaos ARGS="--sabotage drop-conditions"``) breaks the product on purpose, to
show the checker catches it: ``drop-conditions`` strips the condition of every DynamoDB write a function makes (the
commit's ``attribute_not_exists``, an update's expected values), ``drop-publishes`` acknowledges a share of the
functions' SNS publishes without delivering them (``Publish`` / ``PublishBatch`` answer success, nothing is sent).

Example::

    injector = FaultInjector(FaultRates(transient=0.02, crash=0.01), seed=7, recorder=history.record_call)
    with injector.installed():
        ...  # run the system
    injector.counts  # Counter({"transient": 41, "crash": 12, ...})
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import botocore.session

FUNCTION_THREAD_PREFIX = "lambda:"
"""Threads of function invocations (see ``localcloud.awslambda.runtime``)."""

WRITE_OPERATIONS = frozenset(
    {
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "TransactWriteItems",
        "BatchWriteItem",
        "Publish",
        "PublishBatch",
        "SendMessage",
        "SendMessageBatch",
    }
)
"""Calls with an effect: where a crash after the call, a timeout before it, or an ambiguous error matter."""

# (error code, HTTP status) a client sees when a call fails transiently, per service.
TRANSIENT_ERRORS: dict[str, tuple[tuple[str, int], ...]] = {
    "dynamodb": (
        ("ProvisionedThroughputExceededException", 400),
        ("ThrottlingException", 400),
        ("TransactionConflictException", 400),
        ("InternalServerError", 500),
    ),
    "sns": (("Throttled", 400), ("InternalError", 500)),
    "sqs": (("RequestThrottled", 400), ("InternalError", 500), ("ServiceUnavailable", 503)),
}
BATCH_ENTRIES = {"PublishBatch": "PublishBatchRequestEntries", "SendMessageBatch": "Entries"}
"""The batch calls whose entries can fail on their own, and the request list of each."""
AMBIGUOUS_ERRORS: dict[str, tuple[str, int]] = {
    "dynamodb": ("InternalServerError", 500),
    "sns": ("InternalError", 500),
    "sqs": ("InternalError", 500),
}


class FunctionCrash(BaseException):
    """The function process died: raised from inside an AWS call, caught by nothing of ours."""


@dataclass(frozen=True)
class FaultRates:
    """Probability of each fault per eligible call (transient: any call; the others: calls with an effect)."""

    transient: float = 0.02
    ambiguous: float = 0.005
    crash: float = 0.01
    timeout: float = 0.002
    entry: float = 0.03
    """Per entry of a ``PublishBatch`` / ``SendMessageBatch`` call: the entry fails, the others go through."""

    def __post_init__(self) -> None:
        for name in ("transient", "ambiguous", "crash", "timeout", "entry"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault rate {name} must be between 0 and 1, not {value}")


@dataclass(frozen=True)
class Sabotage:
    """Product faults the checker must catch (see the module docstring); off by default."""

    drop_conditions: bool = False
    publish_drop_rate: float = 0.0

    NAMES = ("drop-conditions", "drop-publishes")
    PUBLISH_DROP_RATE = 0.1

    @classmethod
    def named(cls, names: list[str]) -> Sabotage:
        """From ``--sabotage`` names."""
        unknown = sorted(set(names) - set(cls.NAMES))
        if unknown:
            raise ValueError(f"unknown sabotage {', '.join(unknown)} (choose from {', '.join(cls.NAMES)})")
        return cls("drop-conditions" in names, cls.PUBLISH_DROP_RATE if "drop-publishes" in names else 0.0)

    def describe(self) -> list[str]:
        return [name for name, on in zip(self.NAMES, (self.drop_conditions, self.publish_drop_rate > 0), strict=True)
                if on]


CallRecorder = Callable[[str, str, str, dict[str, Any]], None]
"""``(function, service, operation, params)`` of a call that took effect."""


class FaultInjector:
    """Installs the hooks (see the module docstring) on every botocore client created while installed.

    Decisions come from a random generator seeded with ``seed``; which call of which message meets a fault still
    depends on how the concurrent invocations interleave, so two runs with one seed inject the same kinds at the same
    rates, not at the same instants.
    """

    def __init__(
        self,
        rates: FaultRates,
        *,
        seed: int,
        function_timeout: float,
        recorder: CallRecorder | None = None,
        sleep: Callable[[float], None] = time.sleep,
        sabotage: Sabotage | None = None,
    ) -> None:
        self.rates = rates
        self.sabotage = sabotage or Sabotage()
        self.function_timeout = function_timeout
        self.recorder = recorder
        self.counts: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._original_create_client: Any = None
        self.enabled = True

    # ------------------------------------------------------------------------------------------------- install
    @contextmanager
    def installed(self) -> Iterator[FaultInjector]:
        """Hook every client created inside the block (the functions create theirs lazily, on first use)."""
        original = botocore.session.Session.create_client
        injector = self

        def create_client(session: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            injector.attach(client)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign,assignment]
        try:
            yield self
        finally:
            botocore.session.Session.create_client = original  # type: ignore[method-assign]

    def attach(self, client: Any) -> None:
        """Hook one client."""
        service = client.meta.service_model.service_name
        events = client.meta.events
        events.register_first("before-parameter-build", self._remember_params)
        events.register_first("before-call", lambda **kwargs: self._before_call(client, service, **kwargs))
        events.register_last("after-call", lambda **kwargs: self._after_call(client, service, **kwargs))

    # ---------------------------------------------------------------------------------------------------- hooks
    @staticmethod
    def _function() -> str | None:
        name = threading.current_thread().name
        return name[len(FUNCTION_THREAD_PREFIX) :] if name.startswith(FUNCTION_THREAD_PREFIX) else None

    def _remember_params(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if self.sabotage.drop_conditions and self._function() is not None:
            _drop_conditions(model.name, params)
        key = BATCH_ENTRIES.get(model.name)
        if key is not None and self._function() is not None and params.get(key):
            failed = [entry for entry in params[key] if self._draw("entry_failed", self.rates.entry)]
            if failed:
                params[key] = [entry for entry in params[key] if entry not in failed]
                context["chaos_failed_entries"] = failed
        context["chaos_params"] = dict(params)

    def _draw(self, kind: str, rate: float) -> bool:
        if rate <= 0 or not self.enabled:
            return False
        with self._lock:
            hit = self._random.random() < rate
            if hit:
                self.counts[kind] += 1
        return hit

    def _before_call(self, client: Any, service: str, *, model: Any, context: dict[str, Any], **_: Any) -> Any:
        function = self._function()
        if function is None:
            return None
        operation = model.name
        key = BATCH_ENTRIES.get(operation)
        if key is not None and context.get("chaos_failed_entries") and not context.get("chaos_params", {}).get(key):
            return _all_failed(context["chaos_failed_entries"])  # every entry failed: nothing to send
        if operation in ("Publish", "PublishBatch") and self._draw("publish_dropped", self.sabotage.publish_drop_rate):
            return _acknowledged(operation, context.get("chaos_params", {}))
        if operation in WRITE_OPERATIONS and self._draw("timeout", self.rates.timeout):
            # Past the deadline: the local cloud abandons this invocation; this run carries on afterwards.
            self._sleep(self.function_timeout + 0.5 + self._jitter())
        if self._draw("transient", self.rates.transient):
            code, status = self._pick(TRANSIENT_ERRORS.get(service, (("InternalError", 500),)))
            raise _client_error(client, operation, code, status, context.get("chaos_params", {}))
        return None

    def _after_call(
        self, client: Any, service: str, *, http_response: Any, model: Any, context: dict[str, Any], **kwargs: Any
    ) -> None:
        function = self._function()
        if function is None or http_response is None or http_response.status_code >= 300:
            return
        operation = model.name
        failed_entries = context.get("chaos_failed_entries")
        if failed_entries and isinstance(kwargs.get("parsed"), dict):
            parsed = kwargs["parsed"]
            ids = {entry["Id"] for entry in failed_entries}
            parsed["Successful"] = [ok for ok in parsed.get("Successful", []) if ok.get("Id") not in ids]
            if not any(bad.get("Id") in ids for bad in parsed.get("Failed", [])):
                parsed["Failed"] = [*parsed.get("Failed", []), *_failed_entries(failed_entries)]
            if not context.get("chaos_params", {}).get(BATCH_ENTRIES.get(operation, ""), True):
                return  # nothing was sent: nothing to record or to crash after
        if self.recorder is not None:
            self.recorder(function, service, operation, context.get("chaos_params", {}))
        if operation not in WRITE_OPERATIONS:
            return
        if self._draw("crash", self.rates.crash):
            raise FunctionCrash(f"{function} died after {service}.{operation} took effect")
        if self._draw("ambiguous", self.rates.ambiguous):
            code, status = AMBIGUOUS_ERRORS.get(service, ("InternalError", 500))
            raise _client_error(client, operation, code, status, context.get("chaos_params", {}))

    def _pick(self, choices: tuple[tuple[str, int], ...]) -> tuple[str, int]:
        with self._lock:
            return choices[self._random.randrange(len(choices))]

    def _jitter(self) -> float:
        with self._lock:
            return self._random.uniform(0.0, 1.5)


def _drop_conditions(operation: str, params: dict[str, Any]) -> None:
    """Sabotage: the DynamoDB write without its condition (names and values only the condition used go too)."""
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        _unconditioned(params)
    elif operation == "TransactWriteItems":
        items = [entry for entry in params.get("TransactItems", []) if "ConditionCheck" not in entry]
        for entry in items:
            for request in entry.values():
                _unconditioned(request)
        params["TransactItems"] = items


def _unconditioned(request: dict[str, Any]) -> None:
    request.pop("ConditionExpression", None)
    request.pop("ReturnValuesOnConditionCheckFailure", None)
    used = " ".join(str(request.get(name, "")) for name in ("UpdateExpression", "ProjectionExpression"))
    for field in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        kept = {key: value for key, value in request.get(field, {}).items() if key in used}
        if kept:
            request[field] = kept
        else:
            request.pop(field, None)


def _acknowledged(operation: str, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Sabotage: what SNS answers for a publish that succeeded, for one that is never sent."""
    from botocore.awsrequest import AWSResponse, HTTPHeaders  # noqa: PLC0415

    def entry() -> dict[str, str]:
        return {"MessageId": str(uuid.uuid4()), "SequenceNumber": "1"}

    metadata = {"HTTPStatusCode": 200, "RequestId": str(uuid.uuid4())}
    if operation == "PublishBatch":
        successful = [{"Id": e.get("Id"), **entry()} for e in params.get("PublishBatchRequestEntries", [])]
        parsed: dict[str, Any] = {"Successful": successful, "Failed": [], "ResponseMetadata": metadata}
    else:
        parsed = {**entry(), "ResponseMetadata": metadata}
    return AWSResponse("https://sns.invalid/", 200, HTTPHeaders(), None), parsed


def _failed_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"Id": entry["Id"], "Code": "InternalError", "Message": "injected fault: entry failed",
             "SenderFault": False} for entry in entries]


def _all_failed(entries: list[dict[str, Any]]) -> tuple[Any, dict[str, Any]]:
    """The answer to a batch call whose every entry failed (none is sent)."""
    from botocore.awsrequest import AWSResponse, HTTPHeaders  # noqa: PLC0415

    metadata = {"HTTPStatusCode": 200, "RequestId": str(uuid.uuid4())}
    parsed = {"Successful": [], "Failed": _failed_entries(entries), "ResponseMetadata": metadata}
    return AWSResponse("https://batch.invalid/", 200, HTTPHeaders(), None), parsed


def _client_error(client: Any, operation: str, code: str, status: int, params: dict[str, Any]) -> Exception:
    """The exception botocore raises for ``code``: the modeled class when the service defines one."""
    if operation == "TransactWriteItems" and code == "TransactionConflictException":
        code = "TransactionCanceledException"
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": f"injected fault: {code}"},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": _request_id(code, params)},
    }
    if code == "TransactionCanceledException":
        response["CancellationReasons"] = [{"Code": "TransactionConflict"} for _ in params.get("TransactItems", [])]
    error_class = client.exceptions.from_code(code)
    error: Exception = error_class(response, operation)
    return error


def _request_id(code: str, params: dict[str, Any]) -> str:
    return hashlib.sha256(f"{code}{sorted(params)}".encode()).hexdigest()[:32]
