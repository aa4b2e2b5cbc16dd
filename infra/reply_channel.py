"""Reply channel: reply queue, reply router function and the reply table replies wait in until they expire."""

from __future__ import annotations

from aws_cdk import CfnOutput
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.consumer_function import ConsumerFunction
from infra.defaults import secure_table
from infra.service_queue import ServiceQueue

REPLY_ROUTER_HANDLER = "reply_router.handler.lambda_handler"
#: Conditional put of a reply (duplicates are detected by the condition); the read of the request's registration.
ROUTER_ACTIONS = ("dynamodb:PutItem", "dynamodb:GetItem")
#: What a requester needs: register a request (put), its replies by correlation id (consistent Query) or one reply.
REQUESTER_ACTIONS = ("dynamodb:PutItem", "dynamodb:Query", "dynamodb:GetItem")


class ReplyChannel(Construct):
    """Replies flow responder -> reply queue -> router -> reply table (``correlationid`` / ``replyid``, TTL
    ``expires_at``). A requester registers each request in the table, and reads its own replies by correlation id,
    also after it went away and came back; the router stores replies to registered requests only.

    Example:
        >>> replies = ReplyChannel(stack, "Replies")  # doctest: +SKIP
        >>> replies.allow_replies_from(orders_function)  # doctest: +SKIP
        >>> replies.grant_requester(client_role)  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, *, queue_name: str = "replies") -> None:
        super().__init__(scope, construct_id)
        self.queue = ServiceQueue(self, "Queue", name="Reply", queue_name=queue_name)
        self.table = secure_table(self, partition_key="correlationid", sort_key="replyid", ttl_attribute="expires_at")
        CfnOutput(self, "TableName", value=self.table.table_name).override_logical_id("ReplyTableName")
        self.router = ConsumerFunction(
            self,
            "Router",
            function_name="reply-router",
            handler=REPLY_ROUTER_HANDLER,
            service_name="reply-router",
        )
        self.table.grant(self.router.role, *ROUTER_ACTIONS)
        self.router.add_environment("REPLY_TABLE_NAME", self.table.table_name)
        self.router.consume(self.queue)

    def allow_replies_from(self, responder: ConsumerFunction) -> None:
        """Let ``responder`` send replies here: send grant on the reply queue and its key, ``REPLY_TO_ALLOWLIST``.

        Example:
            >>> replies.allow_replies_from(quote_function)  # doctest: +SKIP
        """
        self.queue.grant_send(responder.role)
        responder.allow_reply_to(self.queue.queue_url)

    def allow_requests_from(self, requester: ConsumerFunction) -> None:
        """Let a requester function register requests and read replies: the grant, ``REPLY_TABLE_NAME`` and
        ``REPLY_QUEUE_URL`` (its commands' ``replyto``).

        Example:
            >>> replies.allow_requests_from(orders_api_function)  # doctest: +SKIP
        """
        self.grant_requester(requester.role)
        requester.add_environment("REPLY_TABLE_NAME", self.table.table_name)
        requester.add_environment("REPLY_QUEUE_URL", self.queue.queue_url)

    def grant_requester(self, principal: iam.IGrantable) -> None:
        """Let a requester register its requests in the reply table and read their replies.

        Example:
            >>> replies.grant_requester(client_role)  # doctest: +SKIP
        """
        self.table.grant(principal, *REQUESTER_ACTIONS)
