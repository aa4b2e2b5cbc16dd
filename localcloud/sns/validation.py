"""SNS request validation with the codes and messages SNS answers, where moto 5.2.5 differs.

- Topic names: 1-256 letters, digits, hyphens and underscores, a FIFO topic's ending in ``.fifo`` and only a FIFO
  topic's; anything else is ``InvalidParameter`` "Invalid parameter: Topic Name"
  (https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html). ``FifoTopic=false`` makes a standard topic and
  is not kept as an attribute (moto took the string ``"false"`` for true).
- ``CreateTopic`` of an existing topic with an attribute of another value is ``InvalidParameter`` ("Topic already
  exists with different attributes"); the same attributes, or none, answer with the topic.
- ``SetTopicAttributes`` of ``FifoTopic`` is ``InvalidParameter`` "Invalid parameter: AttributeName".
- A FIFO subscription (FIFO topic, FIFO queue) takes only a FIFO queue as ``RedrivePolicy`` dead-letter queue.
- ``PublishBatch`` entry ids: letters, digits, hyphens and underscores, at most 80 (``InvalidBatchEntryId``)
  (https://docs.aws.amazon.com/sns/latest/api/API_PublishBatchRequestEntry.html).
- A FIFO publish without deduplication id on a topic without content-based deduplication: the message starts with
  "Invalid parameter: " as SNS's does.

The messages are those AWS answered in LocalStack's recordings (``tests/aws/services/sns/test_sns.snapshot.json``;
the conformance suite names the entry of each).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from moto.core.utils import camelcase_to_underscores
from moto.sns import models as sns_models
from moto.sns.exceptions import InvalidParameterValue, SNSException, SNSInvalidParameter
from moto.sns.responses import SNSResponse
from moto.sns.utils import make_arn_for_topic

from localcloud.motopatches.core import Patch

STANDARD_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
FIFO_NAME = re.compile(r"[A-Za-z0-9_-]{1,251}\.fifo")
BATCH_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]+")
MAX_BATCH_ENTRY_ID = 80
DEFAULT_SIGNATURE_VERSION = "1"


class InvalidBatchEntryId(SNSException):
    """``PublishBatch`` with an entry id SNS does not accept."""

    code = "InvalidBatchEntryId"


def is_true(value: Any) -> bool:
    return str(value).lower() == "true"


def check_topic_name(name: str, attributes: Mapping[str, Any]) -> None:
    """Raise ``InvalidParameter`` "Topic Name" unless ``name`` suits the topic's type."""
    pattern = FIFO_NAME if is_true(attributes.get("FifoTopic")) else STANDARD_NAME
    if not pattern.fullmatch(name):
        raise SNSInvalidParameter("Invalid parameter: Topic Name")


def current_value(topic: Any, attribute: str) -> str:
    """A topic attribute as ``GetTopicAttributes`` states it (unset ``SignatureVersion`` is 1)."""
    value = getattr(topic, camelcase_to_underscores(attribute), None)
    if value is None and attribute == "SignatureVersion":
        value = DEFAULT_SIGNATURE_VERSION
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _create_topic(original: Any) -> Any:
    @functools.wraps(original)
    def create_topic(self: Any, name: str, attributes: dict[str, str] | None = None,
                     tags: dict[str, str] | None = None) -> Any:
        attributes = dict(attributes or {})
        if "FifoTopic" in attributes and not is_true(attributes["FifoTopic"]):
            del attributes["FifoTopic"]
        check_topic_name(name, attributes)
        existing = self.topics.get(make_arn_for_topic(self.account_id, name, self.region_name))
        if existing is not None:
            for key, value in attributes.items():
                wanted = ("true" if is_true(value) else "false") if isinstance(value, bool) or key in (
                    "FifoTopic", "ContentBasedDeduplication") else str(value)
                if current_value(existing, key).lower() != wanted.lower():
                    raise SNSInvalidParameter(
                        "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
                    )
            return existing
        return original(self, name, attributes, tags)

    return create_topic


