"""Reply channel: reply queue, reply router function and the reply table replies wait in until they expire.

Requesters register nothing: the router stores every reply the queue takes, with one conditional write and no read,
and a requester reads its own correlation id. What decides which replies exist is who may send to the queue: its
policy denies ``sqs:SendMessage`` to every principal but the roles under the stage's reply-sender path
(:func:`reply_sender_path`), the path :meth:`ReplyChannel.allow_replies_from` puts a responder's role on. The path is
part of the role's ARN, fixed when the role is created (changing it replaces the role) and set only by whoever may
create roles, so the deny holds for other accounts, for every other role and user of this one (those with
``sqs:*`` on ``*`` included), and for AWS services.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.consumer_function import ConsumerFunction
from infra.defaults import secure_table
from infra.service_queue import ServiceQueue
from infra.stage import DEFAULT_STAGE_KEY, stage_of

REPLY_ROUTER_HANDLER = "reply_router.handler.lambda_handler"
#: Conditional put of a reply (duplicates are detected by the condition), and nothing else: the router reads nothing.
ROUTER_ACTIONS = ("dynamodb:PutItem",)
#: What a requester needs: its replies by correlation id (a consistent Query). It writes nothing before sending.
REQUESTER_ACTIONS = ("dynamodb:Query",)
#: The statement of the reply queue's policy that keeps everyone but the system's responders from sending to it.
REPLY_SENDERS_SID = "OnlyTheSystemsRespondersSendReplies"


def reply_sender_path(scope: Construct) -> str:
    """The IAM path of the roles that may send to the reply queues of ``scope``'s stage.

    Example:
        >>> reply_sender_path(stack)  # "/fifo-messaging/dev/reply-senders/" under -c stage=dev  # doctest: +SKIP
        '/fifo-messaging/default/reply-senders/'
    """
    return f"/fifo-messaging/{stage_of(scope) or DEFAULT_STAGE_KEY}/reply-senders/"


class ReplyChannel(Construct):
    """Replies flow responder -> reply queue -> router -> reply table (``correlationid`` / ``replyid``, TTL
    ``expires_at``). A requester reads its own replies by correlation id (the id of its request), also after it went
    away and came back; only the roles :meth:`allow_replies_from` names may send to the queue.

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
        self.sender_path = reply_sender_path(self)
        senders = Stack.of(self).format_arn(service="iam", region="", resource="role",
                                            resource_name=f"{self.sender_path.strip('/')}/*")
        self.queue.queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid=REPLY_SENDERS_SID,
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["sqs:SendMessage"],  # SendMessageBatch is authorized as SendMessage
                resources=[self.queue.queue.queue_arn],
                conditions={"ArnNotLike": {"aws:PrincipalArn": senders}},
            )
        )

    def allow_replies_from(self, responder: ConsumerFunction) -> None:
        """Let ``responder`` send replies here: its role on the reply-sender path (the queue's policy denies every
        other principal), the send grant on the reply queue and its key, ``REPLY_TO_ALLOWLIST``.

        Example:
            >>> replies.allow_replies_from(quote_function)  # doctest: +SKIP
        """
        role = responder.role.node.default_child
        if not isinstance(role, iam.CfnRole):
            raise TypeError(f"{responder.node.path}: a responder needs a role of its own to be put on the sender path")
        if role.path not in (None, self.sender_path):
            raise ValueError(f"{responder.node.path}: its role is on the path {role.path!r}, not {self.sender_path!r}")
        role.path = self.sender_path
        self.queue.grant_send(responder.role)
        responder.allow_reply_to(self.queue.queue_url)

    def allow_requests_from(self, requester: ConsumerFunction) -> None:
        """Let a requester function read replies: the grant, ``REPLY_TABLE_NAME`` and ``REPLY_QUEUE_URL`` (its
        commands' ``replyto``).

        Example:
            >>> replies.allow_requests_from(orders_api_function)  # doctest: +SKIP
        """
        self.grant_requester(requester.role)
        requester.add_environment("REPLY_TABLE_NAME", self.table.table_name)
        requester.add_environment("REPLY_QUEUE_URL", self.queue.queue_url)

    def grant_requester(self, principal: iam.IGrantable) -> None:
        """Let a requester read the replies to its requests from the reply table (it needs no write there).

        Example:
            >>> replies.grant_requester(client_role)  # doctest: +SKIP
        """
        self.table.grant(principal, *REQUESTER_ACTIONS)
