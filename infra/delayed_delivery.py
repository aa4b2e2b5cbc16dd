"""Delayed delivery: the EventBridge Scheduler schedule group and the role Scheduler assumes to send to queues.

A message scheduled for later (``client.notify(..., deliver_at=...)``, a saga's timeout) is a one-shot schedule in
this group whose target is a queue's ``SendMessage`` (:mod:`messaging.delayed` in the runtime). The role may send to
the queues :meth:`DelayedDelivery.allow` names and nothing else; the grant lives in the queue's stack (an
``AWS::IAM::Policy`` on this role), so the core stack never depends on a service stack. A Scheduler target cannot
give a deduplication id, so :meth:`allow` also turns on content-based deduplication on the queue (explicit ids of
direct sends still win).
"""

from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from infra.compliance import acknowledge
from infra.consumer_function import ConsumerFunction
from infra.service_queue import ServiceQueue
from infra.stage import staged

GROUP_NAME = "messaging-delayed"


class DelayedDelivery(Construct):
    """The schedule group (output ``DelayedDeliveryGroupName``) and the Scheduler execution role (output
    ``DelayedDeliveryRoleArn``), trusted only by ``scheduler.amazonaws.com`` for schedules of this account.

    Example:
        >>> delayed = DelayedDelivery(core_stack, "Delayed")  # doctest: +SKIP
        >>> delayed.allow(orders.queue)  # doctest: +SKIP
        >>> delayed.grant_schedule(saga_function)  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, *, group_name: str = GROUP_NAME) -> None:
        super().__init__(scope, construct_id)
        self.group_name = staged(self, group_name)
        self.group = scheduler.CfnScheduleGroup(self, "Group", name=self.group_name)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description="EventBridge Scheduler sends scheduled messages to the queues allowed by DelayedDelivery",
        )
        CfnOutput(self, "GroupName", value=self.group_name).override_logical_id("DelayedDeliveryGroupName")
        CfnOutput(self, "RoleArn", value=self.role.role_arn).override_logical_id("DelayedDeliveryRoleArn")

    @property
    def schedules_arn(self) -> str:
        """The ARN pattern of every schedule in the group."""
        stack = Stack.of(self)
        return stack.format_arn(service="scheduler", resource="schedule", resource_name=f"{self.group_name}/*")

    def allow(self, queue: ServiceQueue) -> None:
        """Let scheduled messages reach ``queue``: the role may send to it (and use its key), and the queue dedups
        by content (what a Scheduler target needs on FIFO). The policy is created in the queue's scope.

        Example:
            >>> delayed.allow(orders.queue)  # doctest: +SKIP
        """
        queue.enable_content_based_deduplication()
        iam.Policy(
            queue,
            "ScheduledDelivery",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue.queue_arn]),
                iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[queue.key.key_arn]),
            ],
        )

    def grant_schedule(self, producer: ConsumerFunction) -> None:
        """Let ``producer`` schedule and cancel messages in the group (create/delete schedules, pass the role);
        sets ``SCHEDULE_GROUP_NAME`` and ``SCHEDULER_ROLE_ARN``.

        Example:
            >>> delayed.grant_schedule(saga_function)  # doctest: +SKIP
        """
        iam.Grant.add_to_principal(
            grantee=producer.role,
            actions=["scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"],
            resource_arns=[self.schedules_arn],
        )
        iam.Grant.add_to_principal(grantee=producer.role, actions=["iam:PassRole"], resource_arns=[self.role.role_arn])
        flattened = f"arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/{self.group_name}/*"
        acknowledge(
            producer.role,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::{flattened}]",
            "A producer creates one schedule per message it delays, named from the message: the grant covers the "
            "schedules of this one group (create, delete, get), nothing else of Scheduler.",
        )
        producer.add_environment("SCHEDULE_GROUP_NAME", self.group_name)
        producer.add_environment("SCHEDULER_ROLE_ARN", self.role.role_arn)
