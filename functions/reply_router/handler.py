"""Lambda adapter of the reply router: reply queue -> reply store (``REPLY_TABLE_NAME``).

Requesters never read the shared reply queue themselves: they look up their own correlation id in the store, so many
concurrent requesters never see each other's replies, and a reply whose requester has gone away stays retrievable
until it expires (``REPLY_TTL_SECONDS``, default one day). The reply is staged as one item keyed by the reply's own
identity, so the router's dedup record rides on it: one conditional write per reply and no read, a redelivered reply
is dropped.

Every well-formed reply is stored: requesters do not register their requests. What registration used to guard is
guarded without a read: only the system's responders may send to the reply queue (its policy denies every other
principal), and a reply is only ever read by the id of the request it answers, a random UUID drawn when the request
is sent, so a reply to a request nobody made (forged with a guessed id, or late, after its request expired) is never
read by anyone and expires like the others (docs/decisions.md, "Replies need no registration").
"""

from __future__ import annotations

import functools
import os
from typing import Any

from messaging.consumer import MessageConsumer, MessageContext
from messaging.reply_store import REPLY_TTL_SECONDS, DynamoDbReplyStore

consumer = MessageConsumer(service="reply-router", tracing=True)


@functools.cache
def reply_store() -> DynamoDbReplyStore:
    return DynamoDbReplyStore(os.environ["REPLY_TABLE_NAME"])


@consumer.reply()
def route_reply(reply: Any, context: MessageContext) -> None:
    ttl = int(os.environ.get("REPLY_TTL_SECONDS", REPLY_TTL_SECONDS))
    reply_store().stage(context.envelope, ttl_seconds=ttl)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return consumer.handle(event, context)
