"""Lambda adapter of Billing's credit commands (queue ``billing-command``): ``billing.SetCreditLimit``,
``billing.ReserveCredit``, ``billing.ReleaseCredit`` -> :class:`~billing.credit.CreditService`
(``STATE_TABLE_NAME``); replies to the reply queue and to the order saga's queue (``REPLY_TO_ALLOWLIST``)."""

from __future__ import annotations

import functools
import os
from typing import Any

# The consumer first: Powertools' batch utility, loaded after pydantic, builds the parser models of every event
# source (tens of milliseconds of a cold start); see tests/unit/test_handler_imports.py.
from messaging.consumer import MessageConsumer, MessageContext

# isort: split
from billing.credit import CreditService
from billing.models import SHARD_KEYS, ReleaseCredit, ReserveCredit, SetCreditLimit
from messaging.state_items import DynamoDbStateItems

consumer = MessageConsumer(service="billing-credit", shard_keys=SHARD_KEYS)


@functools.cache
def credit_service() -> CreditService:
    return CreditService(DynamoDbStateItems(os.environ["STATE_TABLE_NAME"]))


@consumer.command("billing.SetCreditLimit", model=SetCreditLimit)
def set_credit_limit(command: SetCreditLimit, context: MessageContext) -> dict[str, Any]:
    return credit_service().set_limit(command)


@consumer.command("billing.ReserveCredit", model=ReserveCredit)
def reserve_credit(command: ReserveCredit, context: MessageContext) -> dict[str, Any]:
    return credit_service().reserve(command)


@consumer.command("billing.ReleaseCredit", model=ReleaseCredit)
def release_credit(command: ReleaseCredit, context: MessageContext) -> dict[str, Any]:
    return credit_service().release(command)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return consumer.handle(event, context)