def _set_topic_attribute(original: Any) -> Any:
    @functools.wraps(original)
    def set_topic_attribute(self: Any, topic_arn: str, attribute_name: str, attribute_value: str) -> Any:
        if attribute_name == "fifo_topic":
            raise SNSInvalidParameter("Invalid parameter: AttributeName")
        return original(self, topic_arn, attribute_name, attribute_value)

    return set_topic_attribute


def _get_topic_attributes(original: Any) -> Any:
    """``GetTopicAttributes`` lists ``DeliveryPolicy`` only when one was set, and ``SignatureVersion`` when set."""

    @functools.wraps(original)
    def get_topic_attributes(self: Any) -> Any:
        response = original(self)
        attributes = response.result.get("Attributes") if isinstance(response.result, dict) else None
        if isinstance(attributes, dict):
            if not attributes.get("DeliveryPolicy"):
                attributes.pop("DeliveryPolicy", None)
            topic = self.backend.get_topic(self._get_param("TopicArn"))
            if getattr(topic, "signature_version", None):
                attributes["SignatureVersion"] = str(topic.signature_version)
        return response

    return get_topic_attributes


def _set_subscription_attributes(original: Any) -> Any:
    @functools.wraps(original)
    def set_subscription_attributes(self: Any, arn: str, name: str, value: Any) -> Any:
        subscription = self.subscriptions.get(arn)
        if name == "RedrivePolicy" and value and subscription is not None and subscription.topic.fifo_topic \
                and subscription.protocol == "sqs" and str(subscription.endpoint).endswith(".fifo"):
            try:
                target = json.loads(value).get("deadLetterTargetArn", "")
            except (ValueError, AttributeError):
                target = ""
            if not str(target).endswith(".fifo"):
                raise SNSInvalidParameter("Invalid parameter: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO "
                                          "Subscription to a FIFO Topic.")
        return original(self, arn, name, value)

    return set_subscription_attributes


def check_batch_entry_ids(entries: list[dict[str, Any]]) -> None:
    """Raise ``InvalidBatchEntryId`` for an entry id SNS refuses."""
    for entry in entries:
        entry_id = str(entry.get("Id", ""))
        if not BATCH_ENTRY_ID.fullmatch(entry_id):
            raise InvalidBatchEntryId(
                f"The Id of a batch entry in the batch request contains an impermissible character: {entry_id}"
            )
        if len(entry_id) > MAX_BATCH_ENTRY_ID:
            raise InvalidBatchEntryId(f"The Id of a batch entry in the batch request is too long: {entry_id}")


def _publish_batch(original: Any) -> Any:
    @functools.wraps(original)
    def publish_batch(self: Any, topic_arn: str, publish_batch_request_entries: list[dict[str, Any]]) -> Any:
        check_batch_entry_ids(publish_batch_request_entries)
        return original(self, topic_arn, publish_batch_request_entries)

    return publish_batch


def _publish(original: Any) -> Any:
    @functools.wraps(original)
    def publish(self: Any, message: str, arn: str | None, *args: Any, **kwargs: Any) -> Any:
        topic = self.topics.get(arn) if arn else None
        if (topic is not None and topic.fifo_topic and kwargs.get("group_id") and not kwargs.get("deduplication_id")
                and not is_true(topic.content_based_deduplication)):
            raise InvalidParameterValue("Invalid parameter: The topic should either have ContentBasedDeduplication "
                                        "enabled or MessageDeduplicationId provided explicitly")
        return original(self, message, arn, *args, **kwargs)

    return publish


def patches() -> Iterator[Patch]:
    """The patches of this module."""
    backend = sns_models.SNSBackend
    yield backend, "create_topic", _create_topic(backend.create_topic)
    yield backend, "set_topic_attribute", _set_topic_attribute(backend.set_topic_attribute)
    yield backend, "set_subscription_attributes", _set_subscription_attributes(backend.set_subscription_attributes)
    yield backend, "publish_batch", _publish_batch(backend.publish_batch)
    yield backend, "publish", _publish(backend.publish)
    yield SNSResponse, "get_topic_attributes", _get_topic_attributes(SNSResponse.get_topic_attributes)
