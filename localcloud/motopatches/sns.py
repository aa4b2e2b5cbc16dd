"""SNS: FIFO topic deduplication, bounded record of sent messages,
InvalidParameter for a FIFO publish without group id, RawMessageDelivery "false"."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from typing import Any

from moto.sns import models as sns_models
from moto.sns.exceptions import InvalidParameterValue

from localcloud.clock import CLOCK
from localcloud.motopatches.core import (
    DEDUPLICATION_WINDOW_SECONDS,
    MOTO_LOCK,
    DedupRecord,
    Patch,
    dedup_table,
    purge_expired,
)

SENT_NOTIFICATIONS_KEPT = 100
"""Published messages a moto topic keeps in ``sent_notifications`` (moto keeps every one; SNS keeps none)."""


def _topic_publish(original: Any) -> Any:
    """SNS ``Publish``: FIFO topic-level 5-minute deduplication, the used dedup id travelling to the subscribed
    queues; the topic's record of sent messages stays bounded."""

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
            message_id: str = original(self, message, *args, **kwargs)
            if dedup_id is not None:
                table[dedup_id] = DedupRecord(now + DEDUPLICATION_WINDOW_SECONDS, message_id, None)
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


def _subscription_publish(original: Any) -> Any:
    @functools.wraps(original)
    def publish(self: Any, *args: Any, **kwargs: Any) -> Any:
        raw = self.attributes.get("RawMessageDelivery")
        if isinstance(raw, str):
            self.attributes["RawMessageDelivery"] = raw.lower() == "true"
        return original(self, *args, **kwargs)

    return publish


def patches() -> Iterator[Patch]:
    """The patches of this module."""
    yield sns_models.Topic, "publish", _topic_publish(sns_models.Topic.publish)
    yield sns_models.SNSBackend, "publish", _backend_publish(sns_models.SNSBackend.publish)
    yield sns_models.Subscription, "publish", _subscription_publish(sns_models.Subscription.publish)
