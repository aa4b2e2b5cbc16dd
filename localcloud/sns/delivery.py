"""What SNS hands to subscribers and answers to publishers, as AWS does.

- The notification envelope (subscriptions without raw delivery): a FIFO topic's carries ``SequenceNumber`` and no
  ``Signature``/``SignatureVersion``/``SigningCertURL``; a standard topic's is signed with the topic's
  ``SignatureVersion`` (1, SHA1withRSA, unless set to 2); ``UnsubscribeURL`` names the subscription
  (https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html; recorded: LocalStack
  ``tests/aws/services/sns/test_sns.snapshot.json``, ``test_message_to_fifo_sqs`` and
  ``test_redrive_policy_sqs_queue_subscription[False]``). moto signed every envelope with version 2.
- ``Publish`` and ``PublishBatch`` to a FIFO topic return each message's ``SequenceNumber``
  (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html, API_PublishBatchResultEntry.html).
- A topic's ``EffectiveDeliveryPolicy`` is SNS's default delivery policy (``test_create_topic_with_attributes``);
  a subscription's attributes include ``SubscriptionPrincipal``
  (https://docs.aws.amazon.com/sns/latest/api/API_GetSubscriptionAttributes.html).
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterator
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from moto.sns import models as sns_models
from moto.sns.responses import SNSResponse

from localcloud.motopatches.core import Patch
from localcloud.sns.patches import current_sequence_number, sequence_number_of

EFFECTIVE_DELIVERY_POLICY = {"http": {
    "defaultHealthyRetryPolicy": {"minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3,
                                  "numMaxDelayRetries": 0, "numNoDelayRetries": 0, "numMinDelayRetries": 0,
                                  "backoffFunction": "linear"},
    "disableSubscriptionOverrides": False,
    "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}}
_SIGNATURE_FIELDS = ("Signature", "SignatureVersion", "SigningCertURL")


def string_to_sign(envelope: dict[str, Any]) -> str:
    """The text SNS signs for a notification: its fields in order, each name then value on its own line."""
    names = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
    return "".join(f"{name}\n{envelope[name]}\n" for name in names if name in envelope)


def _get_post_data(original: Any) -> Any:
    @functools.wraps(original)
    def get_post_data(self: Any, message: str, message_id: str, subject: str | None,
                      message_attributes: dict[str, Any] | None = None) -> dict[str, Any]:
        envelope: dict[str, Any] = original(self, message, message_id, subject, message_attributes=message_attributes)
        region = self.topic.sns_backend.region_name
        envelope["UnsubscribeURL"] = (f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
                                      f"{self.arn}")
        if self.topic.fifo_topic:
            for field in _SIGNATURE_FIELDS:
                envelope.pop(field, None)
            sequence_number = current_sequence_number()
            if sequence_number is not None:
                envelope["SequenceNumber"] = sequence_number
            return envelope
        version = str(getattr(self.topic, "signature_version", None) or "1")
        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()  # noqa: S303 - SNS signature version 1
        signature = self.private_key().sign(string_to_sign(envelope).encode("utf-8"), padding.PKCS1v15(), algorithm)
        envelope["SignatureVersion"] = version
        envelope["Signature"] = base64.b64encode(signature).decode("ascii")
        return envelope

    return get_post_data


def _publish_response(original: Any) -> Any:
    @functools.wraps(original)
    def publish(self: Any) -> Any:
        response = original(self)
        arn = self._get_param("TopicArn") or self._get_param("TargetArn")
        topic = self.backend.topics.get(arn) if arn else None
        if topic is not None and topic.fifo_topic and isinstance(response.result, dict):
            number = sequence_number_of(topic, response.result["MessageId"])
            if number is not None:
                response.result["SequenceNumber"] = number
        return response

    return publish


def _publish_batch_response(original: Any) -> Any:
    @functools.wraps(original)
    def publish_batch(self: Any) -> Any:
        response = original(self)
        topic = self.backend.topics.get(self._get_param("TopicArn"))
        if topic is not None and topic.fifo_topic and isinstance(response.result, dict):
            for entry in response.result.get("Successful", []):
                number = sequence_number_of(topic, entry["MessageId"])
                if number is not None:
                    entry["SequenceNumber"] = number
        return response

    return publish_batch


def _create_topic(original: Any) -> Any:
    @functools.wraps(original)
    def create_topic(self: Any, *args: Any, **kwargs: Any) -> Any:
        topic = original(self, *args, **kwargs)
        if not getattr(topic, "_localcloud_policy_set", False):
            topic.effective_delivery_policy = json.dumps(EFFECTIVE_DELIVERY_POLICY)
            topic._localcloud_policy_set = True
        return topic

    return create_topic


def _get_subscription_attributes(original: Any) -> Any:
    @functools.wraps(original)
    def get_subscription_attributes(self: Any, arn: str) -> Any:
        attributes: dict[str, Any] = original(self, arn)
        attributes.setdefault("SubscriptionPrincipal", f"arn:aws:iam::{self.account_id}:root")
        return attributes

    return get_subscription_attributes


def patches() -> Iterator[Patch]:
    """The patches of this module."""
    backend = sns_models.SNSBackend
    yield sns_models.Subscription, "get_post_data", _get_post_data(sns_models.Subscription.get_post_data)
    yield SNSResponse, "publish", _publish_response(SNSResponse.publish)
    yield SNSResponse, "publish_batch", _publish_batch_response(SNSResponse.publish_batch)
    yield backend, "create_topic", _create_topic(backend.create_topic)
    yield backend, "get_subscription_attributes", _get_subscription_attributes(backend.get_subscription_attributes)
