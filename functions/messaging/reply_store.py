"""Reply store: replies kept by correlation id, so a requester (or its successor) can collect them until they expire.

One reply per (``correlationid``, ``replyid``) with ``replyid = f"{source}|{id}"``: a redelivered reply is a duplicate,
while replies of several responders to one request (scatter-gather) are kept side by side.

Requesters write nothing here before sending: the router stores every reply that reaches the reply queue, and a
requester reads its own correlation id. Who may put a reply there is the reply queue's policy (only the roles of the
system's responders may send to it, :class:`infra.reply_channel.ReplyChannel`); a reply is found only by the id of the
request it answers, a random UUID the requester draws when it sends, so no one can plant a reply for a request not yet
made, and a reply nobody asked for is never read and expires with the others (docs/decisions.md, "Replies need no
registration").

Example:
    >>> from messaging.envelope import ReplyOutcome, command, reply_to
    >>> store = InMemoryReplyStore()
    >>> request = command("quotes.RequestQuote", {}, source="/client", partitionkey="p-1")
    >>> reply = reply_to(request, ReplyOutcome.success({"price": 7}), source="/quotes/standard")
    >>> store.put(reply, ttl_seconds=3600), store.put(reply, ttl_seconds=3600)
    (True, False)
    >>> [r.source for r in store.get(request.id)]
    ['/quotes/standard']
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from messaging import unit_of_work
from messaging.aws import DynamoDbTableAdapter
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

REPLY_TTL_SECONDS = 24 * 60 * 60
"""How long replies are kept: one day."""


class ReplyStore(Protocol):
    """Port: where the reply router keeps replies and requesters read them."""

    def put(self, reply: Envelope, ttl_seconds: int) -> bool:
        """Store ``reply`` under its correlation id; ``False`` if this reply (source + id) is already stored."""
        ...

    def get(self, correlation_id: str) -> list[Envelope]:
        """All unexpired replies to ``correlation_id``, oldest first (strongly consistent)."""
        ...


def reply_key(reply: Envelope) -> str:
    """The sort key of a reply: ``f"{source}|{id}"``."""
    return f"{reply.source}|{reply.id}"


def _correlation_id(reply: Envelope) -> str:
    if not reply.correlationid:
        raise ValueError("a reply needs a correlationid to be stored")
    return reply.correlationid


class InMemoryReplyStore:
    """The reply store in a dict (tests, demos); same semantics as :class:`DynamoDbReplyStore`."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._items: dict[str, dict[str, tuple[float, float, Envelope]]] = {}
        self._lock = threading.Lock()

    def put(self, reply: Envelope, ttl_seconds: int) -> bool:
        correlation_id, key, now = _correlation_id(reply), reply_key(reply), self._clock()
        with self._lock:
            replies = self._items.setdefault(correlation_id, {})
            existing = replies.get(key)
            if existing is not None and existing[1] > now:
                return False
            replies[key] = (now, now + ttl_seconds, reply)
            return True

    def get(self, correlation_id: str) -> list[Envelope]:
        now = self._clock()
        with self._lock:
            live = [item for item in self._items.get(correlation_id, {}).values() if item[1] > now]
        return [reply for _, _, reply in sorted(live, key=lambda item: (item[0], item[2].time))]


class DynamoDbReplyStore(DynamoDbTableAdapter):
    """Replies in DynamoDB: partition key ``correlationid``, sort key ``replyid``, TTL attribute ``expires_at``.

    The item also holds ``body`` (the reply as CloudEvents JSON) and ``stored_at`` (epoch milliseconds, for ordering).
    DynamoDB deletes expired items lazily, so :meth:`get` also filters on ``expires_at``.
    """

    def __init__(
        self, table_name: str, client: DynamoDBClient | None = None, *, codec: CloudEventJsonCodec | None = None
    ) -> None:
        super().__init__(table_name, client)
        self._codec = codec or CloudEventJsonCodec()

    def _item(self, reply: Envelope, ttl_seconds: int, now: float) -> dict[str, Any]:
        return {
            "correlationid": {"S": _correlation_id(reply)},
            "replyid": {"S": reply_key(reply)},
            "body": {"S": self._codec.encode(reply)},
            "stored_at": {"N": str(int(now * 1000))},
            "expires_at": {"N": str(int(now + ttl_seconds))},
        }

    def put(self, reply: Envelope, ttl_seconds: int) -> bool:
        now = time.time()
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=self._item(reply, ttl_seconds, now),
                # A stored reply wins unless it has expired (TTL deletion may lag by hours).
                ConditionExpression="attribute_not_exists(replyid) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def stage(self, reply: Envelope, ttl_seconds: int) -> None:
        """Stage the reply into the unit of work of the message being handled (what the reply router does): the key
        is the reply's own identity, so the router's dedup record rides on the reply item."""
        unit_of_work.current().create(
            self.table_name,
            self._item(reply, ttl_seconds, time.time()),
            key=("correlationid", "replyid"),
            keyed_by_message=True,
        )

    def get(self, correlation_id: str) -> list[Envelope]:
        now = int(time.time())
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "correlationid = :c",
            "ExpressionAttributeValues": {":c": {"S": correlation_id}},
            "ConsistentRead": True,
        }
        while True:
            page = self.client.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        # An item without a body is no reply: a registration, as requesters wrote them before replies needed none
        # (harmless, it expires within a day).
        live = [item for item in items if int(item["expires_at"]["N"]) >= now and "body" in item]
        replies = [(int(item["stored_at"]["N"]), self._codec.decode(item["body"]["S"])) for item in live]
        return [reply for _, reply in sorted(replies, key=lambda pair: (pair[0], pair[1].time))]
