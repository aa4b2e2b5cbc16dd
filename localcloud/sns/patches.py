"""SNS: FIFO topic deduplication and sequence numbers, bounded record of sent messages,
InvalidParameter for a FIFO publish without group id, RawMessageDelivery "false", subscription redrive."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

from moto.sns import models as sns_models
from moto.sns.exceptions import InvalidParameterValue, SNSInvalidParameter
from moto.sqs.exceptions import SQSException

from localcloud.clock import CLOCK
from localcloud.motopatches.core import (
    DEDUPLICATION_WINDOW_SECONDS,
    MOTO_LOCK,
    DedupRecord,
    Patch,
    dedup_table,
    purge_expired,
)

log = logging.getLogger("localcloud.sns")

MAX_BATCH_ENTRIES = 10
SENT_NOTIFICATIONS_KEPT = 100
"""Published messages a moto topic keeps in ``sent_notifications`` (moto keeps every one; SNS keeps none)."""
SEQUENCES_KEPT = 1000
"""Sequence numbers of recent FIFO publishes a topic remembers, for the ``Publish``/``PublishBatch`` answers."""
_SEQUENCE_BASE = 10_000_000_000_000_000_000

_publishing = threading.local()


def current_sequence_number() -> str | None:
    """The sequence number of the FIFO publish being delivered in this thread (for the notification envelope)."""
    value: str | None = getattr(_publishing, "sequence_number", None)
    return value


def sequence_number_of(topic: Any, message_id: str) -> str | None:
    """The sequence number SNS gave a recent FIFO publish of ``topic``."""
    value: str | None = getattr(topic, "_localcloud_sequences", {}).get(message_id)
    return value


def _next_sequence_number(topic: Any) -> str:
    counter: int = getattr(topic, "_localcloud_sequence", 0) + 1
    topic._localcloud_sequence = counter
    return str(_SEQUENCE_BASE + counter * 1_000_003)


def _topic_publish(original: Any) -> Any:
    """SNS ``Publish``: FIFO topic-level 5-minute deduplication, the used dedup id travelling to the subscribed
    queues; a sequence number per FIFO publish, growing per topic ("SequenceNumber ... applies only to FIFO
    topics", https://docs.aws.amazon.com/sns/latest/api/API_Publish.html); the topic's record of sent messages
    stays bounded."""

    @functools.wraps(original)
    def publish(self: Any, message: str, *args: Any, **kwargs: Any) -> str:
        try:
            return _publish(self, message, *args, **kwargs)
        finally:
            del self.sent_notifications[:-SENT_NOTIFICATIONS_KEPT]

    def _publish(self: Any, message: str, *args: Any, **kwargs: Any) -> str:
        if not self.fifo_topic:
            result: str = original(self, message, *args, **kwargs)
            return result
        with MOTO_LOCK:
            dedup_id = kwargs.get("deduplication_id")
            if dedup_id is None and self.content_based_deduplication:
                dedup_id = hashlib.sha256(message.encode("utf-8")).hexdigest()
                kwargs["deduplication_id"] = dedup_id
            table = dedup_table(self)
            now = CLOCK.now()
            purge_expired(table, now)
            if dedup_id is not None and dedup_id in table:
                return table[dedup_id].message_id
            sequence_number = _next_sequence_number(self)
            _publishing.sequence_number = sequence_number
            try:
                message_id: str = original(self, message, *args, **kwargs)
            finally:
                _publishing.sequence_number = None
            sequences = self.__dict__.setdefault("_localcloud_sequences", {})
            sequences[message_id] = sequence_number
            for stale in list(sequences)[: max(0, len(sequences) - SEQUENCES_KEPT)]:
                del sequences[stale]
            if dedup_id is not None:
                table[dedup_id] = DedupRecord(now + DEDUPLICATION_WINDOW_SECONDS, message_id, sequence_number)
            return message_id

    return publish


def _backend_publish(original: Any) -> Any:
    """SNS ``Publish``: a FIFO topic without ``MessageGroupId`` is an ``InvalidParameter``, as in SNS."""

    @functools.wraps(original)
    def publish(self: Any, message: str, arn: str | None, *args: Any, **kwargs: Any) -> Any:
        if arn and arn.endswith(".fifo") and not kwargs.get("group_id") and arn in self.topics:
            raise InvalidParameterValue("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
        return original(self, message, arn, *args, **kwargs)

    return publish


def _publish_batch(original: Any) -> Any:
    """SNS ``PublishBatch`` to a FIFO topic without content-based deduplication: an entry without
    ``MessageDeduplicationId`` fails the whole request with ``InvalidParameter``, as SNS answers (moto failed only
    that entry) (https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html)."""

    @functools.wraps(original)
    def publish_batch(self: Any, topic_arn: str, publish_batch_request_entries: list[dict[str, Any]]) -> Any:
        topic = self.get_topic(topic_arn)
        if (topic.fifo_topic and not topic.content_based_deduplication
                and not all(entry.get("MessageDeduplicationId") for entry in publish_batch_request_entries)
                and len(publish_batch_request_entries) <= MAX_BATCH_ENTRIES
                and all(entry.get("MessageGroupId") for entry in publish_batch_request_entries)):
            raise SNSInvalidParameter(
                "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )
        return original(self, topic_arn, publish_batch_request_entries)

    return publish_batch


def _subscription_publish(original: Any) -> Any:
    """Delivery to one subscription: ``RawMessageDelivery`` "false" means false; a delivery to an SQS queue that
    fails (the queue is gone, say) does not fail the ``Publish``: SNS moves the message to the subscription's own
    dead-letter queue (its ``RedrivePolicy``) or, without one, drops it
    (https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html)."""

    @functools.wraps(original)
    def publish(self: Any, *args: Any, **kwargs: Any) -> Any:
        raw = self.attributes.get("RawMessageDelivery")
        if isinstance(raw, str):
            self.attributes["RawMessageDelivery"] = raw.lower() == "true"
        if self.protocol != "sqs":
            return original(self, *args, **kwargs)
        try:
            return _deliver(self, self.endpoint, *args, **kwargs)
        except SQSException as error:
            target = _dead_letter_target(self)
            if target is None:
                log.warning("SNS delivery to %s failed and the subscription has no RedrivePolicy: %s",
                            self.endpoint, error.message)
                return None
            try:
                return _deliver(self, target, *args, **kwargs)
            except SQSException as again:
                log.warning("SNS delivery to the dead-letter queue %s failed: %s", target, again.message)
                return None

    def _deliver(self: Any, endpoint: str, *args: Any, **kwargs: Any) -> Any:
        """Deliver to the queue ``endpoint``; a standard queue (subscribed to a FIFO topic) gets no FIFO ids."""
        if not endpoint.endswith(".fifo"):
            kwargs["group_id"] = kwargs["deduplication_id"] = None
        subscribed = self.endpoint
        self.endpoint = endpoint
        try:
            return original(self, *args, **kwargs)
        finally:
            self.endpoint = subscribed

    return publish


def _dead_letter_target(subscription: Any) -> str | None:
    policy = subscription.attributes.get("RedrivePolicy")
    if not policy:
        return None
    try:
        target = json.loads(policy).get("deadLetterTargetArn") if isinstance(policy, str) else None
    except ValueError:
        return None
    return target if isinstance(target, str) and target.startswith("arn:") else None


def patches() -> Iterator[Patch]:
    """The patches of this module."""
    yield sns_models.Topic, "publish", _topic_publish(sns_models.Topic.publish)
    yield sns_models.SNSBackend, "publish", _backend_publish(sns_models.SNSBackend.publish)
    yield sns_models.SNSBackend, "publish_batch", _publish_batch(sns_models.SNSBackend.publish_batch)
    yield sns_models.Subscription, "publish", _subscription_publish(sns_models.Subscription.publish)
