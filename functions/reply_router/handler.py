"""Lambda adapter of the reply router: reply queue -> reply store (``REPLY_TABLE_NAME``).

Requesters never read the shared reply queue themselves: they look up their own correlation id in the store, so many
concurrent requesters never see each other's replies, and a reply whose requester has gone away stays retrievable
until it expires (``REPLY_TTL_SECONDS``, default one day). The reply is staged as one item keyed by the reply's own
identity, so the router's dedup record rides on it: one conditional write per reply, a redelivered reply is dropped.
A reply to a request no requester registered is dead-lettered (``unknown_correlationid``): nobody awaits it.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from messaging.consumer import MessageConsumer, MessageContext
from messaging.errors import UnknownCorrelationId
from messaging.reply_store import REPLY_TTL_SECONDS, DynamoDbReplyStore

consumer = MessageConsumer(service="reply-router", tracing=True)


@functools.cache
def reply_store() -> DynamoDbReplyStore:
    return DynamoDbReplyStore(os.environ["REPLY_TABLE_NAME"])


@consumer.reply()
def route_reply(reply: Any, context: MessageContext) -> None:
    correlation_id = context.envelope.correlationid or ""
    if not reply_store().is_expected(correlation_id):
        raise UnknownCorrelationId(correlation_id)
    ttl = int(os.environ.get("REPLY_TTL_SECONDS", REPLY_TTL_SECONDS))
    reply_store().stage(context.envelope, ttl_seconds=ttl)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return consumer.handle(event, context)
