"""BillingCredit: Billing's credit commands (``billing-command``): credit limits, reservations for orders, releases."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from infra.consumer_function import ConsumerFunction
from infra.idempotency_store import IdempotencyStore
from infra.reply_channel import ReplyChannel
from infra.service_queue import ServiceQueue
from infra.state_table import StateTable

HANDLER = "billing.credit_handler.lambda_handler"


class BillingCreditStack(Stack):
    """``billing.SetCreditLimit`` / ``ReserveCredit`` / ``ReleaseCredit`` in on ``BillingCommandQueueUrl``, replies
    back; the credit table (``BillingCreditTableName``).

    Example:
        >>> BillingCreditStack(app, "BillingCredit", replies=core.replies)  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, *, replies: ReplyChannel, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.queue = ServiceQueue(self, "Commands", name="BillingCommand", queue_name="billing-commands")
        self.function = ConsumerFunction(
            self, "Handler", function_name="billing-credit", handler=HANDLER, service_name="billing-credit"
        )
        self.function.consume(self.queue)
        self.state = StateTable(self, "State", output_name="BillingCreditTableName")
        self.state.grant_to(self.function)
        self.idempotency = IdempotencyStore(self, "Idempotency")
        self.idempotency.grant_to(self.function)
        replies.allow_replies_from(self.function)
