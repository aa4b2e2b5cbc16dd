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
