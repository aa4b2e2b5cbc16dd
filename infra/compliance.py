"""The cdk-nag AwsSolutions gate: any unacknowledged finding makes synthesis fail."""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_nag_gate(app: App) -> None:
    """Run the AwsSolutions pack over the whole app during synthesis.

    Example:
        >>> app = App()
        >>> add_nag_gate(app)
    """
    Validations.of(app).add_plugins(AwsSolutionsChecks(verbose=True))


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one finding of ``rule`` on ``scope`` (and below) with the reason it is acceptable.

    Example:
        >>> acknowledge(function.role, "AwsSolutions-IAM5[Resource::*]", "X-Ray accepts no resource")  # doctest: +SKIP
    """
    if not reason.strip():
        raise ValueError("an acknowledgement needs a reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
