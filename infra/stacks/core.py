"""MessagingCore: the alarm topic and the reply channel every requester and responder shares."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from infra.monitoring import AlarmTopic
from infra.reply_channel import ReplyChannel


class MessagingCoreStack(Stack):
    """Alarm topic (``AlarmTopicArn``) and reply channel (``ReplyQueueUrl``..., ``ReplyTableName``).

    Example:
        >>> core = MessagingCoreStack(app, "MessagingCore")  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.alarms = AlarmTopic(self, "Alarms")
        self.replies = ReplyChannel(self, "Replies")
