"""The system's registry of deployed stacks: each stack writes one SSM parameter naming itself.

The CLI, ``fifo-messaging status`` and any program find the stacks of a stage by reading
``/fifo-messaging/<stage or "default">/stacks`` (``GetParametersByPath``, see :func:`infra.stage.registry_path`)
instead of a hard-coded list, so a service added with ``make service`` is found as soon as it is deployed, and a
stack that is destroyed takes its parameter with it.

Example:
    >>> StackRegistration(stack, "Registration")  # doctest: +SKIP
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.stage import registry_path, stage_of


class StackRegistration(Construct):
    """An SSM String parameter ``<registry path>/<stack name>`` whose value is the stack's name."""

    def __init__(self, scope: Construct, construct_id: str = "Registration") -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.parameter_name = f"{registry_path(stage_of(self))}/{stack.stack_name}"
        self.parameter = ssm.StringParameter(
            self,
            "Parameter",
            parameter_name=self.parameter_name,
            string_value=stack.stack_name,
            description=f"The FIFO messaging system's stack {stack.stack_name} (clients discover the stacks here)",
        )
