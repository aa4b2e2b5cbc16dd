"""Consumer settings, read from the environment at invocation time (never at import time).

Example:
    >>> settings = ConsumerSettings.from_env({"REPLY_TO_ALLOWLIST": "https://q/a.fifo, https://q/b.fifo"})
    >>> sorted(settings.reply_to_allowlist)
    ['https://q/a.fifo', 'https://q/b.fifo']
    >>> settings.idempotency_expiry_seconds
    3600
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS = 60 * 60
"""How long a completed message is remembered (and its reply and events replayed on redelivery): one hour.

It must outlast every way the same (``source``, ``id``) can arrive again: SQS retries (``maxReceiveCount`` x visibility
timeout, minutes), a producer resending after the 5-minute FIFO deduplication window, and an SNS redrive. One hour
covers these with a wide margin while keeping the table small; raise it with ``IDEMPOTENCY_EXPIRY_SECONDS`` if
producers may resend later than that.
"""

DEFAULT_METRICS_NAMESPACE = "FifoMessaging"

_TRUTHY = frozenset(("1", "y", "yes", "t", "true", "on"))
"""What Powertools reads as true in a flag variable (``POWERTOOLS_TRACE_DISABLED``)."""


def tracing_active(environ: Mapping[str, str] | None = None) -> bool:
    """True when X-Ray records this invocation: in Lambda (``LAMBDA_TASK_ROOT``, not SAM local nor Chalice), tracing
    not switched off (``POWERTOOLS_TRACE_DISABLED``, ``AWS_XRAY_SDK_ENABLED=false``) and the invocation's trace header
    sampled (``_X_AMZN_TRACE_ID`` with ``Sampled=1``: Lambda sets it per invocation when active tracing, or the
    caller, chose to record it).

    Anywhere else a Powertools ``Tracer`` records nothing (it disables itself, and the X-Ray SDK drops unsampled
    subsegments), so a consumer does not load it: importing the X-Ray SDK and building its recorder costs about
    130 ms of a cold start. Read at each invocation (the trace header changes per invocation), from ``environ``
    (default: ``os.environ`` now).

    Example:
        >>> sampled = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
        >>> lambda_env = {"LAMBDA_TASK_ROOT": "/var/task", "_X_AMZN_TRACE_ID": sampled}
        >>> tracing_active(lambda_env), tracing_active({**lambda_env, "POWERTOOLS_TRACE_DISABLED": "true"})
        (True, False)
        >>> tracing_active({**lambda_env, "_X_AMZN_TRACE_ID": sampled.replace("Sampled=1", "Sampled=0")})
        False
        >>> tracing_active({"_X_AMZN_TRACE_ID": sampled})  # not in Lambda
        False
    """
    env = os.environ if environ is None else environ
    if not env.get("LAMBDA_TASK_ROOT") or env.get("AWS_SAM_LOCAL") or env.get("AWS_CHALICE_CLI_MODE"):
        return False
    if env.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in _TRUTHY:
        return False
    if env.get("AWS_XRAY_SDK_ENABLED", "").strip().lower() == "false":
        return False
    header = env.get("_X_AMZN_TRACE_ID", "")
    return "Sampled=1" in header.split(";")


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    """What a consumer needs from its deployment. Build with :meth:`from_env`, or directly in tests."""

    idempotency_table_name: str | None = None
    dead_letter_queue_url: str | None = None
    event_topic_arn: str | None = None
    reply_to_allowlist: frozenset[str] = field(default_factory=frozenset)
    service_name: str | None = None
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE
    idempotency_expiry_seconds: int = DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS
    claim_check_bucket: str | None = None
    schedule_group_name: str | None = None
    scheduler_role_arn: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ConsumerSettings:
        """Read ``IDEMPOTENCY_TABLE_NAME``, ``DEAD_LETTER_QUEUE_URL``, ``EVENT_TOPIC_ARN``, ``REPLY_TO_ALLOWLIST``
        (comma-separated), ``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``,
        ``IDEMPOTENCY_EXPIRY_SECONDS``, ``CLAIM_CHECK_BUCKET``, ``SCHEDULE_GROUP_NAME`` and ``SCHEDULER_ROLE_ARN``
        from ``environ`` (default: ``os.environ`` now)."""
        env = os.environ if environ is None else environ
        allowlist = frozenset(url.strip() for url in env.get("REPLY_TO_ALLOWLIST", "").split(",") if url.strip())
        expiry = env.get("IDEMPOTENCY_EXPIRY_SECONDS", "").strip()
        return cls(
            idempotency_table_name=env.get("IDEMPOTENCY_TABLE_NAME") or None,
            dead_letter_queue_url=env.get("DEAD_LETTER_QUEUE_URL") or None,
            event_topic_arn=env.get("EVENT_TOPIC_ARN") or None,
            reply_to_allowlist=allowlist,
            service_name=env.get("POWERTOOLS_SERVICE_NAME") or None,
            metrics_namespace=env.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE,
            idempotency_expiry_seconds=int(expiry) if expiry else DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS,
            claim_check_bucket=env.get("CLAIM_CHECK_BUCKET") or None,
            schedule_group_name=env.get("SCHEDULE_GROUP_NAME") or None,
            scheduler_role_arn=env.get("SCHEDULER_ROLE_ARN") or None,
        )

    def with_overrides(self, **changes: object) -> ConsumerSettings:
        """A copy with some fields replaced (handy in tests)."""
        return replace(self, **changes)  # type: ignore[arg-type]
