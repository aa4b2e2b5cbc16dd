"""Python Lambda consumer of a service queue: own role, own log group, X-Ray, Powertools settings."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.compliance import acknowledge
from infra.function_code import ARCHITECTURE, RUNTIME, function_code
from infra.service_queue import ServiceQueue
from infra.stage import staged

METRICS_NAMESPACE = "FifoMessaging"
BATCH_SIZE = 10
MIN_MAX_CONCURRENCY = 2  # the lowest value SQS event sources accept
MAX_MAX_CONCURRENCY = 1000


def metrics_namespace(scope: Construct) -> str:
    """The Powertools metrics namespace of ``scope``'s stage (``FifoMessaging``; ``<stage>-FifoMessaging``)."""
    return staged(scope, METRICS_NAMESPACE)


class ConsumerFunction(Construct):
    """A Lambda function running one handler of the shared ``functions/`` asset.

    The function gets its own IAM role (log writes scoped to its own log group, X-Ray), a log group with retention,
    and the Powertools environment. ``consume(queue)`` attaches the queue with batch item failures reported.
    No reserved concurrency: the event source's maximum concurrency already caps SQS-driven scaling (and, unlike
    reserved concurrency, cannot make Lambda throttle polled batches back to the queue).

    Example:
        >>> fn = ConsumerFunction(stack, "Handler", function_name="orders", handler="orders.handler.lambda_handler",
        ...                       service_name="orders")  # doctest: +SKIP
        >>> fn.consume(orders_queue)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function_name: str,
        handler: str,
        service_name: str,
        timeout: Duration | None = None,
        memory_size: int = 512,
        max_concurrency: int = 5,
        log_level: str = "INFO",
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not MIN_MAX_CONCURRENCY <= max_concurrency <= MAX_MAX_CONCURRENCY:
            raise ValueError(f"max_concurrency must be between {MIN_MAX_CONCURRENCY} and {MAX_MAX_CONCURRENCY}")
        function_name = staged(self, function_name)
        self.function_name = function_name
        self.service_name = service_name
        self.max_concurrency = max_concurrency
        self._reply_to: list[str] = []
        self.timeout = timeout or Duration.seconds(30)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of the {function_name} function (its own resources only)",
        )
        # AWSLambdaBasicExecutionRole, scoped to this function's log group.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=function_code(),
            role=self.role,
            timeout=self.timeout,
            memory_size=memory_size,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            environment={
                "POWERTOOLS_SERVICE_NAME": service_name,
                "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace(self),
                "POWERTOOLS_LOG_LEVEL": log_level,
                **(environment or {}),
            },
        )
        acknowledge(
            self.role,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level "
            "permissions (AWS requires Resource '*'); every other statement of this role names its own resources.",
        )

    @property
    def stack(self) -> Stack:
        """The stack the function lives in."""
        return Stack.of(self)

    def add_environment(self, name: str, value: str) -> None:
        """Set an environment variable (constructs that link a resource call this together with the grant)."""
        self.function.add_environment(name, value)

    def allow_reply_to(self, queue_url: str) -> None:
        """Add ``queue_url`` to the queues this function may reply to (``REPLY_TO_ALLOWLIST``, comma-separated); the
        construct that calls it grants the send."""
        self._reply_to.append(queue_url)
        value = self._reply_to[0] if len(self._reply_to) == 1 else Fn.join(",", self._reply_to)
        self.add_environment("REPLY_TO_ALLOWLIST", value)

    def consume(self, queue: ServiceQueue) -> None:
        """Attach ``queue``: event source (batch 10, batch item failures, max concurrency), consume grant,
        send grant on its DLQ plus ``DEAD_LETTER_QUEUE_URL``, and the queue's visibility timeout from this timeout.

        Example:
            >>> fn.consume(orders_queue)  # doctest: +SKIP
        """
        queue.set_visibility_timeout_for(self.timeout)
        self.function.add_event_source(
            event_sources.SqsEventSource(
                queue.queue,
                batch_size=BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=self.max_concurrency,
            )
        )
        queue.grant_send_dead_letter(self.role)
        self.add_environment("DEAD_LETTER_QUEUE_URL", queue.dead_letter_queue_url)
