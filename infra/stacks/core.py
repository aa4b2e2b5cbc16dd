"""MessagingCore: the alarm topic, the reply channel and the claim-check bucket every service shares."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from infra.claim_check import ClaimCheckBucket
from infra.delayed_delivery import DelayedDelivery
from infra.monitoring import AlarmTopic
from infra.reply_channel import ReplyChannel
from infra.service_queue import ServiceQueue


class MessagingCoreStack(Stack):
    """Alarm topic (``AlarmTopicArn``), reply channel (``ReplyQueueUrl``..., ``ReplyTableName``) and the claim-check
    bucket for large payloads (``ClaimCheckBucketName``), and delayed delivery's schedule group and role
    (``DelayedDeliveryGroupName``, ``DelayedDeliveryRoleArn``).

    Example:
        >>> core = MessagingCoreStack(app, "MessagingCore")  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.alarms = AlarmTopic(self, "Alarms")
        self.replies = ReplyChannel(self, "Replies")
        self.claims = ClaimCheckBucket(self, "Claims")
        self.delayed = DelayedDelivery(self, "Delayed")
        # The order saga's queue: its participants reply here, so it lives with the other shared channels (see
        # infra/saga_orchestrator.py); the OrderSaga stack consumes it.
        self.order_sagas = ServiceQueue(self, "OrderSagas", name="OrderSagas", queue_name="order-sagas")
